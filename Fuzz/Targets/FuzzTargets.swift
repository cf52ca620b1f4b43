import Foundation
import LocalityCore

/// A property a parser broke: not a refusal (refusing bad input is the parser's job) but an answer
/// that contradicts itself, such as a value that does not survive being written and read again.
public struct FuzzFailure: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Every parser that takes input from outside, as a function of arbitrary bytes. Each must refuse
/// what it cannot read with an error and never crash, hang or corrupt memory (libFuzzer with the
/// address sanitizer checks that); where a parser has a writer, what it reads must survive a round
/// trip (checked here, reported as a `FuzzFailure`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `JSONParser`: request bodies, pulled pages, stored mutations.
    case json
    /// A push request body, decoded and each mutation's arguments decoded into its command, as the
    /// server does before it takes the write lock.
    case push
    /// A Pabulib file (`locality-sync vote import`, `locality-bench rules`), then counted under every rule.
    case pabulib
    /// The ONS ward-to-parish lookup (`locality-sync geography import`).
    case onsParishes = "ons-parishes"
    /// The ONS electoral-division lookup.
    case onsDivisions = "ons-divisions"
    /// A file of organisations (`locality-sync org import`).
    case organisations
    /// RFC 4180 records, under every CSV reader.
    case csv
    /// Sums of money as a person types them (`£1,250.50`).
    case money
    /// Timestamps, financial years, hybrid logical clock stamps and UUIDs as they arrive on the wire.
    case dates

    public var summary: String {
        switch self {
        case .json: "JSON text (request bodies, pages, the outbox)"
        case .push: "a push request body and each mutation's arguments"
        case .pabulib: "a Pabulib file, then counted under every rule"
        case .onsParishes: "the ONS ward-to-parish lookup CSV"
        case .onsDivisions: "the ONS electoral-division lookup CSV"
        case .organisations: "a file of organisations (CSV)"
        case .csv: "RFC 4180 records"
        case .money: "a sum of money as typed"
        case .dates: "timestamps, financial years, clock stamps, UUIDs"
        }
    }

    public func run(_ bytes: [UInt8]) throws(FuzzFailure) {
        switch self {
        case .json: try Self.json(bytes)
        case .push: Self.push(bytes)
        case .pabulib: Self.pabulib(bytes)
        case .onsParishes: _ = try? ONSParishLookup.parse(Self.text(bytes))
        case .onsDivisions: _ = try? ONSDivisionLookup.parse(Self.text(bytes))
        case .organisations: _ = try? OrganisationFile.parse(Self.text(bytes))
        case .csv: _ = try? CSV.records(Self.text(bytes))
        case .money: try Self.money(Self.text(bytes))
        case .dates: try Self.dates(Self.text(bytes))
        }
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    private static func json(_ bytes: [UInt8]) throws(FuzzFailure) {
        guard let value = try? JSONParser.parse(bytes) else { return }
        // What the writer makes of a parsed value, the parser reads back as the same value.
        let written = JSONWriter.write(value, sortedKeys: true)
        guard let again = try? JSONParser.parse(written) else {
            throw FuzzFailure("the parser refused what the writer wrote: \(String(decoding: written, as: UTF8.self))")
        }
        guard same(value, again) else {
            throw FuzzFailure("a value changed in a round trip: \(value) became \(again)")
        }
    }

    /// Equal as JSON values: a whole-valued double and the integer it equals are the same number
    /// (the writer may print one where the parser then reads the other). JSON has no NaN.
    private static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.double(let x), .double(let y)): x == y
        case (.double(let x), .int(let y)), (.int(let y), .double(let x)): x == Double(y)
        case (.array(let x), .array(let y)): x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            x.count == y.count && x.allSatisfy { key, value in y[key].map { same(value, $0) } ?? false }
        default: a == b
        }
    }

    private static func push(_ bytes: [UInt8]) {
        guard let request = try? JSONCoding.decode(PushRequest.self, from: bytes) else { return }
        for mutation in request.mutations { _ = try? mutation.name.command(arguments: mutation.arguments) }
    }

    private static func pabulib(_ bytes: [UInt8]) {
        guard let instance = try? Pabulib.parse(text(bytes)), let election = try? instance.election() else { return }
        for rule in AllocationRule.allCases {
            _ = try? AllocationRules.allocate(election, rule: rule, limit: CountLimit(steps: 2_000_000))
        }
    }

    private static func money(_ text: String) throws(FuzzFailure) {
        guard let money = try? Money(parsing: text) else { return }
        guard money.pence >= 0, money <= Money.maximum else { throw FuzzFailure("'\(text)' parsed to \(money.pence) pence") }
        guard let again = try? Money(parsing: money.description), again == money else {
            throw FuzzFailure("'\(text)' parsed to \(money.pence) pence, written \(money.description), which does not read back")
        }
    }

    private static func dates(_ text: String) throws(FuzzFailure) {
        if let date = Timestamps.parse(text) {
            let written = Timestamps.format(date)
            guard Timestamps.parse(written) == date else { throw FuzzFailure("timestamp '\(text)' written '\(written)' reads back differently") }
        }
        if let year = try? FinancialYear(parsing: text) {
            guard (try? FinancialYear(parsing: year.description)) == year else { throw FuzzFailure("financial year '\(text)' does not round-trip") }
        }
        if let stamp = try? HLCTimestamp(parsing: text) {
            guard (try? HLCTimestamp(parsing: stamp.description)) == stamp else { throw FuzzFailure("clock stamp '\(text)' does not round-trip") }
        }
        if let id = UUID(key: text) {
            guard UUID(key: id.key) == id else { throw FuzzFailure("UUID '\(text)' does not round-trip") }
        }
    }
}
