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
            try PulledRows.apply(page.changes, db)
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

        static func read(_ db: Database) throws -> PullStart {
            let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT cursor, scope, rescope_target, server_epoch, EXISTS (SELECT 1 FROM outbox) AS queued,
                    \(SyncEngine.lastAcknowledgedSQL) AS acknowledged
                FROM sync_state WHERE id = 1
                """))
            return PullStart(
                cursor: row?["cursor"] ?? 0, scope: row?["scope"], target: row?["rescope_target"], epoch: row?["server_epoch"],
                queued: row?["queued"] ?? true, acknowledged: row?["acknowledged"] ?? 0)
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
