import Foundation
import GRDB

/// How a device reaches the server: HTTP in the terminal client, a direct call in simulations.
public protocol SyncTransport: Sendable {
    func push(_ request: PushRequest) async throws -> PushResponse
    func pull(cursor: Int64, limit: Int) async throws -> PullResponse
}

/// What one sync did, for the person who asked for it.
public struct SyncSummary: Codable, Sendable {
    public var sent = 0
    public var accepted = 0
    public var rejected: [RejectedMutation] = []
    public var received = 0
    /// Open conflicts among the rows received: values overwritten by a concurrent edit.
    public var conflicts = 0
    /// Of those, the ones where this device's user's value was overwritten, and the ones where
    /// theirs overwrote someone else's.
    public var conflictsLost = 0
    public var conflictsWon = 0
    public var pages = 0
    public var cursor: Int64 = 0
    /// The server's newest change when the last page was read: with `cursor`, how far a long
    /// pull has to go.
    public var head: Int64?
    public var pending = 0
    /// Whether the user's scope changed (a ward or organisation gained or lost), so the device
    /// pulled everything in its scope afresh.
    public var scopeChanged = false
    /// Records that left the device because the user may no longer see them, by table.
    public var removed: [String: Int] = [:]
    /// The server was restored from a backup (or replaced) since this device last synced: the
    /// device sent back what it had had acknowledged and the server no longer held, and pulled
    /// everything afresh.
    public var serverRestored = false
    /// Changes sent again to a restored server.
    public var resent = 0
}

/// A mutation the server refused, with its reason.
public struct RejectedMutation: Codable, Sendable, Hashable {
    public var sequence: Int64
    public var id: UUID
    public var name: String
    public var code: String
    public var message: String
    public var createdAt: Date
    public var rejectedAt: Date
    /// What it was about, for a person: a title if it had one.
    public var summary: String
}

/// The device's side of sync: push the outbox, then pull until caught up, rebasing unconfirmed
/// local changes on top of each page.
public struct SyncEngine: Sendable {
    public let replica: Replica
    public let transport: any SyncTransport
    public var pullLimit: Int
    /// The most mutations one push request carries (the server takes up to `SyncProtocol.maxPushBatch`).
    public var pushBatch: Int

    public init(
        replica: Replica, transport: any SyncTransport, pullLimit: Int = SyncProtocol.defaultPullLimit,
        pushBatch: Int = SyncProtocol.maxPushBatch
    ) {
        self.replica = replica
        self.transport = transport
        self.pullLimit = pullLimit
        self.pushBatch = max(1, min(pushBatch, SyncProtocol.maxPushBatch))
    }

    /// How stale "last synced" may grow while every sync finds nothing: an idle sync within this
    /// long of the last recorded one writes nothing.
    static let idleRecordInterval: TimeInterval = 60

    public func sync(progress: @Sendable (SyncSummary) -> Void = { _ in }) async throws -> SyncSummary {
        var summary = SyncSummary()
        var caughtUp: PullResponse?
        let start = try await push(&summary)
        if try await pull(&summary, from: start, progress: progress, deferringLast: &caughtUp) {
            // The pull found the server restored: send back what it lost, then pull it all afresh.
            _ = try await push(&summary)
            _ = try await pull(&summary, progress: progress, deferringLast: &caughtUp)
        }
        // A sync with nothing to do, soon after the last: nothing to write.
        if let start, let caughtUp, summary.pages == 1, summary.received == 0, !summary.serverRestored, !summary.scopeChanged,
            start.isIdle(after: caughtUp, now: replica.environment.now())
        {
            summary.pending = 0
            return summary
        }
        // One transaction to finish: the last, empty page (when nothing waits here, the usual
        // case of a sync with nothing to do), the count of what is still queued, and the time.
        let now = Timestamps.format(replica.environment.now())
        summary.pending = try await replica.database.write { [caughtUp] db in
            if let caughtUp { try Self.applyEmptyPage(caughtUp, db) }
            try db.cachedStatement(sql: "UPDATE sync_state SET last_sync_at = ?, last_error = NULL WHERE id = 1")
                .execute(arguments: [now])
            // Acknowledged changes are kept for a while, for a server restored from an older backup.
            try db.cachedStatement(sql: """
                DELETE FROM sent_mutation WHERE acknowledged_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now',
                    '-' || (SELECT keep_sent_days FROM sync_state WHERE id = 1) || ' days')
                """).execute()
            return try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending'")) ?? 0
        }
        return summary
    }

