import Foundation
import GRDB
@testable import LocalityCore
import Testing

/// The sync's closing bookkeeping is committed without a flush, and leaves the replica's own
/// durability as it found it: every later change a person records is flushed as before.
@Suite struct ClosingWriteTests {
    @Test(arguments: [(Durability.full, 2), (Durability.normal, 1)])
    func theClosingWriteCommitsAndLeavesTheReplicasDurabilityAsItWas(durability: Durability, level: Int) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("locality-\(UUID().key).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let replica = try Replica.open(at: path, durability: durability)
        let during = try await SyncEngine.withoutFlush(replica.database) { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS probe (value TEXT); INSERT INTO probe VALUES ('kept')")
            return try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
        }
        #expect(during == 1)
        let after = try await replica.database.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 }
        #expect(after == level)
        let reopened = try Replica.open(at: path)
        #expect(try reopened.read { try String.fetchAll($0, sql: "SELECT value FROM probe") } == ["kept"])
        // A failure inside rolls back whole and still restores the level.
        await #expect(throws: DatabaseError.self) {
            try await SyncEngine.withoutFlush(replica.database) { db in
                try db.execute(sql: "INSERT INTO probe VALUES ('lost')")
                try db.execute(sql: "SELECT * FROM no_such_table")
            }
        }
        #expect(try await replica.database.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") ?? -1 } == level)
        #expect(try replica.read { try String.fetchAll($0, sql: "SELECT value FROM probe") } == ["kept"])
    }
}
