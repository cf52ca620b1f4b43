import Foundation
import LocalityCore

enum Output {
    /// Pretty JSON with sorted keys, ids as lowercase text (as the protocol writes them), money as
    /// integer pence.
    static func json(_ value: some Encodable) throws {
        print(JSONWriter.pretty(try JSONValueEncoder().encode(value)))
    }

    /// A plain text table: columns padded to their widest cell, a header underlined.
    static func table(_ header: [String], _ rows: [[String]]) {
        guard !rows.isEmpty else { return }
        for line in TextTable.lines(header, rows) { print(line) }
    }

    static func field(_ label: String, _ value: String?) {
        guard let value, !value.isEmpty else { return }
        print("\(label.padding(toLength: 16, withPad: " ", startingAt: 0))\(value)")
    }

    static func day(_ date: Date) -> String { Timestamps.day(date) }

    /// "1 change", "2 changes": a count with its noun, singular or plural.
    static func count(_ value: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(value) \(value == 1 ? singular : plural ?? singular + "s")"
    }

    static func moment(_ date: Date) -> String {
        date.formatted(
            Date.VerbatimFormatStyle(
                format: "\(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits)",
                locale: Locale(identifier: "en_GB"),
                timeZone: TimeZone(identifier: "Europe/London") ?? .gmt,
                calendar: Calendar(identifier: .gregorian)))
    }

    /// A one-line summary of a mutation, for the outbox and the dashboard.
    static func describe(_ mutation: Mutation) -> String {
        func string(_ key: String) -> String? {
            if case .object(let fields) = mutation.arguments, case .string(let value)? = fields[key] { return value }
            return nil
        }
        let subject = string("title") ?? string("needId").map { "need …" + $0.suffix(8) }
            ?? string("proposalId").map { "proposal …" + $0.suffix(8) } ?? ""
        return subject.isEmpty ? mutation.name.rawValue : "\(mutation.name.rawValue)  \(subject)"
    }
}

extension String {
    /// Shortens to `width` characters with an ellipsis.
    func clipped(_ width: Int) -> String { count <= width ? self : String(prefix(width - 1)) + "…" }
}

/// Everything this program prints goes through here: a control or text-direction character in
/// data (from an older server, or a file) is shown as its code, never sent to the terminal.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Swift.print(TerminalText.safe(items.map { "\($0)" }.joined(separator: separator)), terminator: terminator)
}
