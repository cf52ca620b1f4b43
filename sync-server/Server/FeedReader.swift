import GRDB
import LocalityCore

/// One row of the change feed: which synced row changed, at what sequence, and whether it went.
struct FeedVersion {
    var table: String
    var key: String
    var sequence: Int64
    var deleted: Bool

    /// Read by position (`table_name, row_key, sequence, deleted`): a page reads thousands, and a
    /// lookup by name costs a lowercased copy and a hash each.
    init(_ row: Row) {
        table = row[0]
        key = row[1]
        sequence = row[2]
        deleted = (row[3] as Int) != 0
    }
}

/// Reads the change feed after a cursor: the whole of it, or only an actor's partitions.
enum FeedReader {
    /// The first `limit` feed rows after `cursor` in sequence order — of the whole feed, or of the
    /// partitions given. Each partition is read in order from its own index, at most `limit` rows
    /// from each, and the lists merged: any row the merged page leaves out comes after its last
    /// row, so a cursor at that row passes nothing unread. The cost follows the partitions and the
    /// page, never the rest of the feed.
    static func versions(after cursor: Int64, limit: Int, in partitions: FeedPartitions?, _ db: Database) throws -> [FeedVersion] {
        let columns = "SELECT table_name, row_key, sequence, deleted FROM row_version"
        guard let partitions else {
            return try Array(Row.fetchCursor(
                db.cachedStatement(sql: "\(columns) WHERE sequence > ? ORDER BY sequence LIMIT ?"), arguments: [cursor, limit]
            ).map(FeedVersion.init))
        }
        var rows = try Row.fetchAll(
            db.cachedStatement(sql: "\(columns) WHERE partition_key IS NULL AND sequence > ? ORDER BY sequence LIMIT ?"),
            arguments: [cursor, limit])
        let byPartition = try db.cachedStatement(sql: "\(columns) WHERE partition_key = ? AND sequence > ? ORDER BY sequence LIMIT ?")
        for key in partitions.keys {
            rows += try Row.fetchAll(byPartition, arguments: [key, cursor, limit])
        }
        rows += try Row.fetchAll(
            db.cachedStatement(sql: "\(columns) WHERE recorder = ? AND sequence > ? ORDER BY sequence LIMIT ?"),
            arguments: [partitions.recorder.key, cursor, limit])
        // A need of theirs in their own ward is in two partitions: once is enough.
        var seen = Set<Int64>()
        return Array(rows.map(FeedVersion.init).sorted { $0.sequence < $1.sequence }.filter { seen.insert($0.sequence).inserted }.prefix(limit))
    }
}
