/// A sum of money in pounds sterling, held as integer pence. Never a floating-point number.
public struct Money: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var pence: Int64

    public init(pence: Int64) { self.pence = pence }

    public static let zero = Money(pence: 0)

    /// Largest sum a person may type: £100bn. Far beyond any locality budget, far below overflow.
    public static let maximum = Money(pence: 10_000_000_000_000)

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.pence < rhs.pence }
    public static func + (lhs: Money, rhs: Money) -> Money { Money(pence: lhs.pence + rhs.pence) }
    public static func - (lhs: Money, rhs: Money) -> Money { Money(pence: lhs.pence - rhs.pence) }

    /// Encodes as a bare integer of pence, so JSON readers never see a float.
    public init(from decoder: any Decoder) throws {
        pence = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(pence)
    }

    /// Parses what a person types: `£1,250.50`, `1250.5`, `1250`, `£0.75`.
    ///
    /// Thousands separators must be in the right places, at most two decimal places are allowed,
    /// and negative or absurdly large sums are refused with a message that says which.
    public init(parsing input: String) throws {
        var text = Substring(input.trimmingWhitespace())
        let original = input.trimmingWhitespace()
        guard !text.isEmpty else { throw LocalityError.invalid("an amount of money is required, e.g. £1,250.50") }
        if text.hasPrefix("-") {
            throw LocalityError.invalid("'\(original)' is negative; a sum of money here must be positive")
        }
        if text.hasPrefix("£") { text = text.dropFirst() }
        guard !text.isEmpty else { throw LocalityError.invalid("'\(original)' has no amount after the £ sign") }

        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            throw LocalityError.invalid("'\(original)' is not a sum of money: more than one decimal point")
        }
        let whole = parts[0]
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !whole.isEmpty || !fraction.isEmpty else {
            throw LocalityError.invalid("'\(original)' is not a sum of money")
        }
        guard fraction.allSatisfy(\.isASCIIDigit) else {
            throw LocalityError.invalid("'\(original)' is not a sum of money, e.g. £1,250.50")
        }
        guard fraction.count <= 2 else {
            throw LocalityError.invalid("'\(original)' has more than two decimal places; the smallest unit is a penny")
        }
        if parts.count == 2 && fraction.isEmpty {
            throw LocalityError.invalid("'\(original)' ends with a decimal point; write \(whole) or \(whole).00")
        }

        let digits = try Self.wholePounds(whole, original: original)
        guard digits.count <= 12 else {
            throw LocalityError.invalid("'\(original)' is larger than the largest sum accepted (\(Money.maximum))")
        }
        let pounds = Int64(digits.isEmpty ? "0" : digits)!
        let pennies = Int64(fraction.isEmpty ? "0" : (fraction.count == 1 ? fraction + "0" : String(fraction)))!
        let total = pounds * 100 + pennies
        guard total <= Money.maximum.pence else {
            throw LocalityError.invalid("'\(original)' is larger than the largest sum accepted (\(Money.maximum))")
        }
        self.pence = total
    }

    /// The digits of the pounds part, with thousands separators checked and removed.
    private static func wholePounds(_ whole: Substring, original: String) throws -> String {
        guard whole.contains(",") else {
            guard whole.allSatisfy(\.isASCIIDigit) else {
                throw LocalityError.invalid("'\(original)' is not a sum of money, e.g. £1,250.50")
            }
            return String(whole)
        }
        let groups = whole.split(separator: ",", omittingEmptySubsequences: false)
        let wellFormed = groups.allSatisfy { $0.allSatisfy(\.isASCIIDigit) }
            && (1...3).contains(groups[0].count)
            && groups.dropFirst().allSatisfy { $0.count == 3 }
        guard wellFormed else {
            throw LocalityError.invalid("'\(original)' has thousands separators in the wrong places, e.g. £1,250.50")
        }
        return groups.joined()
    }

    /// `£1,250.50`; negative sums as `-£12.00`.
    public var description: String {
        let magnitude = pence.magnitude
        let pounds = magnitude / 100
        let pennies = magnitude % 100
        var grouped = ""
        let digits = Array(String(pounds))
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        let sign = pence < 0 ? "-" : ""
        return "\(sign)£\(grouped).\(pennies < 10 ? "0" : "")\(pennies)"
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        // Most text begins and ends with a printable ASCII character: then nothing is trimmed, and
        // no grapheme need be found (a character that begins or ends with one is not whitespace).
        if let first = utf8.first, let last = utf8.last, (0x21..<0x7F).contains(first), (0x21..<0x7F).contains(last) {
            return self
        }
        return self[...].trimmingWhitespace()
    }
}
