import BigInt

/// An exact fraction, always in lowest terms with a positive denominator, so that equal values
/// are equal and ties between projects are recognised as ties.
///
/// Most values in a participatory-budgeting count fit in 128 bits, and arithmetic on them needs
/// no allocation; a result that would overflow moves to arbitrary precision (`BigInt`) and stays
/// exact. Equal values compare and hash equal whichever form they are in.
public struct Rational: Sendable, Hashable, Comparable, CustomStringConvertible {
    fileprivate enum Storage: Sendable {
        case small(Int128, Int128)
        case big(BigInt, BigInt)
    }

    fileprivate var storage: Storage
    /// The value as a Double, to decide comparisons that are not close without exact arithmetic;
    /// close ones (and any that do not fit a Double) are decided exactly.
    fileprivate var approximation: Double

    public static let zero = Rational(0)
    public static let one = Rational(1)

    public init(_ value: Int) { self.init(storage: .small(Int128(value), 1)) }

    public init(_ value: Int128) { self.init(storage: .small(value, 1)) }

    /// `numerator / denominator`; the denominator must not be zero.
    public init(_ numerator: Int, _ denominator: Int) {
        precondition(denominator != 0, "a fraction with denominator 0")
        self.init(reducing: Int128(numerator), Int128(denominator))
    }

