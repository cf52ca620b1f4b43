import Foundation

/// The sync protocol's shared vocabulary: what travels between a device and the server, as JSON.
/// Server and client both use these types, so the client can show the server's words exactly.
public enum SyncProtocol {
    /// The protocol version this build speaks, sent by every request in the `Locality-Protocol` header.
    public static let version = 1
    /// The versions this server accepts.
    public static let supported = 1...1
    public static let versionHeader = "Locality-Protocol"
    /// The replica schema version, sent alongside for diagnostics.
    public static let schemaHeader = "Locality-Schema"
    public static let schemaVersion = 1

    /// The most mutations one push may carry, and the most changes one pull page may hold.
    public static let maxPushBatch = 2000
    public static let maxPullLimit = 2_000
    public static let defaultPullLimit = 500
    /// The largest page servers took before `PullResponse.maxLimit` was sent: what a device may
    /// ask of a server that does not say.
    public static let classicMaxPullLimit = 1_000
}

public struct LoginRequest: Codable, Sendable {
    public var username: String
    public var password: String
    /// Made on the device: the token is bound to it.
    public var deviceId: UUID
    public var deviceName: String?

    public init(username: String, password: String, deviceId: UUID, deviceName: String? = nil) {
        self.username = username
        self.password = password
        self.deviceId = deviceId
        self.deviceName = deviceName
    }
}

/// A person's first login with the one-time activation code their council gave them: they choose
/// their own password, on their own device.
public struct ActivateRequest: Codable, Sendable {
    public var username: String
    public var code: String
    public var password: String
    public var deviceId: UUID
    public var deviceName: String?

    public init(username: String, code: String, password: String, deviceId: UUID, deviceName: String? = nil) {
        self.username = username
        self.code = code
        self.password = password
        self.deviceId = deviceId
        self.deviceName = deviceName
    }
}

public struct LoginResponse: Codable, Sendable {
    public var token: String
    public var deviceId: UUID
    public var personId: UUID
    public var username: String
    /// The highest sequence number the server has applied from this device (0 for a new one).
    public var lastAppliedSequence: Int64

    public init(token: String, deviceId: UUID, personId: UUID, username: String, lastAppliedSequence: Int64) {
        self.token = token
        self.deviceId = deviceId
        self.personId = personId
        self.username = username
        self.lastAppliedSequence = lastAppliedSequence
    }
}

public struct PushRequest: Codable, Sendable {
    public var deviceId: UUID
    public var mutations: [Mutation]

    public init(deviceId: UUID, mutations: [Mutation]) {
        self.deviceId = deviceId
        self.mutations = mutations
    }
}

/// What became of one pushed mutation. Final either way: a rejection is never retried.
public struct MutationResult: Codable, Hashable, Sendable {
    public enum Outcome: String, Codable, Sendable { case applied, rejected }

    public var sequence: Int64
    public var mutationId: UUID
    public var outcome: Outcome
    /// For an applied mutation: its place in the server's change sequence.
    public var changeSequence: Int64?
    /// For a rejected one: a stable code and a reason a person can read.
    public var error: LocalityError?

    public init(sequence: Int64, mutationId: UUID, outcome: Outcome, changeSequence: Int64?, error: LocalityError?) {
        self.sequence = sequence
        self.mutationId = mutationId
        self.outcome = outcome
        self.changeSequence = changeSequence
        self.error = error
    }
}

public struct PushResponse: Codable, Sendable {
    public var results: [MutationResult]
    /// The highest sequence number the server has applied from this device.
    public var lastAppliedSequence: Int64
    /// The server database's history (see `PullResponse.epoch`).
    public var epoch: String?

    public init(results: [MutationResult], lastAppliedSequence: Int64, epoch: String? = nil) {
        self.results = results
        self.lastAppliedSequence = lastAppliedSequence
        self.epoch = epoch
    }
}

/// One row that changed on the server: its current columns, or a tombstone.
public struct RowChange: Codable, Hashable, Sendable {
    public var table: String
    public var key: String
    public var sequence: Int64
    public var deleted: Bool
    /// Column name to value, as stored (snake_case), plus linked ids for records that own links.
    public var row: [String: JSONValue]?
    /// The same row as values in the order of the page's `columns` for its table: how a page
    /// asked for with `shape=columns` carries its rows, each column's name once a page rather
    /// than once a row.
    public var values: [JSONValue]?

