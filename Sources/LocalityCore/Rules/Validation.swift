import Foundation

/// Checks on what people type, shared by every mutation.
enum Validate {
    static let maxTitle = 200
    static let maxText = 20_000

    /// A required one-line text: trimmed, not empty, not too long.
    static func title(_ value: String, field: String = "title") throws -> String {
        let trimmed = value.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw LocalityError.invalid("a \(field) is required") }
        // Printable ASCII (most titles) has one character a byte and no line break: nothing to count.
        if trimmed.utf8.count <= maxTitle, trimmed.utf8.allSatisfy({ (0x20..<0x7F).contains($0) }) { return trimmed }
        guard trimmed.count <= maxTitle else {
            throw LocalityError.invalid("the \(field) is \(trimmed.count) characters; at most \(maxTitle) are allowed")
        }
        guard !trimmed.contains(where: \.isNewline) else {
            throw LocalityError.invalid("the \(field) must be a single line")
        }
        return trimmed
    }

    /// Free text: trimmed, may be empty, bounded.
    static func text(_ value: String, field: String) throws -> String {
        let trimmed = value.trimmingWhitespace()
        // A string has no more characters than UTF-8 bytes: a short one need not be counted.
        guard trimmed.utf8.count <= maxText || trimmed.count <= maxText else {
            throw LocalityError.invalid("the \(field) is \(trimmed.count) characters; at most \(maxText) are allowed")
        }
        return trimmed
    }

    /// An optional short label; empty means none.
    static func label(_ value: String?, field: String) throws -> String? {
        guard let value else { return nil }
        let trimmed = value.trimmingWhitespace()
        return trimmed.isEmpty ? nil : try title(trimmed, field: field)
    }

    static func severity(_ value: Int) throws -> Int {
        guard (1...5).contains(value) else {
            throw LocalityError.invalid("severity must be from 1 (minor) to 5 (severe), not \(value)")
        }
        return value
    }

    static func peopleAffected(_ value: Int?) throws -> Int? {
        guard let value else { return nil }
        guard (0...100_000_000).contains(value) else {
            throw LocalityError.invalid("people affected must be a count from 0 to 100,000,000, not \(value)")
        }
        return value
    }

    static func location(latitude: Double?, longitude: Double?) throws {
        switch (latitude, longitude) {
        case (nil, nil): return
        case (let lat?, let lon?):
            guard lat.isFinite, (-90...90).contains(lat) else {
                throw LocalityError.invalid("latitude must be between -90 and 90, not \(lat)")
            }
            guard lon.isFinite, (-180...180).contains(lon) else {
                throw LocalityError.invalid("longitude must be between -180 and 180, not \(lon)")
            }
        default:
            throw LocalityError.invalid("a location needs both a latitude and a longitude")
        }
    }

    /// A calendar day written `2026-11-20`, not after `today` (evidence cannot come from the future).
    static func day(_ value: String, notAfter today: Date) throws -> String {
        let text = try day(value, field: "date")
        // A day's worth of grace for devices whose clocks or time zones differ.
        let tomorrow = Timestamps.day(today.addingTimeInterval(86_400))
        guard text <= tomorrow else { throw LocalityError.invalid("the date \(text) is in the future") }
        return text
    }

    /// A calendar day written `2026-11-20`, past or future.
    static func day(_ value: String, field: String) throws -> String {
        let text = value.trimmingWhitespace()
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else {
            throw LocalityError.invalid("the \(field) '\(value)' is not a date; write it like 2026-11-20")
        }
        return text
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func amount(_ money: Money) throws -> Money {
        guard money.pence > 0 else { throw LocalityError.invalid("the amount must be more than £0.00, not \(money)") }
        guard money <= Money.maximum else {
            throw LocalityError.invalid("the amount \(money) is larger than the largest sum accepted (\(Money.maximum))")
        }
        return money
    }

    /// A slug as people type it: lower-case letters, digits and dashes.
    static func slug(_ value: String) throws -> String {
        let text = value.trimmingWhitespace().lowercased()
        guard !text.isEmpty, text.count <= 80, text.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }),
            !text.hasPrefix("-"), !text.hasSuffix("-")
        else {
            throw LocalityError.invalid("'\(value)' is not a slug: use lower-case letters, digits and dashes, like north-2027-28")
        }
        return text
    }

    /// A figure: finite.
    static func figure(_ value: Double?, field: String) throws -> Double? {
        guard let value else { return nil }
        guard value.isFinite, abs(value) < 1e15 else { throw LocalityError.invalid("the \(field) must be a finite number") }
        return value
    }
}