    /// Reads a decimal number exactly: `12`, `-3.5`, `0.125`. Nil for anything else.
    public init?(decimal text: Substring) {
        var digits = text
        var negative = false
        if digits.first == "-" { negative = true; digits = digits.dropFirst() } else if digits.first == "+" { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !(whole.isEmpty && parts.count == 1),
            whole.allSatisfy(\.isASCIIDigit), parts.count == 1 || (!parts[1].isEmpty && parts[1].allSatisfy(\.isASCIIDigit)),
            whole.count + (parts.count > 1 ? parts[1].count : 0) <= 36
        else { return nil }
        let fraction = parts.count > 1 ? parts[1] : ""
        guard let numerator = Int128(String(whole.isEmpty ? "0" : whole) + String(fraction)) else { return nil }
        var denominator: Int128 = 1
        for _ in 0..<fraction.count { denominator *= 10 }
        self.init(reducing: negative ? -numerator : numerator, denominator)
    }

    private init(reducing numerator: Int128, _ denominator: Int128) {
        var (n, d) = (numerator, denominator)
        if d < 0 {
            // -Int128.min overflows; such values go big.
            if n == .min || d == .min {
                self.init(big: BigInt(n), BigInt(d))
                return
            }
            (n, d) = (-n, -d)
        }
        let divisor = GCD.gcd(n.magnitude, d.magnitude)
        if divisor > 1 {
            n /= Int128(divisor)
            d /= Int128(divisor)
        }
        self.init(storage: .small(n, d))
    }

    private init(big numerator: BigInt, _ denominator: BigInt) {
        var (n, d) = (numerator, denominator)
        if d.sign == .minus { (n, d) = (-n, -d) }
        let divisor = BigInt(GCD.of(n.magnitude, d.magnitude))
        if divisor > 1 {
            n /= divisor
            d /= divisor
        }
        self.init(lowestTerms: n, d)
    }

    /// `n/d` already in lowest terms with `d` positive: no common divisor to look for.
    private init(lowestTerms n: BigInt, _ d: BigInt) {
        if let small = Self.small(n), let smallDenominator = Self.small(d) {
            self.init(storage: .small(small, smallDenominator))
        } else {
            self.init(storage: .big(n, d))
        }
    }

    private var bigParts: (BigInt, BigInt) {
        switch storage {
        case .small(let n, let d): (Self.big(n), Self.big(d))
        case .big(let n, let d): (n, d)
        }
    }

    /// Int128 → BigInt from its two words (the generic conversion is slow).
    private static func big(_ value: Int128) -> BigInt {
        let magnitude = value.magnitude
        let words = BigUInt(words: [UInt(truncatingIfNeeded: magnitude), UInt(truncatingIfNeeded: magnitude >> 64)])
        return BigInt(sign: value < 0 ? .minus : .plus, magnitude: words)
    }

    /// BigInt → Int128 when it fits, from its words.
    private static func small(_ value: BigInt) -> Int128? {
        let magnitude = value.magnitude
        guard magnitude.bitWidth <= 127 else { return nil }
        let words = magnitude.words
        let low = words.count > 0 ? UInt128(words[0]) : 0
        let high = words.count > 1 ? UInt128(words[1]) << 64 : 0
        let result = Int128(low | high)
        return value.sign == .minus ? -result : result
    }

    public var isZero: Bool {
        if case .small(let n, _) = storage { return n == 0 }
        return false
    }

    public var isNegative: Bool {
        switch storage {
        case .small(let n, _): n < 0
        case .big(let n, _): n.sign == .minus && !n.isZero
        }
    }

    /// The value rounded towards zero.
    public var truncated: BigInt {
        let (n, d) = bigParts
        return n / d
    }

    /// An approximation, for display and timing only: never for deciding anything.
    public var doubleValue: Double { approximation }

    public var description: String {
        switch storage {
        case .small(let n, let d): d == 1 ? "\(n)" : "\(n)/\(d)"
        case .big(let n, let d): d == 1 ? "\(n)" : "\(n)/\(d)"
        }
    }

    /// The value as a decimal with `places` digits after the point, rounded half away from zero.
    public func decimal(places: Int) -> String {
        var (n, d) = bigParts
        let negative = n.sign == .minus && !n.isZero
        n = BigInt(n.magnitude)
        var scale = BigInt(1)
        for _ in 0..<places { scale *= 10 }
        let scaled = (n * scale * 2 + d) / (d * 2)
        let whole = scaled / scale
        let fraction = String(scaled % scale)
        let padded = String(repeating: "0", count: max(0, places - fraction.count)) + fraction
        return (negative && !scaled.isZero ? "-" : "") + "\(whole)" + (places > 0 ? "." + padded : "")
    }

    public static func == (lhs: Rational, rhs: Rational) -> Bool {
        switch (lhs.storage, rhs.storage) {
        case (.small(let a, let b), .small(let c, let d)): a == c && b == d
        // Both in lowest terms, and a value that fits is always kept small: big never equals small.
        case (.big(let a, let b), .big(let c, let d)): a == c && b == d
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch storage {
        case .small(let n, let d):
            hasher.combine(n)
            hasher.combine(d)
        case .big(let n, let d):
            hasher.combine(n)
            hasher.combine(d)
        }
    }

    public static func < (lhs: Rational, rhs: Rational) -> Bool {
        let (a, b) = (lhs.approximation, rhs.approximation)
        // Each approximation is within a few units in the last place of the exact value, so a
        // relative gap far wider than that decides the comparison.
        if a.isFinite && b.isFinite && abs(a - b) > 1e-9 * max(abs(a), abs(b)) { return a < b }
        return exactlyLess(lhs, rhs)
    }

    static func exactlyLess(_ lhs: Rational, _ rhs: Rational) -> Bool {
        if case .small(let a, let b) = lhs.storage, case .small(let c, let d) = rhs.storage {
            if b == d { return a < c }
            let (left, leftOverflow) = a.multipliedReportingOverflow(by: d)
            let (right, rightOverflow) = c.multipliedReportingOverflow(by: b)
            if !leftOverflow && !rightOverflow { return left < right }
        }
        let (a, b) = lhs.bigParts
        let (c, d) = rhs.bigParts
        return a * d < c * b
    }

    public static func + (lhs: Rational, rhs: Rational) -> Rational {
        if case .small(let a, let b) = lhs.storage, case .small(let c, let d) = rhs.storage {
            if b == d {
                let (sum, overflow) = a.addingReportingOverflow(c)
                if !overflow { return b == 1 ? Rational(sum) : Rational(reducing: sum, b) }
            } else {
                let (ad, o1) = a.multipliedReportingOverflow(by: d)
                let (cb, o2) = c.multipliedReportingOverflow(by: b)
                let (bd, o3) = b.multipliedReportingOverflow(by: d)
                if !o1 && !o2 && !o3 {
                    let (sum, o4) = ad.addingReportingOverflow(cb)
                    if !o4 { return Rational(reducing: sum, bd) }
                }
            }
        }
        // Knuth's way (TAOCP 4.5.1): the common divisor of the two denominators first, which is
        // smaller work than that of the full sum's parts, and usually 1 or small.
        let (a, b) = lhs.bigParts
        let (c, d) = rhs.bigParts
        let d1 = BigInt(GCD.of(b.magnitude, d.magnitude))
        if d1 == 1 { return Rational(lowestTerms: a * d + c * b, b * d) }
        let t = a * (d / d1) + c * (b / d1)
        if t.isZero { return .zero }
        let d2 = BigInt(GCD.of(t.magnitude, d1.magnitude))
        return Rational(lowestTerms: t / d2, (b / d1) * (d / d2))
    }

    public static prefix func - (value: Rational) -> Rational {
        switch value.storage {
        case .small(let n, let d) where n != .min:
            return Rational(storage: .small(-n, d))
        default:
            let (n, d) = value.bigParts
            return Rational(big: -n, d)
        }
    }

    public static func - (lhs: Rational, rhs: Rational) -> Rational { lhs + -rhs }

    public static func * (lhs: Rational, rhs: Rational) -> Rational {
        if case .small(let a, let b) = lhs.storage, case .small(let c, let d) = rhs.storage {
            let (ac, o1) = a.multipliedReportingOverflow(by: c)
            let (bd, o2) = b.multipliedReportingOverflow(by: d)
            if !o1 && !o2 { return Rational(reducing: ac, bd) }
        }
        let (a, b) = lhs.bigParts
        let (c, d) = rhs.bigParts
        return Rational(big: a * c, b * d)
    }

    public static func / (lhs: Rational, rhs: Rational) -> Rational {
        precondition(!rhs.isZero, "division by zero")
        switch rhs.storage {
        case .small(let c, let d): return lhs * Rational(reducing: d, c)
        case .big(let c, let d): return lhs * Rational(big: d, c)
        }
    }

    /// `self × count`, the common case of many voters paying the same.
    public func times(_ count: Int) -> Rational { self * Rational(count) }

    public static func += (lhs: inout Rational, rhs: Rational) { lhs = lhs + rhs }
    public static func -= (lhs: inout Rational, rhs: Rational) { lhs = lhs - rhs }

    private init(storage: Storage) {
        self.storage = storage
        switch storage {
        case .small(let n, let d): approximation = d == 1 ? Self.double(n) : Self.double(n) / Self.double(d)
        case .big(let n, let d): approximation = Self.ratio(n, d)
        }
    }

    /// The generic Int128 → Double conversion is slow; this is two word conversions.
    @inline(__always)
    private static func double(_ value: Int128) -> Double {
        if let small = Int64(exactly: value) { return Double(small) }
        return Double(Int64(truncatingIfNeeded: value >> 64)) * 18_446_744_073_709_551_616.0 + Double(UInt64(truncatingIfNeeded: value))
    }

    /// n / d as a Double even when n and d are beyond a Double's range: from the top two words
    /// of each, which is all a Double can hold.
    private static func ratio(_ n: BigInt, _ d: BigInt) -> Double {
        func parts(_ value: BigUInt) -> (Double, Int) {
            let words = value.words
            let count = words.count
            guard count > 0 else { return (0, 0) }
            let top = Double(words[count - 1]) * 18_446_744_073_709_551_616.0 + (count > 1 ? Double(words[count - 2]) : 0)
            return (top, 64 * (count - 2))
        }
        let (numerator, numeratorExponent) = parts(n.magnitude)
        let (denominator, denominatorExponent) = parts(d.magnitude)
        guard denominator != 0 else { return .nan }
        let value = Double(sign: .plus, exponent: numeratorExponent - denominatorExponent, significand: numerator / denominator)
        return n.sign == .minus ? -value : value
    }
}
