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

/// What `Replica.perform` hands back: the mutation's place in this device's outbox.
public struct MutationReceipt: Hashable, Sendable {
    public var id: UUID
    public var sequence: Int64
    public var name: MutationName
    public var hlc: HLCTimestamp
    public var createdAt: Date
}

/// A mutation waiting in this device's outbox.
public struct OutboxEntry: Hashable, Sendable, Codable {
    public var mutation: Mutation
    public var state: State

    public enum State: String, Codable, Sendable, DatabaseValueConvertible {
        /// Made on this device, not yet answered by the server.
        case pending
        /// Accepted by the server; kept (and re-applied on top) until a pull brings its effects.
        case applied
        /// Refused by the server; removed at the next page, kept in `rejected_mutation`.
        case rejected
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
            id: try UUID.column(row, "id"),
            deviceId: try UUID.column(row, "device_id"),
            sequence: row["sequence"],
            hlc: row["hlc"],
            name: mutationName,
            actorId: try UUID.column(row, "actor_id"),
            createdAt: Timestamps.parse(row["created_at"]) ?? Date(milliseconds: 0),
            arguments: try JSONParser.parse(argumentsText))
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

    static func insert(
        _ receipt: MutationReceipt, arguments: String, deviceId: UUID, actorId: UUID, _ db: Database
    ) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO outbox (sequence, id, name, arguments, hlc, device_id, actor_id, created_at, state)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')
                """)
        try statement.execute(arguments: [
            receipt.sequence, receipt.id.key, receipt.name.rawValue, arguments, receipt.hlc.description, deviceId.key,
            actorId.key, Timestamps.format(receipt.createdAt),
        ])
    }

    /// Pending mutations, oldest first.
    public static func pending(_ db: Database) throws -> [OutboxEntry] {
        try OutboxEntry.fetchAll(db, sql: "SELECT * FROM outbox WHERE state = 'pending' ORDER BY sequence")
    }
}

/// This device's identity and counters (one row).
struct ReplicaState: LocalityRecord {
    static let databaseTableName = "replica"

    init(
        deviceId: UUID, personId: UUID, origin: String, lastSequence: Int64, lastHlc: HLCTimestamp?, createdAt: Date
    ) {
        self.deviceId = deviceId
        self.personId = personId
        self.origin = origin
        self.lastSequence = lastSequence
        self.lastHlc = lastHlc
        self.createdAt = createdAt
    }

    /// Decoded by hand: read on every mutation.
    init(row: Row) throws {
        deviceId = try UUID.column(row, "device_id")
        personId = try UUID.column(row, "person_id")
        origin = row["origin"]
        lastSequence = row["last_sequence"]
        lastHlc = row["last_hlc"]
        createdAt = Timestamps.parse(row["created_at"]) ?? Date(milliseconds: 0)
    }

    /// The device's latest sequence number and clock reading.
    ///
    /// The outbox is the log: while it holds mutations, its newest row is the latest. The
    /// replica row keeps the floor for when it is empty, and is advanced only when answered
    /// mutations leave the outbox (in the same transaction), so recording a change does not
    /// rewrite it. That saves a page write on every change.
    static func counters(_ state: ReplicaState, _ db: Database) throws -> (sequence: Int64, hlc: HLCTimestamp?) {
        let newest = try Row.fetchOne(
            try db.cachedStatement(sql: "SELECT sequence, hlc FROM outbox ORDER BY sequence DESC LIMIT 1"))
        guard let newest else { return (state.lastSequence, state.lastHlc) }
        let sequence: Int64 = newest["sequence"]
        let hlc: HLCTimestamp? = newest["hlc"]
        return (max(sequence, state.lastSequence), HLCTimestamp.later(hlc, state.lastHlc))
    }

    /// Removes answered mutations up to `sequence` from the outbox, keeping the counters' floor.
    static func retire(upTo sequence: Int64, _ db: Database) throws {
        let state = try load(db)
        let counters = try counters(state, db)
        try db.execute(
            sql: "UPDATE replica SET last_sequence = ?, last_hlc = ? WHERE id = 1",
            arguments: [counters.sequence, counters.hlc?.description])
        try db.execute(sql: "DELETE FROM outbox WHERE sequence <= ?", arguments: [sequence])
    }

    var id: Int = 1
    var deviceId: UUID
    var personId: UUID
    /// How the replica was made: `demo` for `init --demo`.
    var origin: String
    /// The floor of the device's sequence numbers: see `counters`.
    var lastSequence: Int64
    var lastHlc: HLCTimestamp?
    var createdAt: Date

    static func load(_ db: Database) throws -> ReplicaState {
        guard let state = try ReplicaState.fetchOne(try db.cachedStatement(sql: "SELECT * FROM replica WHERE id = 1")) else {
            throw LocalityError(.replicaState, "this home has no replica yet; run `locality init --demo --as USERNAME`")
        }
        return state
    }
}

// Mutations are the bulk of every push: written and read by hand, field for field as their
// `Codable` conformance (which still reports what is wrong with a malformed one).
extension Mutation: JSONWritable, JSONReadable {
    public func writeJSON(into out: inout [UInt8]) {
        var object = JSONObjectWriter(into: &out)
        object.string("id", id.key, into: &out)
        object.string("deviceId", deviceId.key, into: &out)
        object.integer("sequence", sequence, into: &out)
        object.string("hlc", hlc.description, into: &out)
        object.string("name", name.rawValue, into: &out)
        object.string("actorId", actorId.key, into: &out)
        object.string("createdAt", Timestamps.format(createdAt), into: &out)
        object.value("arguments", arguments, into: &out)
        object.end(into: &out)
    }

    public init?(json: JSONValue) {
        guard case .object(let members) = json,
            case .string(let id)? = members["id"], let id = UUID(key: id),
            case .string(let device)? = members["deviceId"], let deviceId = UUID(key: device),
            case .int(let sequence)? = members["sequence"],
            case .string(let clock)? = members["hlc"], let hlc = try? HLCTimestamp(parsing: clock),
            case .string(let name)? = members["name"], let name = MutationName(rawValue: name),
            case .string(let actor)? = members["actorId"], let actorId = UUID(key: actor),
            case .string(let created)? = members["createdAt"], let createdAt = Timestamps.parse(created),
            let arguments = members["arguments"]
        else { return nil }
        self.init(
            id: id, deviceId: deviceId, sequence: sequence, hlc: hlc, name: name, actorId: actorId, createdAt: createdAt,
            arguments: arguments)
    }
}
