import Foundation
import GRDB

/// A named mutation: an intention with its arguments (`need.record`, `proposal.submit`…), made on
/// a device, numbered by that device, and timestamped by its hybrid logical clock. It is what
/// sync pushes, unchanged, for the server to run through the same rules.
public struct Mutation: Codable, Hashable, Sendable, Identifiable {
    public var id: UUID
    public var deviceId: UUID
    /// The device's own sequence number: 1, 2, 3… with no gaps. The server remembers the last it
    /// applied, so a retried push never applies anything twice.
    public var sequence: Int64
    public var hlc: HLCTimestamp
    public var name: MutationName
    public var actorId: UUID
    public var createdAt: Date
    public var arguments: JSONValue

    public init(
        id: UUID, deviceId: UUID, sequence: Int64, hlc: HLCTimestamp, name: MutationName, actorId: UUID,
        createdAt: Date, arguments: JSONValue
    ) {
        self.id = id
        self.deviceId = deviceId
        self.sequence = sequence
        self.hlc = hlc
        self.name = name
        self.actorId = actorId
        self.createdAt = createdAt
        self.arguments = arguments
    }
}

/// A mutation waiting in this device's outbox.
public struct OutboxEntry: Hashable, Sendable, Codable {
    public var mutation: Mutation
    public var state: State

    public enum State: String, Codable, Sendable, DatabaseValueConvertible {
        /// Made on this device, not yet answered by the server.
        case pending
    }
}

extension OutboxEntry: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "outbox"

    public init(row: Row) throws {
        let name: String = row["name"]
        let argumentsText: String = row["arguments"]
        guard let mutationName = MutationName(rawValue: name) else {
            throw LocalityError(.unknownMutation, "the outbox holds a mutation this version does not know: \(name)")
        }
        mutation = Mutation(
            id: UUID(uuidString: row["id"]) ?? UUID(),
            deviceId: UUID(uuidString: row["device_id"]) ?? UUID(),
            sequence: row["sequence"],
            hlc: row["hlc"],
            name: mutationName,
            actorId: UUID(uuidString: row["actor_id"]) ?? UUID(),
            createdAt: Timestamps.parse(row["created_at"]) ?? Date(milliseconds: 0),
            arguments: try JSONCoding.decoder.decode(JSONValue.self, from: Data(argumentsText.utf8)))
        state = row["state"]
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container["sequence"] = mutation.sequence
        container["id"] = mutation.id.key
        container["name"] = mutation.name.rawValue
        container["arguments"] = mutation.arguments.jsonText
        container["hlc"] = mutation.hlc
        container["device_id"] = mutation.deviceId.key
        container["actor_id"] = mutation.actorId.key
        container["created_at"] = Timestamps.format(mutation.createdAt)
        container["state"] = state
    }

    /// Pending mutations, oldest first.
    public static func pending(_ db: Database) throws -> [OutboxEntry] {
        try OutboxEntry.fetchAll(db, sql: "SELECT * FROM outbox WHERE state = 'pending' ORDER BY sequence")
    }
}

/// This device's identity and counters (one row).
struct ReplicaState: LocalityRecord {
    static let databaseTableName = "replica"

    var id: Int = 1
    var deviceId: UUID
    var personId: UUID
    /// How the replica was made: `demo` for `init --demo`.
    var origin: String
    var lastSequence: Int64
    var lastHlc: HLCTimestamp?
    var createdAt: Date

    static func load(_ db: Database) throws -> ReplicaState {
        guard let state = try ReplicaState.fetchOne(db, sql: "SELECT * FROM replica WHERE id = 1") else {
            throw LocalityError(.replicaState, "this home has no replica yet; run `locality init --demo --as USERNAME`")
        }
        return state
    }
}
