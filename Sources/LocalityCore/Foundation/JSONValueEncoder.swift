import Foundation

/// Encodes `Encodable` types into a `JSONValue`, with Locality's conventions: timestamps as
/// canonical ISO 8601 text (see `Timestamps`), UUIDs as lowercase text, integers exact.
/// `JSONWriter` turns the result into bytes; together they replace `JSONEncoder` on the hot
/// paths (requests, pulled pages, the outbox), where `JSONValue`s pass through untouched.
public struct JSONValueEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        try box(value).resolved
    }

    /// Encodes straight to JSON text, without building the intermediate `JSONValue`: members in
    /// the order they were encoded, or sorted.
    public func write<T: Encodable>(_ value: T, sortedKeys: Bool) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        if !sortedKeys, let writable = value as? any JSONWritable {
            writable.writeJSON(into: &out)
        } else {
            try box(value).write(sortedKeys: sortedKeys, into: &out)
        }
        return out
    }
}

/// Where an encoded value lives while its containers may still be written to.
private enum Slot {
    case value(JSONValue)
    case object(ObjectBox)
    case array(ArrayBox)
    case encoder(ValueEncoder)

    var resolved: JSONValue {
        switch self {
        case .value(let value): return value
        case .object(let box):
            var members: [String: JSONValue] = Dictionary(minimumCapacity: box.members.count)
            for (key, slot) in box.members { members[key] = slot.resolved }
            return .object(members)
        case .array(let box): return .array(box.items.map(\.resolved))
        case .encoder(let encoder): return encoder.slot?.resolved ?? .object([:])
        }
    }

    func write(sortedKeys: Bool, into out: inout [UInt8]) throws {
        switch self {
        case .value(let value): JSONWriter.write(value, sortedKeys: sortedKeys, into: &out)
        case .object(let box):
            var members = box.members
            if sortedKeys || box.hasDuplicates {
                // Stable, so of a key encoded twice the last is kept, as a dictionary would.
                members = members.enumerated().sorted {
                    $0.element.0 == $1.element.0 ? $0.offset < $1.offset : $0.element.0.utf8.lexicographicallyPrecedes($1.element.0.utf8)
                }.map(\.element)
                members = members.enumerated().filter { $0.offset + 1 == members.count || members[$0.offset + 1].0 != $0.element.0 }
                    .map(\.element)
            }
            out.append(UInt8(ascii: "{"))
            for (index, (key, slot)) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.write(.string(key), into: &out)
                out.append(UInt8(ascii: ":"))
                try slot.write(sortedKeys: sortedKeys, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let box):
            out.append(UInt8(ascii: "["))
            for (index, item) in box.items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try item.write(sortedKeys: sortedKeys, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .encoder(let encoder):
            try (encoder.slot ?? .value(.object([:]))).write(sortedKeys: sortedKeys, into: &out)
        }
    }
}

/// An object's members in the order they were encoded (synthesized conformances encode each key once).
private final class ObjectBox {
    var members: [(String, Slot)] = []
    var hasDuplicates = false
    private var keys: Set<String>?

    subscript(key: String) -> Slot? {
        get { members.last { $0.0 == key }?.1 }
        set {
            guard let newValue else { return }
            // Checking for a repeated key costs a set only once an object grows past a handful.
            if members.count < 8 {
                if members.contains(where: { $0.0 == key }) { hasDuplicates = true }
            } else {
                if keys == nil { keys = Set(members.map(\.0)) }
                if !keys!.insert(key).inserted { hasDuplicates = true }
            }
            members.append((key, newValue))
        }
    }
}

private final class ArrayBox {
    var items: [Slot] = []
}

private func box<T: Encodable>(_ value: T) throws -> Slot {
    switch value {
    case let value as JSONValue: return .value(value)
    case let value as String: return .value(.string(value))
    case let value as Int64: return .value(.int(value))
    case let value as Int: return .value(.int(Int64(value)))
    case let value as Bool: return .value(.bool(value))
    case let value as UUID: return .value(.string(value.key))
    case let value as Date: return .value(.string(Timestamps.format(value)))
    case let value as Double:
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(value) cannot be written as JSON"))
        }
        return .value(.double(value))
    default:
        let encoder = ValueEncoder()
        try value.encode(to: encoder)
        if let slot = encoder.slot, case .value = slot { return slot }
        return encoder.slot ?? .value(.object([:]))
    }
}

