import Foundation

/// A string enum whose values a JSON Schema can list.
public protocol SchemaEnum {
    static var schemaValues: [String] { get }
    static var schemaExample: Self { get }
}

extension SchemaEnum where Self: CaseIterable & RawRepresentable, RawValue == String {
    public static var schemaValues: [String] { allCases.map(\.rawValue) }
    public static var schemaExample: Self { allCases.first! }
}

extension Decision.Outcome: SchemaEnum {}
extension Delegation.Matter: SchemaEnum {}
extension Delegation.Scope: SchemaEnum {}
extension LedgerEntry.Source: SchemaEnum {}
extension LedgerEntry.Kind: SchemaEnum {}
extension Role: SchemaEnum {}
extension Organisation.Kind: SchemaEnum {}
extension Outcome.Level: SchemaEnum {}
extension Indicator.Direction: SchemaEnum {}
extension Evidence.Kind: SchemaEnum {}
extension Need.Status: SchemaEnum {}
extension Proposal.DeliveryModel: SchemaEnum {}
extension Review.Verdict: SchemaEnum {}
extension Commission.Level: SchemaEnum {}
extension Vote.BallotType: SchemaEnum {}
extension AllocationRule: SchemaEnum {}
extension Conflict.Keep: SchemaEnum {}
extension MutationName: SchemaEnum {}

extension JSONValue: ExpressibleByDictionaryLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByBooleanLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// The JSON Schema of a mutation's arguments, read off its `Decodable` conformance: a decoder
/// that answers every request with a placeholder and notes what was asked for — which keys, of
/// which types, which of them optional. So the published description of the protocol is the
/// code's own, and cannot drift from it.
public enum ArgumentSchema {
    public static func of<T: Decodable>(_ type: T.Type) -> JSONValue {
        if let leaf = leaf(type) { return leaf }
        let probe = Probe()
        _ = try? T(from: ProbeDecoder(probe: probe))
        return probe.schema
    }

    static func leaf<T>(_ type: T.Type) -> JSONValue? {
        switch type {
        case is UUID.Type: return ["type": "string", "format": "uuid"]
        case is Money.Type: return ["type": "integer", "description": "an amount in pence"]
        case is Date.Type: return ["type": "string", "format": "date-time"]
        case is FinancialYear.Type: return ["type": "string", "pattern": "^[0-9]{4}/[0-9]{2}$", "description": "a financial year, e.g. 2026/27"]
        case is HLCTimestamp.Type: return ["type": "string", "description": "a hybrid logical clock reading"]
        case is String.Type: return ["type": "string"]
        case is Bool.Type: return ["type": "boolean"]
        case is Int.Type, is Int64.Type, is Int32.Type: return ["type": "integer"]
        case is Double.Type: return ["type": "number"]
        case is JSONValue.Type: return [:]
        case is [String: String].Type: return ["type": "object", "additionalProperties": ["type": "string"]]
        default: break
        }
        if let enumeration = type as? any SchemaEnum.Type {
            return ["type": "string", "enum": .array(enumeration.schemaValues.map(JSONValue.string))]
        }
        return nil
    }

    /// A placeholder of the type, for decoding to go on.
    static func placeholder<T: Decodable>(_ type: T.Type, _ probe: Probe) throws -> T {
        switch type {
        case is UUID.Type: return UUID() as! T
        case is Money.Type: return Money(pence: 1) as! T
        case is Date.Type: return Date(timeIntervalSince1970: 0) as! T
        case is FinancialYear.Type: return FinancialYear(startYear: 2026) as! T
        case is HLCTimestamp.Type: return HLCTimestamp(wallMillis: 0, counter: 0, node: "x") as! T
        case is JSONValue.Type: return JSONValue.null as! T
        case is [String: String].Type: return [String: String]() as! T
        default: break
        }
        if let enumeration = type as? any SchemaEnum.Type { return enumeration.schemaExample as! T }
        return try T(from: ProbeDecoder(probe: probe))
    }
}

/// What a probe has learnt about one value.
final class Probe {
    var properties: [(String, JSONValue, Bool)] = []
    var item: JSONValue?
    var single: JSONValue?