    public init(
        table: String, key: String, sequence: Int64, deleted: Bool, row: [String: JSONValue]?, values: [JSONValue]? = nil
    ) {
        self.table = table
        self.key = key
        self.sequence = sequence
        self.deleted = deleted
        self.row = row
        self.values = values
    }
}

public struct PullResponse: Codable, Sendable {
    public var changes: [RowChange]
    /// Pass this as `cursor` next time.
    public var cursor: Int64
    /// Whether more changes wait beyond this page.
    public var more: Bool
    /// The latest hybrid logical clock reading the server has applied: the device's clock moves
    /// past it, so its next edits are ordered after everything it has seen.
    public var clock: HLCTimestamp?
    /// A fingerprint of what decides the user's scope. When it differs from the one a device last
    /// saw, the device pulls its scope afresh and drops what it may no longer hold.
    public var scope: String?
    /// The server database's history: made when the database is, and made afresh when it is
    /// restored from a backup. A device that finds it changed — or `head` behind its cursor —
    /// knows the server lost what it had seen, and pulls everything afresh.
    public var epoch: String?
    /// The highest change sequence the server holds.
    public var head: Int64?
    /// The highest sequence number the server has applied from the pulling device: lower than what
    /// the device had acknowledged means the server lost some of its changes.
    public var applied: Int64?
    /// The largest `limit` this server takes: a device far behind asks for pages this large.
    public var maxLimit: Int?
    /// In a page in columns (`shape=columns`): each table's column names, in the order of the
    /// `values` of its rows.
    public var columns: [String: [String]]?

    public init(
        changes: [RowChange], cursor: Int64, more: Bool, clock: HLCTimestamp? = nil, scope: String? = nil, epoch: String? = nil,
        head: Int64? = nil, applied: Int64? = nil, maxLimit: Int? = nil
    ) {
        self.applied = applied
        self.maxLimit = maxLimit
        self.epoch = epoch
        self.head = head
        self.changes = changes
        self.cursor = cursor
        self.more = more
        self.clock = clock
        self.scope = scope
    }
}

/// The body of every error response.
public struct ErrorBody: Codable, Sendable {
    public var error: LocalityError
    /// The request's id (`X-Request-Id`), as the server's log shows it.
    public var requestId: String?

    public init(error: LocalityError, requestId: String? = nil) {
        self.error = error
        self.requestId = requestId
    }
}

extension LocalityError.Code {
    /// The request needs a valid bearer token.
    public static let unauthenticated = Self(rawValue: "unauthenticated")
    /// The server's operator revoked this device: it can neither sync nor log in again. Its
    /// unsent changes can be carried to a new home (`locality outbox export` / `import`).
    public static let deviceRevoked = Self(rawValue: "device_revoked")
    /// The client speaks a protocol version the server does not.
    public static let unsupportedVersion = Self(rawValue: "unsupported_protocol_version")
    /// A push skipped a sequence number: the device must resend from the server's last applied.
    public static let sequenceGap = Self(rawValue: "sequence_gap")
    /// The request body is larger than the server accepts.
    public static let tooLarge = Self(rawValue: "request_too_large")
    /// Too many failed logins: wait and try again.
    public static let rateLimited = Self(rawValue: "rate_limited")
    /// The server cannot reach its database just now: nothing was changed; try again.
    public static let unavailable = Self(rawValue: "unavailable")
}

extension PushRequest: JSONWritable, JSONReadable {
    public func writeJSON(into out: inout [UInt8]) {
        var object = JSONObjectWriter(into: &out)
        object.string("deviceId", deviceId.key, into: &out)
        object.array("mutations", mutations, into: &out)
        object.end(into: &out)
    }

    public init?(json: JSONValue) {
        guard case .object(let members) = json, case .string(let device)? = members["deviceId"],
            let deviceId = UUID(key: device), case .array(let items)? = members["mutations"]
        else { return nil }
        var mutations: [Mutation] = []
        mutations.reserveCapacity(items.count)
        for item in items {
            guard let mutation = Mutation(json: item) else { return nil }
            mutations.append(mutation)
        }
        self.init(deviceId: deviceId, mutations: mutations)
    }
}

extension MutationResult: JSONWritable {
    public func writeJSON(into out: inout [UInt8]) {
        var object = JSONObjectWriter(into: &out)
        object.integer("sequence", sequence, into: &out)
        object.string("mutationId", mutationId.key, into: &out)
        object.string("outcome", outcome.rawValue, into: &out)
        if let changeSequence { object.integer("changeSequence", changeSequence, into: &out) }
        // A rejection (rare) through the coders, so its error reads exactly as everywhere else.
        if let error, let value = try? JSONValueEncoder().encode(error) { object.value("error", value, into: &out) }
        object.end(into: &out)
    }
}

