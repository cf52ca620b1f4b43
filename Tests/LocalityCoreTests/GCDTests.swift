import BigInt
import Foundation
@testable import LocalityCore
import Testing

/// Lehmer's GCD, which every exact fraction in a count reduces with, against the BigInt package's
/// own (Stein's): the same answer on random numbers of every size, on numbers built with a large
/// common factor, and on the cases that stress it most.
@Suite struct GCDTests {
    static func random(words: Int, _ generator: inout SeededGenerator) -> BigUInt {
        var value = BigUInt(words: (0..<words).map { _ in UInt.random(in: 0 ... .max, using: &generator) })
        // Now and then a number whose leading word is tiny, or with long runs of zero bits.
        if Int.random(in: 0..<4, using: &generator) == 0 { value >>= Int.random(in: 1..<64, using: &generator) }
        if Int.random(in: 0..<4, using: &generator) == 0 { value <<= Int.random(in: 1..<200, using: &generator) }
        return value
    }

    @Test func agreesWithBinaryGCDOnRandomNumbersOfEverySize() {
        let seed = ProcessInfo.processInfo.environment["LOCALITY_SEED"].flatMap(UInt64.init) ?? 16
        var generator = SeededGenerator(seed: seed)
        for round in 0..<3_000 {
            let common = Self.random(words: Int.random(in: 0...3, using: &generator), &generator) + 1
            let a = Self.random(words: Int.random(in: 0...8, using: &generator), &generator) * common
            let b = Self.random(words: Int.random(in: 0...8, using: &generator), &generator) * (round % 2 == 0 ? common : 1)
            let expected = a.greatestCommonDivisor(with: b)
            let got = GCD.of(a, b)
            #expect(got == expected, "seed \(seed) round \(round): gcd(\(a), \(b)) is \(expected), not \(got)")
            if got != expected { return }
        }
    }

    @Test func agreesInRegistersFrom0To128Bits() {
        var generator = SeededGenerator(seed: 128)
        for round in 0..<20_000 {
            let widths = (Int.random(in: 0...128, using: &generator), Int.random(in: 0...128, using: &generator))
            let common = UInt128.random(in: 1...(1 << Int.random(in: 1...40, using: &generator)), using: &generator)
            func draw(_ bits: Int) -> UInt128 { bits == 0 ? 0 : UInt128.random(in: 0 ... .max, using: &generator) >> (128 - bits) }
            let (a, b) = (draw(widths.0) / common * common, draw(widths.1) / common * common)
            let expected = BigUInt(words: [UInt(truncatingIfNeeded: a), UInt(truncatingIfNeeded: a >> 64)])
                .greatestCommonDivisor(with: BigUInt(words: [UInt(truncatingIfNeeded: b), UInt(truncatingIfNeeded: b >> 64)]))
            let got = GCD.gcd(a, b)
            #expect(BigUInt(words: [UInt(truncatingIfNeeded: got), UInt(truncatingIfNeeded: got >> 64)]) == expected, "round \(round): gcd(\(a), \(b))")
            if BigUInt(words: [UInt(truncatingIfNeeded: got), UInt(truncatingIfNeeded: got >> 64)]) != expected { return }
        }
    }

    @Test func handlesTheHardCases() {
        // Consecutive Fibonacci numbers take the most steps of all (quotient 1 every time).
        var (f, g) = (BigUInt(1), BigUInt(1))
        for _ in 0..<600 { (f, g) = (g, f + g) }
        #expect(GCD.of(g, f) == 1 && GCD.of(f, g) == 1)
        #expect(GCD.of(g * 977, f * 977) == 977)
        let big = BigUInt(1) << 300 - 1
        #expect(GCD.of(big, 0) == big && GCD.of(0, big) == big && GCD.of(0, 0) == 0)
        #expect(GCD.of(big, big) == big)
        #expect(GCD.of(BigUInt(1) << 400, BigUInt(1) << 333) == BigUInt(1) << 333)
        #expect(GCD.of(big * big, big) == big)
        #expect(GCD.of(big, big - 1) == 1)
        // In registers: equal values past 64 bits, one of them zero, powers of two.
        let wide = UInt128(UInt64.max) * 3 + 12
        #expect(GCD.gcd(wide, wide) == wide && GCD.gcd(wide, 0) == wide && GCD.gcd(0, wide) == wide)
        #expect(GCD.gcd(UInt128(1) << 100, UInt128(1) << 70) == UInt128(1) << 70)
        #expect(GCD.gcd(wide * 2, wide) == wide)
    }
}
