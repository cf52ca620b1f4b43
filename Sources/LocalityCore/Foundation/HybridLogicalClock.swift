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
        "\(Self.pad(wallMillis, 18))-\(Self.pad(Int64(counter), 5))-\(node)"
    }

    public init(parsing text: String) throws {
        let parts = text.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let wall = Int64(parts[0]), let counter = Int32(parts[1]), wall >= 0, counter >= 0 else {
            throw LocalityError.invalid("'\(text)' is not a hybrid logical clock timestamp")
        }
        self.init(wallMillis: wall, counter: counter, node: String(parts[2]))
    }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