    /// Pulls until caught up without pushing: local changes stay queued, shown on top.
    public func pullOnly(progress: @Sendable (SyncSummary) -> Void = { _ in }) async throws -> SyncSummary {
        var summary = SyncSummary()
        var caughtUp: PullResponse?
        if try await pull(&summary, progress: progress, deferringLast: &caughtUp) {
            _ = try await pull(&summary, progress: progress, deferringLast: &caughtUp)
        }
        if let caughtUp { try await replica.database.write { db in try Self.applyEmptyPage(caughtUp, db) } }
        return summary
    }

    /// Pulls until caught up. Returns true when it found the server restored (a new history, or
    /// behind this device's cursor) and set up a fresh pull: the caller pushes, then pulls again.
    ///
    /// A last page that brings nothing, when nothing is queued here, is handed back in
    /// `deferringLast` rather than written: the caller writes it with its own last transaction.
    private func pull(
        _ summary: inout SyncSummary, from start: PullStart? = nil, progress: @Sendable (SyncSummary) -> Void,
        deferringLast: inout PullResponse?
    ) async throws -> Bool {
        let known: PullStart
        if let start { known = start } else { known = try await replica.database.read { db in try PullStart.read(db) } }
        var (cursor, scope, target, epoch, queued) = (known.cursor, known.scope, known.target, known.epoch, known.queued)
        let acknowledged = known.acknowledged
        // The next page is fetched while this one is applied, so the server's work and the
        // device's overlap.
        var ahead: (cursor: Int64, task: Task<PullResponse, any Error>)?
        defer { ahead?.task.cancel() }
        var limit = pullLimit
        while true {
            let page: PullResponse
            if let prefetched = ahead, prefetched.cursor == cursor {
                page = try await prefetched.task.value
            } else {
                ahead?.task.cancel()
                page = try await transport.pull(cursor: cursor, limit: limit)
            }
            limit = Self.limit(after: page, base: pullLimit)
            ahead = nil
            if let serverEpoch = page.epoch {
                if epoch == nil {
                    epoch = serverEpoch
                    try await replica.database.write { db in
                        try db.execute(sql: "UPDATE sync_state SET server_epoch = ? WHERE id = 1", arguments: [serverEpoch])
                    }
                } else if serverEpoch != epoch || (page.head ?? .max) < cursor || (summary.pages == 0 && page.applied.map { $0 < acknowledged } ?? false) {
                    // Restored from a backup, or another database: what this device saw is not all there.
                    summary.serverRestored = true
                    summary.resent += try await replica.database.write { db in try Self.adoptRestoredHistory(epoch: serverEpoch, db) }
                    return true
                }
            }
            if let serverScope = page.scope, serverScope != (target ?? scope) {
                if scope == nil && target == nil {
                    // The first fingerprint this device has seen: nothing to compare it with.
                    scope = serverScope
                    try await replica.database.write { db in
                        try db.execute(sql: "UPDATE sync_state SET scope = ? WHERE id = 1", arguments: [serverScope])
                    }
                } else if try replica.outbox().isEmpty {
                    // The user's scope changed, and every change made here has been answered: pull the
                    // whole scope afresh, noting what arrives, so what does not can leave the device.
                    try await replica.database.write { db in
                        try db.execute(
                            sql: "UPDATE sync_state SET rescope_target = ?, cursor = 0 WHERE id = 1", arguments: [serverScope])
                        try db.execute(sql: "DELETE FROM rescope_seen")
                    }
                    target = serverScope
                    cursor = 0
                    summary.scopeChanged = true
                    continue
                } else if target != nil || scope != Self.mixedScope {
                    // Otherwise wait: changes made here must be pushed and answered before records can
                    // leave. This page and the rest are for the new scope, though, and what they skip
                    // (records the new scope cannot see) the cursor passes: the device's records are
                    // no longer any one scope's, and a rescope under way can no longer finish. Say so,
                    // so that the next sync with nothing waiting pulls the whole scope afresh — even
                    // if the scope has changed back by then.
                    try await replica.database.write { db in
                        try db.execute(
                            sql: "UPDATE sync_state SET scope = ?, rescope_target = NULL WHERE id = 1", arguments: [Self.mixedScope])
                        try db.execute(sql: "DELETE FROM rescope_seen")
                    }
                    scope = Self.mixedScope
                    target = nil
                }
            }
            if page.more {
                let (transport, next) = (self.transport, page.cursor)
                ahead = (next, Task { [limit] in try await transport.pull(cursor: next, limit: limit) })
            }
            let noting = target != nil
            if page.changes.isEmpty, !page.more, !noting, !queued {
                // Nothing arrived and nothing waits: the caller's last write moves the cursor.
                deferringLast = page
                summary.cursor = page.cursor
                summary.head = page.head ?? summary.head
                summary.pages += 1
                progress(summary)
                break
            }
            queued = true  // what a page brings may set queued changes aside; ask the database from now on
            // Off the cooperative threads: applying a page is blocking database work.
            try await replica.database.writeWithoutTransaction { db in try Self.applyPage(page, db, noting: noting) }
            cursor = page.cursor
            summary.received += page.changes.count
            let opened = page.changes.filter { $0.table == "conflict" && page.field("status", of: $0) == .string("open") }
            summary.conflicts += opened.count
            // Who this device's user is, read only when a page brings conflicts (rarely): not on every page.
            if !opened.isEmpty, let me = try? replica.identity()?.personId.key {
                summary.conflictsLost += opened.filter { page.field("lost_by", of: $0) == .string(me) }.count
                summary.conflictsWon += opened.filter { page.field("kept_by", of: $0) == .string(me) }.count
            }
            summary.pages += 1
            summary.cursor = cursor
            summary.head = page.head ?? summary.head
            progress(summary)
            if !page.more { break }
        }
        if let target {
            summary.scopeChanged = !summary.serverRestored
            summary.removed = try Self.finishRescope(target, replica.database)
        }
        return false
    }

