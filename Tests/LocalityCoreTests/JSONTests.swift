import Foundation
import Testing

@testable import LocalityCore

/// The hand-written JSON reader, writer and coders that carry every request, page and outbox
/// entry: they must agree with Foundation's on valid input and refuse bad input with a place.
@Suite("JSON: parser, writer and coders")
struct JSONTests {
    /// The wire types that write their own JSON on the hot paths write what their `Encodable`
    /// conformances would: the same members, the same values, nothing missing or extra.
    @Test func handWrittenWireJSONSaysWhatTheCodersWould() throws {
        func same<T: Encodable>(_ value: T, _ name: String) throws {
            let fast = try JSONParser.parse(JSONCoding.encode(value))
            let generic = try JSONParser.parse(JSONValueEncoder().write(value, sortedKeys: true))
            #expect(fast == generic, "\(name): hand-written \(fast.jsonText) against the coders' \(generic.jsonText)")
        }
        let id = UUID(uuidString: "0199A6F0-0000-7000-8000-0000000000A1")!
        let applied = MutationResult(sequence: 7, mutationId: id, outcome: .applied, changeSequence: 1_043, error: nil)
        let rejected = MutationResult(
            sequence: 8, mutationId: id, outcome: .rejected, changeSequence: nil,
            error: LocalityError(.insufficientFunds, "only £1,250.00 is uncommitted in \"North\" — ask for less"))
        try same(PushResponse(results: [applied, rejected], lastAppliedSequence: 8, epoch: "e1"), "a push's answer")
        try same(PushResponse(results: [], lastAppliedSequence: 0), "an empty answer without an epoch")
        let page = PullResponse(
            changes: [
                RowChange(table: "need", key: id.key, sequence: 3, deleted: false, row: ["id": .string(id.key), "severity": .int(4)]),
                RowChange(table: "need", key: "gone", sequence: 4, deleted: true, row: nil),
            ],
            cursor: 4, more: true, scope: "s", epoch: "e", head: 9, applied: 2, maxLimit: 2_000)
        try same(page, "a page in rows")
        try same(page.inColumns(), "a page in columns")
    }