    var schema: JSONValue {
        if let single { return single }
        if let item { return ["type": "array", "items": item] }
        var object: [String: JSONValue] = [:]
        for (key, schema, _) in properties { object[key] = schema }
        let required = properties.filter(\.2).map { JSONValue.string($0.0) }
        var result: [String: JSONValue] = ["type": "object", "properties": .object(object)]
        if !required.isEmpty { result["required"] = .array(required) }
        return .object(result)
    }

    func note<T: Decodable>(_ type: T.Type, key: String?, required: Bool) throws -> T {
        let schema: JSONValue
        let value: T
        if let leaf = ArgumentSchema.leaf(type) {
            schema = leaf
            value = try ArgumentSchema.placeholder(type, Probe())
        } else {
            let child = Probe()
            value = try ArgumentSchema.placeholder(type, child)
            schema = child.schema
        }
        if let key { properties.append((key, schema, required)) } else if item == nil { item = schema }
        return value
    }
}

struct ProbeDecoder: Decoder {
    let probe: Probe
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(KeyedProbe<Key>(probe: probe))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { UnkeyedProbe(probe: probe) }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleProbe(probe: probe) }
}

struct KeyedProbe<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let probe: Probe
    var codingPath: [any CodingKey] = []
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { true }
    func decodeNil(forKey key: Key) throws -> Bool { false }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try probe.note(type, key: key.stringValue, required: true) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try probe.note(type, key: key.stringValue, required: false)
    }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try probe.note(type, key: key.stringValue, required: true) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try probe.note(type, key: key.stringValue, required: true) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try probe.note(type, key: key.stringValue, required: true) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try probe.note(type, key: key.stringValue, required: true) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try probe.note(type, key: key.stringValue, required: true) }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try probe.note(type, key: key.stringValue, required: false) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try probe.note(type, key: key.stringValue, required: false) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try probe.note(type, key: key.stringValue, required: false) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try probe.note(type, key: key.stringValue, required: false) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try probe.note(type, key: key.stringValue, required: false) }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        KeyedDecodingContainer(KeyedProbe<NestedKey>(probe: Probe()))
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { UnkeyedProbe(probe: Probe()) }
    func superDecoder() throws -> any Decoder { ProbeDecoder(probe: Probe()) }
    func superDecoder(forKey key: Key) throws -> any Decoder { ProbeDecoder(probe: Probe()) }
}

/// An array: one element, to learn the element's schema, then the end.
struct UnkeyedProbe: UnkeyedDecodingContainer {
    let probe: Probe
    var codingPath: [any CodingKey] = []
    var count: Int? { 1 }
    var currentIndex = 0
    var isAtEnd: Bool { currentIndex >= 1 }

    mutating func decodeNil() throws -> Bool { false }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        currentIndex += 1
        return try probe.note(type, key: nil, required: true)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        currentIndex += 1
        return KeyedDecodingContainer(KeyedProbe<NestedKey>(probe: Probe()))
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        currentIndex += 1
        return UnkeyedProbe(probe: Probe())
    }
    mutating func superDecoder() throws -> any Decoder { ProbeDecoder(probe: Probe()) }
}

struct SingleProbe: SingleValueDecodingContainer {
    let probe: Probe
    var codingPath: [any CodingKey] = []

    func decodeNil() -> Bool { false }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let value = try ArgumentSchema.placeholder(type, Probe())
        probe.single = ArgumentSchema.leaf(type) ?? [:]
        return value
    }
    func decode(_ type: Bool.Type) throws -> Bool {
        probe.single = ["type": "boolean"]
        return false
    }
    func decode(_ type: String.Type) throws -> String {
        probe.single = ["type": "string"]
        return "x"
    }
    func decode(_ type: Double.Type) throws -> Double {
        probe.single = ["type": "number"]
        return 0
    }
    func decode(_ type: Int.Type) throws -> Int {
        probe.single = ["type": "integer"]
        return 0
    }
    func decode(_ type: Int64.Type) throws -> Int64 {
        probe.single = ["type": "integer"]
        return 0
    }
}