    /// The scope recorded for a device whose records were pulled under more than one scope (a
    /// scope change met while changes made here still waited): no server's fingerprint, so the
    /// next sync that may rescope does.
    static let mixedScope = "mixed"

    /// The page size to ask for after `page`: the engine's own, or, far behind a server that
    /// takes larger pages, as large as it takes (up to `SyncProtocol.maxPullLimit`): a first sync
    /// of a large scope is then fewer round trips and fewer commits. A server that does not say
    /// takes what servers always took.
    static func limit(after page: PullResponse, base: Int) -> Int {
        guard page.more, let head = page.head, head - page.cursor > Int64(base) * 4 else { return base }
        return max(base, min(page.maxLimit ?? SyncProtocol.classicMaxPullLimit, SyncProtocol.maxPullLimit))
    }

    /// Ends a scope change: everything the device holds that the fresh pull did not bring leaves it,
    /// in one transaction. Returns how many rows left, by table.
    static func finishRescope(_ target: String, _ database: any DatabaseWriter) throws -> [String: Int] {
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            var removed: [String: Int] = [:]
            try db.inTransaction {
                try UndoLog.undoAll(db)
                for (table, key) in Schema.syncedTables {
                    let seen = "SELECT row_key FROM rescope_seen WHERE table_name = "
                    if let link = PulledRows.links.values.joined().first(where: { $0.table == table }) {
                        // Links travel inside their owner: they go when the owner goes.
                        let owner = PulledRows.links.first { $0.value.contains { $0.table == table } }!.key
                        try db.execute(sql: "DELETE FROM \(table) WHERE \(link.owner) NOT IN (\(seen)'\(owner)')")
                        continue
                    }
                    let keyText = key.count == 1 ? key[0] : key.joined(separator: " || ':' || ")
                    try db.execute(sql: "DELETE FROM \(table) WHERE \(keyText) NOT IN (\(seen)'\(table)')")
                    if db.changesCount > 0 { removed[table] = db.changesCount }
                }
                try db.execute(sql: "DELETE FROM rescope_seen")
                try db.execute(sql: "UPDATE sync_state SET scope = ?, rescope_target = NULL WHERE id = 1", arguments: [target])
                try reapplyUnconfirmed(db)
                return .commit
            }
            return removed
        }
    }

    static func rejected(_ sequence: Int64, _ db: Database) throws -> RejectedMutation? {
        try Row.fetchOne(db, sql: "SELECT * FROM rejected_mutation WHERE sequence = ?", arguments: [sequence])
            .map(RejectedMutation.init(row:))
    }
}

