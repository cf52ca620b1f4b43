import Foundation
import GRDB
import LocalityCore
@testable import LocalitySyncServer
import Testing

/// `server v18` makes the need table again (its title's CHECK without a function call) and
/// gives a new need's feed row a trigger without an upsert, so that recording a need needs no
/// statement journal. What a council already holds must come through whole.
@Suite("Need inserts without a statement journal (server v18)")
struct LeanNeedInsertTests {
    @Test func needsTheirEvidenceIndexesAndTriggersComeThroughTheRebuild() async throws {
        let database = try DatabaseQueue()
        try ServerSchema.migrator.migrate(database, upTo: "server v17 stored results a batch at a time")
        try await database.write { try DemoCouncil.load(into: $0) }
        func state(_ db: Database) throws -> [[String]] {
            [
                try Row.fetchAll(db, sql: "SELECT * FROM need ORDER BY id").map { $0.description },
                try Row.fetchAll(db, sql: "SELECT * FROM need_evidence ORDER BY need_id, id").map { $0.description },
                try Row.fetchAll(db, sql: "SELECT * FROM row_version ORDER BY sequence").map { $0.description },
                try String.fetchAll(db, sql: "SELECT type || ' ' || name FROM sqlite_master WHERE tbl_name = 'need' ORDER BY 1"),
            ]
        }
        let before = try database.read(state)
        #expect(before[0].count > 0 && before[1].count > 0)

        let store = try SQLiteSyncStore(database: database)  // migrates to the latest
        let after = try store.database.read(state)
        #expect(after == before)
        try await store.database.read { db in
            let create = try #require(try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'need'"))
            #expect(create.contains(LeanNeedInsert.checkAfter) && !create.contains(LeanNeedInsert.checkBefore))
            #expect(try db.foreignKeyViolations().next() == nil)
        }
    }

    @Test func theTitleRuleStillHoldsAndANewNeedGetsItsFeedRowAndPartition() async throws {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let (brockton, recorder) = (UUID.stable("demo:locality:brockton").key, DemoCouncil.personID("cllr-north").key)
        // The partition the rest of the server computes for a need recorded holding personal data.
        let personalPartition = FeedPartitions.key(locality: UUID.stable("demo:locality:brockton"), recordedPersonal: true)
        try await store.database.write { db in
            func insert(_ id: UUID, title: String, personal: Int) throws {
                try db.execute(
                    sql: """
                        INSERT OR FAIL INTO need (id, locality_id, title, severity, holds_personal_data, status, recorded_by, recorded_at, updated_at)
                        VALUES (?, ?, ?, 3, ?, 'open', ?, '2026-12-03T10:00:00Z', '2026-12-03T10:00:00Z')
                        """,
                    arguments: [id.key, brockton, title, personal, recorder])
            }
            let (open, personal) = (UUID(), UUID())
            #expect(throws: DatabaseError.self) { try insert(UUID(), title: "", personal: 0) }
            let head = try #require(try Int64.fetchOne(db, sql: "SELECT value FROM change_counter"))
            try insert(open, title: "Verges not cut", personal: 0)
            try insert(personal, title: "A resident's housing", personal: 1)
            let rows = try Row.fetchAll(
                db, sql: "SELECT row_key, sequence, deleted, partition_key, recorder FROM row_version WHERE sequence > ? ORDER BY sequence",
                arguments: [head])
            #expect(rows.map { $0["row_key"] as String } == [open.key, personal.key])
            #expect(rows.map { $0["sequence"] as Int64 } == [head + 1, head + 2])
            #expect(rows.map { $0["partition_key"] as String } == [brockton, personalPartition])
            #expect(rows.allSatisfy { $0["recorder"] == recorder && $0["deleted"] == 0 })
            // Evidence takes its need's partition and recorder.
            try db.execute(
                sql: """
                    INSERT OR FAIL INTO need_evidence (id, need_id, kind, note, observed_on, added_by, added_at)
                    VALUES ('e1', ?, 'survey', 'Asked at the surgery', '2026-12-01', ?, '2026-12-03T10:00:00Z')
                    """,
                arguments: [personal.key, recorder])
            let evidence = try #require(try Row.fetchOne(
                db, sql: "SELECT sequence, partition_key, recorder FROM row_version WHERE table_name = 'need_evidence' AND row_key = ?",
                arguments: [personal.key + ":e1"]))
            #expect(evidence["sequence"] == head + 3)
            #expect(evidence["partition_key"] == personalPartition)
            #expect(evidence["recorder"] == recorder)

            // Deleted and recorded again under the same id: still one feed row, at the newest sequence.
            try db.execute(sql: "DELETE FROM need_evidence WHERE need_id = ?", arguments: [open.key])
            try db.execute(sql: "DELETE FROM need WHERE id = ?", arguments: [open.key])
            try insert(open, title: "Verges not cut, again", personal: 0)
            let again = try Row.fetchAll(db, sql: "SELECT sequence, deleted FROM row_version WHERE row_key = ?", arguments: [open.key])
            #expect(again.count == 1)
            #expect(again.first?["sequence"] == (try Int64.fetchOne(db, sql: "SELECT value FROM change_counter")))
            #expect(again.first?["deleted"] == 0)
        }
    }
}
