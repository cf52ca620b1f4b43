import Foundation
import GRDB

/// The changes a device made that no server has answered, in a file a person can carry to a new
/// home: when a device is revoked (it can no longer sync) or its replica is damaged. Each change
/// is its mutation's name and arguments; a new home performs them again, as its own, in order.
public struct PendingChanges: Codable, Sendable {
    public static let format = "locality-pending-changes"

    public var format: String
    public var version: Int
    /// Whose changes they are: a new home imports them only for the same account.
    public var username: String?
    public var personId: UUID?
    public var deviceId: UUID?
    public var exportedAt: Date
    public var changes: [Change]
    /// Outbox rows that could not be read (a damaged replica), by sequence number.
    public var unreadable: [Int64]

    public struct Change: Codable, Sendable {
        public var sequence: Int64
        public var name: MutationName
        public var createdAt: Date
        public var arguments: JSONValue
    }

    public init(username: String?, personId: UUID?, deviceId: UUID?, exportedAt: Date, changes: [Change], unreadable: [Int64] = []) {
        format = Self.format
        version = 1
        self.username = username
        self.personId = personId
        self.deviceId = deviceId
        self.exportedAt = exportedAt
        self.changes = changes
        self.unreadable = unreadable
    }

    public static func read(from path: String) throws -> PendingChanges {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw LocalityError.invalidInput("cannot read \(path): \(error.localizedDescription)")
        }
        let changes: PendingChanges
        do { changes = try JSONCoding.decode(PendingChanges.self, from: data) } catch let error as DecodingError {
            throw LocalityError.invalidInput("\(path) is not a file of pending changes: \(JSONCoding.describe(error))")
        }
        guard changes.format == Self.format, changes.version == 1 else {
            throw LocalityError.invalidInput("\(path) is not a file of pending changes (format '\(changes.format)' version \(changes.version))")
        }
        return changes
    }

    public func write(to path: String) throws {
        do {
            try Data(try JSONCoding.prettyEncoder.encode(self)).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw LocalityError.invalidInput("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// What became of each change when a new home performed it.
    public struct Outcome: Codable, Sendable {
        public var sequence: Int64
        public var name: MutationName
        public var applied: Bool
        public var error: LocalityError?
    }
}

extension Replica {
    /// This device's pending changes, oldest first.
    public func exportPending(now: Date = Date()) throws -> PendingChanges {
        try database.read { db in
            let state = try ReplicaState.load(db)
            let username = try String.fetchOne(db, sql: "SELECT username FROM person WHERE id = ?", arguments: [state.personId.key])
            let changes = try OutboxEntry.pending(db).map {
                PendingChanges.Change(sequence: $0.mutation.sequence, name: $0.mutation.name, createdAt: $0.mutation.createdAt, arguments: $0.mutation.arguments)
            }
            return PendingChanges(username: username, personId: state.personId, deviceId: state.deviceId, exportedAt: now, changes: changes)
        }
    }

    /// Performs each carried change again on this home, in order, as its own user; each is
    /// validated afresh and queued for this home's next sync. A change refused here (a record it
    /// names is gone, or it was imported already) is reported, and the rest go on.
    public func importPending(_ file: PendingChanges) throws -> [PendingChanges.Outcome] {
        let me = try whoami()
        if let personId = file.personId, personId != me.id {
            throw LocalityError.forbidden(
                "these changes were made by \(file.username ?? personId.key); this home is \(me.username)'s: log in as \(file.username ?? "them") to carry them over")
        }
        var outcomes: [PendingChanges.Outcome] = []
        for change in file.changes {
            do {
                let command = try change.name.command(arguments: change.arguments)
                try perform(command)
                outcomes.append(.init(sequence: change.sequence, name: change.name, applied: true, error: nil))
            } catch let error as LocalityError {
                outcomes.append(.init(sequence: change.sequence, name: change.name, applied: false, error: error))
            }
        }
        return outcomes
    }

    /// What can be read of a damaged replica's pending changes: the file is opened read-only and
    /// as plainly as possible, and each outbox row is read on its own, so that one bad page loses
    /// only the rows on it.
    public static func salvagePending(at path: String, now: Date = Date()) throws -> PendingChanges {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        // Without a transaction: on a damaged file even the COMMIT of a read can fail.
        return queue.inDatabase { db in
            let state = try? Row.fetchOne(db, sql: "SELECT device_id, person_id FROM replica WHERE id = 1")
            let personId = (state?["person_id"] as String?).flatMap(UUID.init(key:))
            let username = try? personId.flatMap { try String.fetchOne(db, sql: "SELECT username FROM person WHERE id = ?", arguments: [$0.key]) }
            // The range of sequence numbers: the highest the index gives (itself perhaps damaged, so
            // bounded), else rows are tried until a long run of gaps.
            let indexed = (try? Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM outbox")) ?? nil
            let highest = min(indexed ?? 100_000, 100_000)
            var changes: [PendingChanges.Change] = []
            var unreadable: [Int64] = []
            // Rows up to the last the server answered have left the outbox.
            let first = ((try? Int64.fetchOne(db, sql: "SELECT last_sequence FROM replica WHERE id = 1")) ?? nil ?? 0) + 1
            var gaps = 0
            for sequence in stride(from: first, through: max(first, highest), by: 1) {
                if gaps > 1_000 { break }
                do {
                    guard let row = try Row.fetchOne(
                        db, sql: "SELECT name, arguments, created_at, state FROM outbox WHERE sequence = ?", arguments: [sequence])
                    else {
                        gaps += 1
                        continue
                    }
                    gaps = 0
                    guard (row["state"] as String?) == "pending" else { continue }
                    guard let name = MutationName(rawValue: row["name"] ?? "") else { unreadable.append(sequence); continue }
                    let arguments = try JSONParser.parse(Array(((row["arguments"] as String?) ?? "").utf8))
                    changes.append(.init(
                        sequence: sequence, name: name, createdAt: Timestamps.parse(row["created_at"] ?? "") ?? now, arguments: arguments))
                } catch {
                    unreadable.append(sequence)
                }
            }
            return PendingChanges(
                username: username ?? nil, personId: personId, deviceId: (state?["device_id"] as String?).flatMap(UUID.init(key:)),
                exportedAt: now, changes: changes, unreadable: unreadable)
        }
    }

    /// SQLite's own check of a replica file: "ok", or the problems it found.
    public static func integrityProblems(at path: String) throws -> [String] {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        let lines = try queue.inDatabase { db in try String.fetchAll(db, sql: "PRAGMA integrity_check(20)") }
        return lines == ["ok"] ? [] : lines
    }
}
