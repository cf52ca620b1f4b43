import Foundation
import GRDB

/// A server restored from a backup (or replaced by another database): how a device notices and
/// heals it. Changes the server answered stay on the device for a while after they leave the
/// outbox (`sent_mutation`); when the server's history id changes, or it is behind what the device
/// has seen, or it has applied fewer of the device's changes than it acknowledged, they go back in
/// the outbox and the device pulls its scope afresh.
extension SyncEngine {
    /// The server's history is not the one this device synced with (restored from a backup, or a
    /// new database): everything the server answered (applied or refused: each holds a sequence
    /// number the server needs, gap-free) that this device still keeps goes back in
    /// the outbox — the server answers what it already has from its records and applies the rest, in
    /// order, with their original ids — and the device pulls its whole scope afresh, so that records
    /// the server no longer has leave it.
    static func adoptRestoredHistory(epoch: String?, _ db: Database) throws -> Int {
        try db.execute(sql: """
            INSERT OR IGNORE INTO outbox (sequence, id, name, arguments, hlc, device_id, actor_id, created_at, state)
            SELECT sequence, id, name, arguments, hlc, device_id, actor_id, created_at, 'pending' FROM sent_mutation
            """)
        var resent = db.changesCount
        try db.execute(sql: "UPDATE outbox SET state = 'pending', change_sequence = NULL WHERE state IN ('applied', 'rejected')")
        resent += db.changesCount
        try db.execute(sql: "DELETE FROM sent_mutation")
        try db.execute(
            sql: "UPDATE sync_state SET server_epoch = COALESCE(?, server_epoch), cursor = 0, rescope_target = COALESCE(scope, rescope_target) WHERE id = 1",
            arguments: [epoch])
        try db.execute(sql: "DELETE FROM rescope_seen")
        return resent
    }

    /// The newest of this device's changes the server has answered (kept in `sent_mutation` a
    /// while after they leave the outbox). A server whose `applied` is below it has lost them.
    static let lastAcknowledgedSQL = """
        (SELECT MAX(sequence) FROM (SELECT MAX(sequence) AS sequence FROM sent_mutation
            UNION ALL SELECT MAX(sequence) FROM outbox WHERE state IN ('applied', 'rejected')))
        """

    func keepDays() throws -> Int {
        try replica.read { db in try Int.fetchOne(db, sql: "SELECT keep_sent_days FROM sync_state WHERE id = 1") ?? 14 }
    }
}

extension Replica {
    /// How many days acknowledged changes are kept, to send back to a server restored from a backup.
    public func setKeepSentDays(_ days: Int) throws {
        guard (1...3650).contains(days) else { throw LocalityError.invalidInput("keep acknowledged changes from 1 to 3650 days, not \(days)") }
        try database.write { db in try db.execute(sql: "UPDATE sync_state SET keep_sent_days = ? WHERE id = 1", arguments: [days]) }
    }
}
