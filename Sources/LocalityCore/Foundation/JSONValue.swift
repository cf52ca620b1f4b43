import Foundation

/// Any JSON value, with integers kept exact (pence must never pass through a `Double`).
/// Mutation arguments are held in this form so they can be stored and sent without reshaping.
public enum JSONValue: Hashable, Sendable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The value of an `Encodable` as JSON.
    public init(encoding value: some Encodable) throws {
        self = try JSONValueEncoder().encode(value)
    }

    /// Decodes this JSON into a `Decodable` type.
    public func decode<T: Decodable>(as type: T.Type) throws -> T {
        try JSONValueDecoder().decode(T.self, from: self)
    }

    /// Compact JSON text with sorted keys, so equal values have equal text.
    public var jsonText: String {
        String(decoding: JSONWriter.write(self, sortedKeys: true), as: UTF8.self)
    }
}

/// The JSON conventions shared by storage, the wire and the terminal client: sorted keys and
/// ISO 8601 dates.
public enum JSONCoding {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = dateEncoding
        return encoder
    }

    private static let dateEncoding = JSONEncoder.DateEncodingStrategy.custom { date, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(Timestamps.format(date))
    }

    public static var prettyEncoder: JSONEncoder {
        let encoder = encoder
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }

    /// Parses JSON text and decodes it: the fast path for everything Locality reads (requests,
    /// pulled pages, stored mutations). A parse error becomes a `DecodingError.dataCorrupted`
    /// naming the line and column.
    /// Encodes as compact JSON: the fast path for everything Locality writes (responses, requests,
    /// the outbox). `sortedKeys` when the text is stored and compared.
    public static func encode<T: Encodable>(_ value: T, sortedKeys: Bool = false) throws -> [UInt8] {
        try JSONValueEncoder().write(value, sortedKeys: sortedKeys)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "it is not valid JSON: \(error)", underlyingError: error))
        }
        return try JSONValueDecoder().decode(T.self, from: value)
    }

    /// A decoding error in words a person can act on, naming the field: "'amount' has the wrong type".
    public static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            var text = ""
            for key in context.codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += (text.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return text.isEmpty ? "" : "'\(text)'"
        }
        return switch error {
        case .keyNotFound(let key, let context):
            "\(path(context).isEmpty ? "" : path(context) + ": ")'\(key.stringValue)' is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "\(path(context).isEmpty ? "the body" : path(context)) has the wrong type"
        case .dataCorrupted(let context):
            path(context).isEmpty ? context.debugDescription : "\(path(context)) \(context.debugDescription)"
        @unknown default: "\(error)"
        }
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamps.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "'\(text)' is not an ISO 8601 timestamp")
            }
            return date
        }
        return decoder
    }
}

extension Date {
    /// The one `Date` used for a given millisecond, so equal instants compare equal everywhere.
    public init(milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

/// Timestamps in UTC with millisecond precision: what is stored, sent and shown is the same instant.
///
/// The canonical text is `2026-11-22T21:17:06.134Z`, written and read by hand here because it is
/// on every change's hot path; other ISO 8601 forms are still accepted when parsing.
public enum Timestamps {
    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let plainStyle = Date.ISO8601FormatStyle(timeZone: .gmt)

    public static func format(_ date: Date) -> String {
        let millis = milliseconds(date)
        let (days, msOfDay) = floorDivide(millis, 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        guard (0...9999).contains(year) else { return style.format(date) }
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var position = 0
            func put(_ value: Int, _ width: Int, _ separator: Unicode.Scalar) {
                var rest = value
                for index in stride(from: position + width - 1, through: position, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                buffer[position + width] = UInt8(ascii: separator)
                position += width + 1
            }
            put(year, 4, "-")
            put(month, 2, "-")
            put(day, 2, "T")
            put(Int(msOfDay / 3_600_000), 2, ":")
            put(Int(msOfDay / 60_000 % 60), 2, ":")
            put(Int(msOfDay / 1000 % 60), 2, ".")
            put(Int(msOfDay % 1000), 3, "Z")
            return position
        }
    }

    /// Parses ISO 8601 text into the canonical `Date` for its millisecond (see `milliseconds`).
    public static func parse(_ text: String) -> Date? {
        if let millis = parseCanonical(text) { return Date(milliseconds: millis) }
        guard let date = (try? style.parse(text)) ?? (try? plainStyle.parse(text)) else { return nil }
        // Years of four digits only: Foundation reads "202116-9-30T…" as the year 202116, which
        // could not be written back in this form (found by fuzzing).
        let millis = milliseconds(date)
        guard (0...9999).contains(civil(fromDays: floorDivide(millis, 86_400_000).0).0) else { return nil }
        return Date(milliseconds: millis)
    }

    /// The instant truncated to whole milliseconds, so it survives a round trip through text.
    public static func truncated(_ date: Date) -> Date {
        Date(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// The nearest whole millisecond since 1970: parsing may land a hair either side of it.
    public static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` exactly, or nil.
    private static func parseCanonical(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 24, bytes[4] == 45, bytes[7] == 45, bytes[10] == 84, bytes[13] == 58, bytes[16] == 58,
            bytes[19] == 46, bytes[23] == 90
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            let milli = number(20..<23), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
            second < 60
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Int64(days) * 86_400_000 + Int64(hour * 3_600_000 + minute * 60_000 + second * 1000 + milli)
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value >= 0 ? value / divisor : (value - divisor + 1) / divisor
        return (quotient, value - quotient * divisor)
    }

    /// Howard Hinnant's days-from-civil and its inverse (proleptic Gregorian calendar).
    private static func civil(fromDays days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (month <= 2 ? 1 : 0)), Int(month), Int(day))
    }

    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static let ukDay = Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "Europe/London") ?? .gmt)
        .year().month().day()

    /// `2026-11-22`, the calendar day in UK civil terms (evidence dates, report dates).
    public static func day(_ date: Date) -> String { ukDay.format(date) }
}
