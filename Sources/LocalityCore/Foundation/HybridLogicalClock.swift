/// A hybrid logical clock timestamp: wall-clock milliseconds, a counter for events in the same
/// millisecond (or when the wall clock went backwards), and the device that made it.
///
/// Edits are ordered by this, never by a device's clock alone; ties are broken by device id.
/// Its text form sorts in the same order as the value, so it can be compared in SQL.
public struct HLCTimestamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let wallMillis: Int64
    public let counter: Int32
    public let node: String

    public init(wallMillis: Int64, counter: Int32, node: String) {
        self.wallMillis = wallMillis
        self.counter = counter
        self.node = node
    }

    /// The timestamp for a local event at `wallMillis`, strictly after `previous`.
    public static func next(after previous: HLCTimestamp?, wallMillis: Int64, node: String) -> HLCTimestamp {
        guard let previous, previous.wallMillis >= wallMillis else {
            return HLCTimestamp(wallMillis: wallMillis, counter: 0, node: node)
        }
        return HLCTimestamp(wallMillis: previous.wallMillis, counter: previous.counter + 1, node: node)
    }

    /// The local clock after seeing a remote timestamp: never behind anything already observed.
    public static func receive(
        _ remote: HLCTimestamp, local previous: HLCTimestamp?, wallMillis: Int64, node: String
    ) -> HLCTimestamp {
        let latest = max(previous ?? remote, remote)
        if wallMillis > latest.wallMillis { return HLCTimestamp(wallMillis: wallMillis, counter: 0, node: node) }
        return HLCTimestamp(wallMillis: latest.wallMillis, counter: latest.counter + 1, node: node)
    }

    /// The later of two optional readings.
    static func later(_ lhs: HLCTimestamp?, _ rhs: HLCTimestamp?) -> HLCTimestamp? {
        guard let lhs else { return rhs }
        guard let rhs else { return lhs }
        return max(lhs, rhs)
    }

    public static func < (lhs: HLCTimestamp, rhs: HLCTimestamp) -> Bool {
        (lhs.wallMillis, lhs.counter, lhs.node) < (rhs.wallMillis, rhs.counter, rhs.node)
    }

    /// `000001795000000000-00000-<node>`: fixed-width numbers so text order is value order.
    public var description: String {
        // Written by hand: every change's hot path formats one.
        var node = node
        let wall = max(wallMillis, 0)
        let count = Int64(max(counter, 0))
        // Fixed widths (wider only for values no clock reaches) so text order is value order.
        let wallWidth = max(18, Self.digits(wall))
        let countWidth = max(5, Self.digits(count))
        return node.withUTF8 { nodeBytes in
            String(unsafeUninitializedCapacity: wallWidth + countWidth + 2 + nodeBytes.count) { buffer in
                func put(_ value: Int64, from start: Int, width: Int) {
                    var rest = value
                    for index in stride(from: start + width - 1, through: start, by: -1) {
                        buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                        rest /= 10
                    }
                }
                put(wall, from: 0, width: wallWidth)
                buffer[wallWidth] = UInt8(ascii: "-")
                put(count, from: wallWidth + 1, width: countWidth)
                buffer[wallWidth + countWidth + 1] = UInt8(ascii: "-")
                let nodeStart = wallWidth + countWidth + 2
                for (offset, byte) in nodeBytes.enumerated() { buffer[nodeStart + offset] = byte }
                return nodeStart + nodeBytes.count
            }
        }
    }

    private static func digits(_ value: Int64) -> Int {
        var count = 1
        var rest = value / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        return count
    }

    public init(parsing text: String) throws {
        var text = text
        let parsed: (Int64, Int32, String)? = text.withUTF8 { bytes in
            // Two runs of digits, then the node: "<wall>-<counter>-<node>".
            var index = 0
            func number(limit: Int64) -> Int64? {
                var value: Int64 = 0
                let start = index
                while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                    value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                    guard value <= limit else { return nil }
                    index += 1
                }
                guard index > start, index < bytes.count, bytes[index] == UInt8(ascii: "-") else { return nil }
                index += 1
                return value
            }
            guard let wall = number(limit: Int64.max / 10 - 9), let counter = number(limit: Int64(Int32.max)) else {
                return nil
            }
            return (wall, Int32(counter), String(decoding: UnsafeBufferPointer(rebasing: bytes[index...]), as: UTF8.self))
        }
        guard let (wall, counter, node) = parsed else {
            throw LocalityError.invalid("'\(text)' is not a hybrid logical clock timestamp")
        }
        self.init(wallMillis: wall, counter: counter, node: node)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