private final class ValueEncoder: Encoder, SingleValueEncodingContainer {
    var slot: Slot?
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object(let existing)? = slot { return KeyedEncodingContainer(KeyedContainer<Key>(box: existing)) }
        let object = ObjectBox()
        slot = .object(object)
        return KeyedEncodingContainer(KeyedContainer<Key>(box: object))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array(let existing)? = slot { return UnkeyedContainer(box: existing) }
        let array = ArrayBox()
        slot = .array(array)
        return UnkeyedContainer(box: array)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    func encodeNil() { slot = .value(.null) }
    func encode(_ value: Bool) { slot = .value(.bool(value)) }
    func encode(_ value: String) { slot = .value(.string(value)) }
    func encode(_ value: Double) throws { slot = try box(value) }
    func encode(_ value: Float) throws { slot = try box(Double(value)) }
    func encode(_ value: Int) { slot = .value(.int(Int64(value))) }
    func encode(_ value: Int8) { slot = .value(.int(Int64(value))) }
    func encode(_ value: Int16) { slot = .value(.int(Int64(value))) }
    func encode(_ value: Int32) { slot = .value(.int(Int64(value))) }
    func encode(_ value: Int64) { slot = .value(.int(value)) }
    func encode(_ value: UInt) throws { slot = try unsigned(value) }
    func encode(_ value: UInt8) { slot = .value(.int(Int64(value))) }
    func encode(_ value: UInt16) { slot = .value(.int(Int64(value))) }
    func encode(_ value: UInt32) { slot = .value(.int(Int64(value))) }
    func encode(_ value: UInt64) throws { slot = try unsigned(value) }
    func encode<T: Encodable>(_ value: T) throws { slot = try box(value) }
}