extension PushResponse: JSONWritable {
    public func writeJSON(into out: inout [UInt8]) {
        var object = JSONObjectWriter(into: &out)
        object.array("results", results, into: &out)
        object.integer("lastAppliedSequence", lastAppliedSequence, into: &out)
        if let epoch { object.string("epoch", epoch, into: &out) }
        object.end(into: &out)
    }
}

extension RowChange: JSONWritable, JSONReadable {
    public func writeJSON(into out: inout [UInt8]) {
        var object = JSONObjectWriter(into: &out)
        object.string("table", table, into: &out)
        object.string("key", key, into: &out)
        object.integer("sequence", sequence, into: &out)
        object.value("deleted", .bool(deleted), into: &out)
        if let row { object.value("row", .object(row), into: &out) }
        if let values { object.value("values", .array(values), into: &out) }
        object.end(into: &out)
    }

    public init?(json: JSONValue) {
        guard case .object(let members) = json, case .string(let table)? = members["table"],
            case .string(let key)? = members["key"], case .int(let sequence)? = members["sequence"],
            case .bool(let deleted)? = members["deleted"]
        else { return nil }
        var row: [String: JSONValue]?
        switch members["row"] {
        case nil, .null?: row = nil
        case .object(let columns)?: row = columns
        default: return nil
        }
        var values: [JSONValue]?
        switch members["values"] {
        case nil, .null?: values = nil
        case .array(let items)?: values = items
        default: return nil
        }
        self.init(table: table, key: key, sequence: sequence, deleted: deleted, row: row, values: values)
    }
}

extension PullResponse: JSONWritable, JSONReadable {
    public func writeJSON(into out: inout [UInt8]) {
        var object = JSONObjectWriter(into: &out)
        object.array("changes", changes, into: &out)
        object.integer("cursor", cursor, into: &out)
        object.value("more", .bool(more), into: &out)
        if let clock { object.string("clock", clock.description, into: &out) }
        if let scope { object.string("scope", scope, into: &out) }
        if let epoch { object.string("epoch", epoch, into: &out) }
        if let head { object.integer("head", head, into: &out) }
        if let applied { object.integer("applied", applied, into: &out) }
        if let maxLimit { object.integer("maxLimit", Int64(maxLimit), into: &out) }
        if let columns {
            object.value("columns", .object(columns.mapValues { .array($0.map(JSONValue.string)) }), into: &out)
        }
        object.end(into: &out)
    }

    public init?(json: JSONValue) {
        guard case .object(let members) = json, case .array(let items)? = members["changes"],
            case .int(let cursor)? = members["cursor"], case .bool(let more)? = members["more"]
        else { return nil }
        var changes: [RowChange] = []
        changes.reserveCapacity(items.count)
        for item in items {
            guard let change = RowChange(json: item) else { return nil }
            changes.append(change)
        }
        var clock: HLCTimestamp?
        switch members["clock"] {
        case nil, .null?: clock = nil
        case .string(let text)?:
            guard let parsed = try? HLCTimestamp(parsing: text) else { return nil }
            clock = parsed
        default: return nil
        }
        var scope: String?
        switch members["scope"] {
        case nil, .null?: scope = nil
        case .string(let text)?: scope = text
        default: return nil
        }
        let epoch: String? = if case .string(let text)? = members["epoch"] { text } else { nil }
        let head: Int64? = if case .int(let value)? = members["head"] { value } else { nil }
        let applied: Int64? = if case .int(let value)? = members["applied"] { value } else { nil }
        let maxLimit: Int? = if case .int(let value)? = members["maxLimit"], value > 0, value <= Int32.max { Int(value) } else { nil }
        var columns: [String: [String]]?
        switch members["columns"] {
        case nil, .null?: columns = nil
        case .object(let tables)?:
            var names: [String: [String]] = [:]
            for (table, list) in tables {
                guard case .array(let items) = list else { return nil }
                var strings: [String] = []
                strings.reserveCapacity(items.count)
                for item in items {
                    guard case .string(let name) = item else { return nil }
                    strings.append(name)
                }
                names[table] = strings
            }
            columns = names
        default: return nil
        }
        self.init(
            changes: changes, cursor: cursor, more: more, clock: clock, scope: scope, epoch: epoch, head: head, applied: applied,
            maxLimit: maxLimit)
        self.columns = columns
    }
}
