import Foundation
import GRDB

/// Where a pull starts, and how a pulled page lands in the replica: the device's half of the
/// cursor rules, kept apart from the request loop in `SyncEngine`.
extension SyncEngine {
    /// Applies one page atomically: set local changes aside, write the server's rows, retire what
    /// the server has now reflected, and put the rest back on top. Foreign keys are not enforced
    /// while doing so: the server is the judge of integrity, and its pages come in change order,
    /// not dependency order.
    static func applyPage(_ page: PullResponse, _ db: Database, noting: Bool = false) throws {
        if page.changes.isEmpty, try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM outbox)")) == false {
            try db.inTransaction {
                try applyEmptyPage(page, db)
                return .commit
            }
            return
        }
        try db.execute(sql: "PRAGMA foreign_keys = OFF")
        defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
        try db.inTransaction {
            try UndoLog.undoAll(db)
            try PulledRows.apply(page.changes, columns: page.columns, db)
            if noting {
                for change in page.changes {
                    try db.cachedStatement(
                        sql: change.deleted
                            ? "DELETE FROM rescope_seen WHERE table_name = ? AND row_key = ?"
                            : "INSERT OR IGNORE INTO rescope_seen (table_name, row_key) VALUES (?, ?)"
                    ).execute(arguments: [change.table, change.key])
                }
            }
            try db.cachedStatement(sql: "UPDATE sync_state SET cursor = ? WHERE id = 1").execute(arguments: [page.cursor])
            try retireAnswered(upTo: page.cursor, clock: page.clock, db)
            try reapplyUnconfirmed(db)
            return .commit
        }
    }

    /// Where a pull starts: the device's cursor and what it knows of the server and its scope.
    struct PullStart: Sendable {
        var cursor: Int64, scope: String?, target: String?, epoch: String?
        /// Whether anything is in the outbox, answered or not.
        var queued: Bool
        /// The newest of this device's changes the server has answered.
        var acknowledged: Int64
        /// The last sync's bookkeeping: when it ended, whether it failed, the newest clock seen.
        var lastSync: Date?, failed: Bool, clock: HLCTimestamp?

        static func read(_ db: Database) throws -> PullStart {
            let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT cursor, scope, rescope_target, server_epoch, EXISTS (SELECT 1 FROM outbox) AS queued,
                    \(SyncEngine.lastAcknowledgedSQL) AS acknowledged, last_sync_at, last_error IS NOT NULL AS failed,
                    (SELECT last_hlc FROM replica WHERE id = 1) AS clock
                FROM sync_state WHERE id = 1
                """))
            return PullStart(
                cursor: row?["cursor"] ?? 0, scope: row?["scope"], target: row?["rescope_target"], epoch: row?["server_epoch"],
                queued: row?["queued"] ?? true, acknowledged: row?["acknowledged"] ?? 0,
                lastSync: (row?["last_sync_at"] as String?).flatMap(Timestamps.parse), failed: row?["failed"] ?? true,
                clock: (row?["clock"] as String?).flatMap { try? HLCTimestamp(parsing: $0) })
        }

        /// Whether a sync that pushed nothing and found only `page`, empty, changes nothing worth a
        /// write: the cursor stays, nothing waits to be retired, the server's clock is no news, the
        /// last sync succeeded and ended less than `SyncEngine.idleRecordInterval` ago. Then the
        /// device writes nothing at all — no flash wear and no flush for a device that syncs every
        /// few seconds with nothing new — and "last synced" is at most that interval stale.
        func isIdle(after page: PullResponse, now: Date) -> Bool {
            guard page.changes.isEmpty, page.cursor == cursor, !queued, !failed, target == nil, scope != nil, epoch != nil,
                let lastSync, now.timeIntervalSince(lastSync) >= 0, now.timeIntervalSince(lastSync) < SyncEngine.idleRecordInterval
            else { return false }
            guard let serverClock = page.clock else { return true }
            return clock.map { serverClock <= $0 } ?? false
        }
    }

    /// A page that brought nothing, when nothing waits here: moves the cursor (past rows outside
    /// this device's scope) and the clock, without setting local changes aside. In a transaction.
    static func applyEmptyPage(_ page: PullResponse, _ db: Database) throws {
        precondition(page.changes.isEmpty)
        try db.cachedStatement(sql: "UPDATE sync_state SET cursor = ? WHERE id = 1").execute(arguments: [page.cursor])
        try retireAnswered(upTo: page.cursor, clock: page.clock, db)
    }

    /// Removes from the outbox what needs no more attention: rejected mutations (kept in
    /// `rejected_mutation`) and applied ones whose effects the pulled rows now include.
    private static func retireAnswered(upTo cursor: Int64, clock: HLCTimestamp?, _ db: Database) throws {
        let state = try ReplicaState.load(db)
        let counters = try ReplicaState.counters(state, db)
        try db.cachedStatement(sql: "UPDATE replica SET last_sequence = ?, last_hlc = ? WHERE id = 1")
            .execute(arguments: [counters.sequence, HLCTimestamp.later(counters.hlc, clock)?.description])
        // Kept a while after they leave the outbox, for a server restored from an older backup.
        try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO sent_mutation (sequence, id, name, arguments, hlc, device_id, actor_id, created_at, acknowledged_at)
                SELECT sequence, id, name, arguments, hlc, device_id, actor_id, created_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                FROM outbox WHERE state = 'rejected' OR (state = 'applied' AND change_sequence <= ?)
                """
        ).execute(arguments: [cursor])
        try db.cachedStatement(sql: "DELETE FROM outbox WHERE state = 'rejected' OR (state = 'applied' AND change_sequence <= ?)")
            .execute(arguments: [cursor])
    }

    /// Re-applies, oldest first, what the pulled rows do not yet include, capturing undo again.
    /// One that no longer applies stays queued without a local effect: the server will judge it.
    static func reapplyUnconfirmed(_ db: Database) throws {
        for entry in try OutboxEntry.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY sequence") {
            let mutation = entry.mutation
            try UndoLog.capture(mutation.sequence, db)
            do {
                try mutation.apply(as: mutation.actorId, db)
            } catch is LocalityError {
                continue
            }
        }
        try UndoLog.capture(nil, db)
    }
}