    @Test func parsesEveryKindOfValueAndKeepsIntegersExact() throws {
        let text = #"""
            {"a": [1, -2, 0, 9223372036854775807, -9223372036854775808, 1.5, -0.25, 1e3, 2E-2],
             "b": true, "c": false, "d": null, "e": "plain", "f": "esc\"aped\\ \/ \n\t\r\b\f \u00e9 \ud83d\ude00",
             "g": {}, "h": [], "é": "ünïcödé"}
            """#
        let value = try JSONParser.parse(text)
        guard case .object(let members) = value, case .array(let numbers)? = members["a"] else {
            Issue.record("not an object with an array: \(value)")
            return
        }
        #expect(numbers == [.int(1), .int(-2), .int(0), .int(.max), .int(.min), .double(1.5), .double(-0.25), .double(1000), .double(0.02)])
        #expect(members["b"] == .bool(true) && members["c"] == .bool(false) && members["d"] == .null)
        #expect(members["f"] == .string("esc\"aped\\ / \n\t\r\u{8}\u{C} é 😀"))
        #expect(members["g"] == .object([:]) && members["h"] == .array([]))
        #expect(members["é"] == .string("ünïcödé"))
        // Beyond 64 bits a whole number is still a number, as a Double.
        #expect(try JSONParser.parse("9223372036854775808") == .double(9.223372036854775808e18))
        #expect(try JSONParser.parse("-9223372036854775809") == .double(-9.223372036854775808e18))
    }

    @Test(arguments: [
        ("", "the JSON ends where a value was expected", 1, 1),
        ("{\"a\": 1,}", "expected a quoted member name", 1, 9),
        ("[1, 2", "the JSON ends inside an array", 1, 6),
        ("{\"a\" 1}", "expected ':' after the member name \"a\"", 1, 6),
        ("[1]\n x", "unexpected text after the end of the JSON value", 2, 2),
        ("\"abc", "the JSON ends inside a string", 1, 1),
        ("\"a\tb\"", "a control character must be escaped inside a string", 1, 3),
        ("\"\\x\"", "an invalid escape '\\x' in a string", 1, 2),
        ("\"\\ud800\"", "an unpaired surrogate in a \\u escape", 1, 8),
        ("01", "a number may not start with 0", 1, 1),
        ("1.", "a number needs digits after its decimal point", 1, 1),
        ("-", "a number needs digits", 1, 1),
        ("1e999", "the number 1e999 is out of range", 1, 1),
        ("tru", "the JSON ends inside 'true'", 1, 1),
        ("nul!", "unexpected character where 'null' was expected", 1, 4),
        ("{'a': 1}", "expected a quoted member name", 1, 2),
    ])
    func refusesMalformedTextSayingWhereAndWhy(text: String, message: String, line: Int, column: Int) {
        #expect(throws: JSONParseError(message: message, line: line, column: column)) { try JSONParser.parse(text) }
    }

    @Test func refusesInvalidUTF8AndNestingTooDeepToBeReal() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError(message: "the JSON nests deeper than 256 levels", line: 1, column: 257)) {
            try JSONParser.parse(deep)
        }
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { try JSONParser.parse(fine) }
    }

    @Test func writtenTextParsesBackToTheSameValueAndFoundationAgrees() throws {
        let value: JSONValue = .object([
            "quote": .string("say \"hi\"\\ back/slash\n\u{1}\u{1F}é😀"), "int": .int(.min), "big": .int(.max),
            "double": .double(0.1), "tiny": .double(.leastNonzeroMagnitude), "flag": .bool(false), "nothing": .null,
            "list": .array([.int(1), .array([]), .object([:])]),
        ])
        for sorted in [false, true] {
            let bytes = JSONWriter.write(value, sortedKeys: sorted)
            #expect(try JSONParser.parse(bytes) == value)
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) == value)
        }
        // Sorted text is canonical: byte order of member names, no spaces.
        #expect(String(decoding: JSONWriter.write(.object(["b": .int(1), "a": .int(2), "B": .null]), sortedKeys: true), as: UTF8.self)
            == #"{"B":null,"a":2,"b":1}"#)
    }

    struct Sample: Codable, Equatable {
        enum Kind: String, Codable { case one, two }
        var id: UUID
        var when: Date
        var amount: Int64
        var ratio: Double
        var kind: Kind
        var note: String?
        var tags: [String]
        var nested: [String: [Int]]
        var clock: HLCTimestamp
    }

    @Test func typesRoundTripThroughTheCodersAsFoundationWouldReadThem() throws {
        let sample = Sample(
            id: UUID(), when: Date(milliseconds: 1_790_000_000_123), amount: -1_250_075, ratio: 0.375, kind: .two, note: nil,
            tags: ["a", "b"], nested: ["x": [1, 2], "y": []],
            clock: HLCTimestamp(wallMillis: 1_790_000_000_123, counter: 7, node: "device"))
        let bytes = try JSONCoding.encode(sample)
        #expect(try JSONCoding.decode(Sample.self, from: bytes) == sample)
        #expect(try JSONCoding.decoder.decode(Sample.self, from: Data(bytes)) == sample)
        #expect(try JSONCoding.decode(Sample.self, from: JSONCoding.encoder.encode(sample)) == sample)
        // An absent optional is left out, as Foundation does.
        #expect(!String(decoding: bytes, as: UTF8.self).contains("note"))
    }

    @Test func decodingErrorsNameTheFieldAtFault() throws {
        func failure(_ text: String) -> String {
            do {
                _ = try JSONCoding.decode(Sample.self, from: Array(text.utf8))
                return "decoded"
            } catch let error as DecodingError {
                return JSONCoding.describe(error)
            } catch {
                return "\(error)"
            }
        }
        let valid = #""id":"01a2051e-9d6a-7bdb-8d3d-d47048b89b61","when":"2026-11-22T10:00:00.000Z","ratio":1,"kind":"one","tags":[],"nested":{},"clock":"000001790000000123-00007-device""#
        #expect(failure("{\(valid),\"amount\":1}") == "decoded")
        #expect(failure("{\(valid)}").contains("'amount' is missing"))
        #expect(failure("{\(valid),\"amount\":\"12\"}").contains("'amount'"))
        #expect(failure("{\(valid),\"amount\":1e30}").contains("amount"))
        #expect(failure("{\(valid),\"amount\":1.5}").contains("amount"))
        #expect(failure("{\(valid),\"amount\":1,\"tags\":[1]}").contains("'tags[0]'"))
        #expect(failure("{\(valid.replacingOccurrences(of: "2026-11-22T10:00:00.000Z", with: "yesterday")),\"amount\":1}")
            .contains("ISO 8601"))
        #expect(failure("[{\(valid),\"amount\":1}]") == "the body has the wrong type")
        #expect(failure("{\(valid),\"amount\":1") == "it is not valid JSON: the JSON ends inside an object at line 1, column 177")
    }

    @Test func clockTextKeepsItsOrderAndParsesBack() throws {
        let stamps = [
            HLCTimestamp(wallMillis: 0, counter: 0, node: ""),
            HLCTimestamp(wallMillis: 1_790_000_000_123, counter: 0, node: "a"),
            HLCTimestamp(wallMillis: 1_790_000_000_123, counter: 99_999, node: "a"),
            HLCTimestamp(wallMillis: 1_790_000_000_123, counter: 100_000, node: "a"),
            HLCTimestamp(wallMillis: 1_790_000_000_124, counter: 0, node: "b-c"),
        ]
        #expect(stamps[1].description == "000001790000000123-00000-a")
        for stamp in stamps { #expect(try HLCTimestamp(parsing: stamp.description) == stamp) }
        // Text order is value order for every counter a clock reaches (under 100,000 in a millisecond).
        let ordinary = stamps.enumerated().filter { $0.offset != 3 }.map(\.element.description)
        #expect(ordinary == ordinary.sorted())
        for bad in ["", "12", "12-3", "x-1-a", "1-x-a", "99999999999999999999-1-a"] {
            #expect(throws: LocalityError.self) { try HLCTimestamp(parsing: bad) }
        }
    }

    @Test func timestampsAreWrittenCanonically() {
        let cases: [(Int64, String)] = [
            (0, "1970-01-01T00:00:00.000Z"), (999, "1970-01-01T00:00:00.999Z"), (86_399_999, "1970-01-01T23:59:59.999Z"),
            (1_790_000_000_123, "2026-09-21T14:13:20.123Z"), (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ]
        for (millis, expected) in cases {
            let date = Date(milliseconds: millis)
            #expect(Timestamps.format(date) == expected)
            #expect(Timestamps.parse(expected) == date)
        }
    }
}