extension RejectedMutation {
    init(row: Row) throws {
        sequence = row["sequence"]
        id = try UUID.column(row, "id")
        name = row["name"]
        code = row["code"]
        message = row["message"]
        createdAt = Timestamps.parse(row["created_at"]) ?? Date(milliseconds: 0)
        rejectedAt = Timestamps.parse(row["rejected_at"]) ?? Date(milliseconds: 0)
        let arguments = (try? JSONParser.parse(row["arguments"] as String)) ?? .null
        if case .object(let fields) = arguments, case .string(let title)? = fields["title"] {
            summary = title
        } else if case .object(let fields) = arguments, case .string(let serial)? = fields["paperSerial"] {
            summary = "ballot paper \(serial)"
        } else {
            summary = ""
        }
    }
}

/// The server a replica syncs with, as stored on the device.
public struct SyncSettings: Codable, Sendable {
    public var serverURL: String
    public var token: String?
    public var cursor: Int64
    public var lastSyncAt: Date?
    public var lastError: String?
}

extension Replica {
    /// Binds a new, empty replica to a server account after a successful login. Its data
    /// arrives with the first sync.
    public func bind(serverURL: String, login: LoginResponse) throws {
        try database.write { db in
            if let state = try ReplicaState.fetchOne(db, sql: "SELECT * FROM replica WHERE id = 1") {
                guard state.origin == "server", state.deviceId == login.deviceId, state.personId == login.personId else {
                    throw LocalityError(
                        .replicaState,
                        state.origin == "demo"
                            ? "this home holds a demo replica made by `init --demo`, which cannot sync; log in from a new home (--home DIR)"
                            : "this home belongs to another account or device; log in from a new home (--home DIR)")
                }
                try db.execute(
                    sql: "UPDATE sync_state SET server_url = ?, token = ? WHERE id = 1", arguments: [serverURL, login.token])
                return
            }
            try ReplicaState(
                deviceId: login.deviceId, personId: login.personId, origin: "server", lastSequence: 0, lastHlc: nil,
                createdAt: Timestamps.truncated(environment.now())
            ).insert(db)
            try db.execute(
                sql: "INSERT INTO sync_state (id, server_url, token, cursor) VALUES (1, ?, ?, 0)",
                arguments: [serverURL, login.token])
        }
    }

    /// The device id and origin, readable before the first sync has brought the person's record.
    public func identity() throws -> (deviceId: UUID, personId: UUID, origin: String)? {
        try read { db in
            try ReplicaState.fetchOne(db, sql: "SELECT * FROM replica WHERE id = 1").map { ($0.deviceId, $0.personId, $0.origin) }
        }
    }

    public func syncSettings() throws -> SyncSettings? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sync_state WHERE id = 1").map {
                SyncSettings(
                    serverURL: $0["server_url"], token: $0["token"], cursor: $0["cursor"],
                    lastSyncAt: ($0["last_sync_at"] as String?).flatMap(Timestamps.parse), lastError: $0["last_error"])
            }
        }
    }

    public func recordSyncError(_ message: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE sync_state SET last_error = ? WHERE id = 1", arguments: [message])
        }
    }

    /// Mutations the server refused, newest first.
    public func rejectedMutations() throws -> [RejectedMutation] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rejected_mutation ORDER BY sequence DESC").map(RejectedMutation.init(row:))
        }
    }
}
