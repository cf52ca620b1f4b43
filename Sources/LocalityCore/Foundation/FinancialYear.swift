/// A UK council financial year, 1 April to 31 March, written `2026/27`.
public struct FinancialYear: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The calendar year in which the financial year starts (2026 for `2026/27`).
    public let startYear: Int

    public init(startYear: Int) { self.startYear = startYear }

    /// Accepts `2026/27` (and `2026-27`); refuses a second year that does not follow the first.
    public init(parsing input: String) throws {
        let text = input.trimmingWhitespace()
        let parts = text.split(whereSeparator: { $0 == "/" || $0 == "-" })
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
            let start = Int(parts[0]), let end = Int(parts[1]), parts.joined().allSatisfy(\.isASCIIDigit)
        else {
            throw LocalityError.invalid("'\(input)' is not a financial year; write it like 2026/27")
        }
        // A year before 1900 is a typing slip (`0226-27`), and could not be written back as four digits.
        guard (1900...2999).contains(start) else {
            throw LocalityError.invalid("'\(input)' is not a financial year a council would budget for; write it like 2026/27")
        }
        guard (start + 1) % 100 == end else {
            throw LocalityError.invalid("'\(input)' is not a financial year: \(start) is followed by \(String(format: "%02d", (start + 1) % 100))")
        }
        self.startYear = start
    }

    public var description: String {
        let end = (startYear + 1) % 100
        return "\(startYear)/\(end < 10 ? "0" : "")\(end)"
    }

    public static func < (lhs: FinancialYear, rhs: FinancialYear) -> Bool { lhs.startYear < rhs.startYear }

    /// Its first and last days, `2026-04-01` and `2027-03-31`.
    public var firstDay: String { "\(startYear)-04-01" }
    public var lastDay: String { "\(startYear + 1)-03-31" }

    /// Whether the day (`YYYY-MM-DD`) falls in this year.
    public func contains(day: String) -> Bool { day >= firstDay && day <= lastDay }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
