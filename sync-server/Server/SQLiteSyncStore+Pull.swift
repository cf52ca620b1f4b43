import Foundation
import GRDB
import LocalityCore

/// Pulling: a page of what a device's user may see after its cursor, read from the change feed
/// (through the feed's partitions when the stretch ahead is long) and judged row by row.
extension SQLiteSyncStore {
    /// The token checked and the page read in one read of the database: the usual pull, and most
    /// of a sync with nothing to do, without a second trip to a reader.
    public func pull(after cursor: Int64, limit: Int, token: String, now: Date) async throws -> (Session, PullResponse)? {
        let hash = Self.hash(token: token)
        return try await database.read { [self] db in
            guard let session = try Self.session(tokenHash: hash, now: now, db) else { return nil }
            return (session, try page(after: cursor, limit: limit, for: session, db))
        }
    }

    public func pull(after cursor: Int64, limit: Int, for session: Session) async throws -> PullResponse {
        try await database.read { [self] db in try page(after: cursor, limit: limit, for: session, db) }
    }

    /// One page of what `session` may see after `cursor`, in a read the caller holds.
    func page(after cursor: Int64, limit: Int, for session: Session, _ db: Database) throws -> PullResponse {
        let limit = min(max(limit, 1), SyncProtocol.maxPullLimit)
        let actor = try Actor.load(db, personId: session.personId)
        let scope = ScopeCheck(actor: actor)
        let head = try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM change_counter WHERE id = 1")) ?? 0
        // Partitions pay when the feed ahead is long (a first sync, a long absence); a short
        // delta is cheaper walked.
        let partitions = readsFeedPartitions && head - cursor > Int64(limit) * 2 ? try FeedPartitions.of(actor, db) : nil
        let versions = try FeedReader.versions(after: cursor, limit: limit + 1, in: partitions, db)
        var changes: [RowChange] = []
        var next = cursor
        // The page's rows, read a table at a time.
        var wanted: [String: [String]] = [:]
        for version in versions.prefix(limit) where !version.deleted {
            wanted[version.table, default: []].append(version.key)
        }
        var rows: [String: [String: [String: JSONValue]]] = [:]
        for (table, keys) in wanted { rows[table] = try RowLoader.load(table: table, keys: keys, db) }
        for version in versions.prefix(limit) {
            let (table, key, sequence) = (version.table, version.key, version.sequence)
            next = sequence
            if version.deleted {
                changes.append(RowChange(table: table, key: key, sequence: sequence, deleted: true, row: nil))
                continue
            }
            guard let row = rows[table]?[key] else { continue }
            guard try scope.canSee(table: table, row: row, db) else {
                // A need that came to hold personal data after it was recorded may be on devices
                // that can no longer see it: tell them to drop it (a device without it ignores this).
                if table == "need", row["holds_personal_data"] == .int(1),
                    case .string(let clocks)? = row["field_clocks"], clocks.contains("holdsPersonalData")
                {
                    changes.append(RowChange(table: table, key: key, sequence: sequence, deleted: true, row: nil))
                }
                continue
            }
            changes.append(RowChange(table: table, key: key, sequence: sequence, deleted: false, row: row))
        }
        let clock = try String.fetchOne(db.cachedStatement(sql: "SELECT hlc FROM clock_high_water WHERE id = 1"))
            .flatMap { try? HLCTimestamp(parsing: $0) }
        // Read through its partitions to the end, the device has seen all it may up to the head.
        if partitions != nil, versions.count <= limit { next = max(next, head) }
        return PullResponse(changes: changes, cursor: next, more: versions.count > limit, clock: clock,
            scope: Visibility.scopeFingerprint(of: actor),
            epoch: try String.fetchOne(db.cachedStatement(sql: "SELECT epoch FROM server_history WHERE id = 1")),
            head: head,
            applied: try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT last_sequence FROM device WHERE id = ?"), arguments: [session.deviceId.key]))
    }
}