private func unsigned<U: UnsignedInteger & FixedWidthInteger>(_ value: U) throws -> Slot {
    guard let int = Int64(exactly: value) else {
        throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(value) is too large"))
    }
    return .value(.int(int))
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: ObjectBox
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) { box[key.stringValue] = .value(.null) }
    mutating func encode(_ value: Bool, forKey key: Key) { box[key.stringValue] = .value(.bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) { box[key.stringValue] = .value(.string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { box[key.stringValue] = try LocalityCore.box(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { box[key.stringValue] = try LocalityCore.box(Double(value)) }
    mutating func encode(_ value: Int, forKey key: Key) { box[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) { box[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) { box[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) { box[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) { box[key.stringValue] = .value(.int(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { box[key.stringValue] = try unsigned(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) { box[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) { box[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) { box[key.stringValue] = .value(.int(Int64(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { box[key.stringValue] = try unsigned(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        box[key.stringValue] = try LocalityCore.box(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = ObjectBox()
        box[key.stringValue] = .object(nested)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = ArrayBox()
        box[key.stringValue] = .array(nested)
        return UnkeyedContainer(box: nested)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = ValueEncoder()
        box["super"] = .encoder(encoder)
        return encoder
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let encoder = ValueEncoder()
        box[key.stringValue] = .encoder(encoder)
        return encoder
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let box: ArrayBox
    var codingPath: [any CodingKey] { [] }
    var count: Int { box.items.count }

    mutating func encodeNil() { box.items.append(.value(.null)) }
    mutating func encode(_ value: Bool) { box.items.append(.value(.bool(value))) }
    mutating func encode(_ value: String) { box.items.append(.value(.string(value))) }
    mutating func encode(_ value: Int) { box.items.append(.value(.int(Int64(value)))) }
    mutating func encode(_ value: Int64) { box.items.append(.value(.int(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws { box.items.append(try LocalityCore.box(value)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBox()
        box.items.append(.object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = ArrayBox()
        box.items.append(.array(nested))
        return UnkeyedContainer(box: nested)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = ValueEncoder()
        box.items.append(.encoder(encoder))
        return encoder
    }
}

/// Writes a `JSONValue` as compact JSON text: no whitespace, slashes unescaped, non-ASCII as
/// UTF-8. With `sortedKeys`, object members in byte order, so equal values give equal text.
public enum JSONWriter {
    public static func write(_ value: JSONValue, sortedKeys: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, sortedKeys: sortedKeys, into: &out)
        return out
    }

    public static func write(_ value: JSONValue, sortedKeys: Bool = false, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let bool): out.append(contentsOf: (bool ? "true" : "false").utf8)
        case .int(let int): writeInteger(int, into: &out)
        case .double(let double):
            if double.isFinite {
                out.append(contentsOf: "\(double)".utf8)
            } else {
                out.append(contentsOf: "null".utf8)
            }
        case .string(let string): writeString(string, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(item, sortedKeys: sortedKeys, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            var first = true
            if sortedKeys {
                for key in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    writeString(key, into: &out)
                    out.append(UInt8(ascii: ":"))
                    write(members[key]!, sortedKeys: true, into: &out)
                }
            } else {
                for (key, member) in members {
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    writeString(key, into: &out)
                    out.append(UInt8(ascii: ":"))
                    write(member, sortedKeys: false, into: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeInteger(_ value: Int64, into out: inout [UInt8]) {
        if value == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var magnitude = value.magnitude
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }

    static func writeString(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            var runStart = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                runStart = index + 1
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
                case 0x0A: out.append(contentsOf: #"\n"#.utf8)
                case 0x0D: out.append(contentsOf: #"\r"#.utf8)
                case 0x09: out.append(contentsOf: #"\t"#.utf8)
                case 0x08: out.append(contentsOf: #"\b"#.utf8)
                case 0x0C: out.append(contentsOf: #"\f"#.utf8)
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: #"\u00"#.utf8)
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0x0F)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// A type on a hot path that writes its own JSON, as its `Encodable` conformance would but
/// without the generic machinery (a push carries thousands of mutations).
public protocol JSONWritable: Encodable {
    func writeJSON(into out: inout [UInt8])
}

/// A type on a hot path that reads itself from a parsed object, returning nil for anything
/// unexpected so that its `Decodable` conformance can say exactly what is wrong.
public protocol JSONReadable: Decodable {
    init?(json: JSONValue)
}

/// Helpers for hand-written `JSONWritable` conformances.
public struct JSONObjectWriter: ~Copyable {
    private var first = true

    public init(into out: inout [UInt8]) { out.append(UInt8(ascii: "{")) }

    public mutating func key(_ name: StaticString, into out: inout [UInt8]) {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(contentsOf: "\":".utf8)
    }

    public mutating func string(_ name: StaticString, _ value: String, into out: inout [UInt8]) {
        key(name, into: &out)
        JSONWriter.writeString(value, into: &out)
    }

    public mutating func integer(_ name: StaticString, _ value: Int64, into out: inout [UInt8]) {
        key(name, into: &out)
        JSONWriter.writeInteger(value, into: &out)
    }

    public mutating func value(_ name: StaticString, _ value: JSONValue, into out: inout [UInt8]) {
        key(name, into: &out)
        JSONWriter.write(value, into: &out)
    }

    /// A member holding a list of values that write their own JSON.
    public mutating func array(_ name: StaticString, _ items: [some JSONWritable], into out: inout [UInt8]) {
        key(name, into: &out)
        out.append(UInt8(ascii: "["))
        for (index, item) in items.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            item.writeJSON(into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    public consuming func end(into out: inout [UInt8]) { out.append(UInt8(ascii: "}")) }
}

extension JSONWriter {
    /// Indented JSON for people and scripts at a terminal: keys sorted, two spaces a level, ids and
    /// dates as the protocol writes them (lowercase UUIDs, ISO 8601).
    public static func pretty(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        pretty(value, depth: 0, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func pretty(_ value: JSONValue, depth: Int, into out: inout [UInt8]) {
        func newline(_ level: Int) {
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: level * 2))
        }
        switch value {
        case .array(let items) where !items.isEmpty:
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                pretty(item, depth: depth + 1, into: &out)
            }
            newline(depth)
            out.append(UInt8(ascii: "]"))
        case .object(let members) where !members.isEmpty:
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                write(.string(key), into: &out)
                out.append(contentsOf: Array(" : ".utf8))
                pretty(members[key] ?? .null, depth: depth + 1, into: &out)
            }
            newline(depth)
            out.append(UInt8(ascii: "}"))
        default:
            write(value, into: &out)
        }
    }
}
