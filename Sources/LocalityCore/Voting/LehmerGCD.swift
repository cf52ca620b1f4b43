import BigInt

/// Greatest common divisors for exact fractions, faster than the BigInt package's binary one.
///
/// The package uses Stein's algorithm, which walks the numbers a bit at a time and passes over
/// every word of both for each bit. Lehmer's algorithm (Knuth, TAOCP vol. 2, 4.5.2, Algorithm L)
/// works out many steps of Euclid's algorithm from the leading 62 bits alone, in machine words,
/// and applies them to the whole numbers at once: one pass of four single-word multiplications
/// for every thirty or so steps. Once both fit in 128 bits the rest is done in registers.
enum GCD {
    /// gcd(a, b) for non-negative a and b (gcd(0, b) = b).
    static func of(_ a: BigUInt, _ b: BigUInt) -> BigUInt {
        var (x, y) = a >= b ? (a, b) : (b, a)
        while y.words.count > 2 {
            let shift = x.bitWidth - 62
            var xh = leading(x, from: shift), yh = leading(y, from: shift)
            // x̂ + A, x̂ + B, ŷ + C and ŷ + D stay within 0…2^62 (Knuth), so Int64 holds every step.
            var (a, b, c, d): (Int64, Int64, Int64, Int64) = (1, 0, 0, 1)
            while true {
                let yc = yh + c, yd = yh + d
                if yc == 0 || yd == 0 { break }
                let q = (xh + a) / yc
                if q != (xh + b) / yd { break }
                (a, c) = (c, a - q * c)
                (b, d) = (d, b - q * d)
                (xh, yh) = (yh, xh - q * yh)
            }
            if b == 0 {
                // The leading words could not decide one step: take it in full.
                (x, y) = (y, x % y)
            } else {
                (x, y) = (combine(a, x, b, y), combine(c, x, d, y))
            }
        }
        if y.isZero { return x }
        // y fits in 128 bits: one division brings x down too, and the rest runs in registers.
        let last = small(y)
        return BigUInt(words: words(gcd(small(x % y), last)))
    }

    /// p·x + q·y, which Lehmer's cofactors (of opposite signs, or one of them 0) keep non-negative.
    private static func combine(_ p: Int64, _ x: BigUInt, _ q: Int64, _ y: BigUInt) -> BigUInt {
        let px = x.multiplied(byWord: UInt(p.magnitude)), qy = y.multiplied(byWord: UInt(q.magnitude))
        switch (p < 0, q < 0) {
        case (false, false): return px + qy
        case (false, true): return px - qy
        case (true, false): return qy - px
        case (true, true): preconditionFailure("Lehmer's cofactors are never both negative")
        }
    }

    /// The 62 bits of `value` from bit `shift` up (`value` < 2^(shift + 62)).
    private static func leading(_ value: BigUInt, from shift: Int) -> Int64 {
        let words = value.words
        let index = shift / 64, offset = shift % 64
        let low = index < words.count ? UInt64(words[index]) >> offset : 0
        let high = offset > 0 && index + 1 < words.count ? UInt64(words[index + 1]) << (64 - offset) : 0
        return Int64(bitPattern: (low | high) & (1 << 62 - 1))
    }

    private static func small(_ value: BigUInt) -> UInt128 {
        let words = value.words
        return (words.count > 0 ? UInt128(words[0]) : 0) | (words.count > 1 ? UInt128(words[1]) << 64 : 0)
    }

    private static func words(_ value: UInt128) -> [UInt] {
        [UInt(truncatingIfNeeded: value), UInt(truncatingIfNeeded: value >> 64)]
    }

    /// Binary GCD in 128 bits: no division, which is slow at that width; in 64 bits as soon as
    /// both fit, which most do.
    static func gcd(_ a: UInt128, _ b: UInt128) -> UInt128 {
        var (u, v) = (a, b)
        if u == 0 { return v }
        if v == 0 { return u }
        let shift = (u | v).trailingZeroBitCount
        // With u odd, gcd(a, b) = 2^shift · gcd(u, v) whatever powers of two v holds.
        u >>= u.trailingZeroBitCount
        while (u | v) >> 64 != 0 {
            v >>= v.trailingZeroBitCount
            if u > v { swap(&u, &v) }
            v -= u
            if v == 0 { return u << shift }
        }
        return UInt128(gcd(UInt64(truncatingIfNeeded: u), UInt64(truncatingIfNeeded: v))) << shift
    }

    static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var (u, v) = (a, b)
        if u == 0 { return v }
        if v == 0 { return u }
        let shift = (u | v).trailingZeroBitCount
        u >>= u.trailingZeroBitCount
        repeat {
            v >>= v.trailingZeroBitCount
            if u > v { swap(&u, &v) }
            v -= u
        } while v != 0
        return u << shift
    }
}
