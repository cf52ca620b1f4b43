import Foundation
import GRDB
import LocalityCore
@testable import LocalitySyncServer
import Testing

/// A councillor's pull reads only their partitions of the change feed. Whatever it reads, every
/// account must receive exactly what reading the whole feed would give it: no row it may see left
/// out, none it may not see let in.
@Suite("The change feed read by partitions")
struct FeedPartitionTests {
    /// Seeds 1–3, or `LOCALITY_FEED_SEEDS` of them from `LOCALITY_SEED` (scripts/soak-seeds.sh).
    static var seeds: [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        guard let first = environment["LOCALITY_SEED"].flatMap(UInt64.init) else { return [1, 2, 3] }
        let count = environment["LOCALITY_FEED_SEEDS"].flatMap(UInt64.init) ?? 1
        return Array(first..<first + max(count, 1))
    }

    @Test(arguments: seeds)
    func everyAccountReceivesExactlyWhatTheWholeFeedWouldGiveIt(seed: UInt64) async throws {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        try await store.database.write { db in
            var generator = SeededGenerator(seed: seed)
            let localities = try String.fetchAll(db, sql: "SELECT id FROM locality ORDER BY id")
            let people = DemoCouncil.usernames.map { DemoCouncil.personID($0).key }
            var needs: [String] = []
            for index in 0..<300 {
                let id = UUID.v7(at: Date(), using: &generator).key
                needs.append(id)
                try db.execute(
                    sql: """
                        INSERT INTO need (id, locality_id, title, description, severity, holds_personal_data, status, recorded_by,
                            recorded_at, updated_at) VALUES (?, ?, ?, '', 3, ?, 'open', ?, '2026-11-30T10:00:00.000Z', '2026-11-30T10:00:00.000Z')
                        """,
                    arguments: [id, localities.randomElement(using: &generator)!, "Need \(index)", Int.random(in: 0..<3, using: &generator) == 0,
                                people.randomElement(using: &generator)!])
                if Int.random(in: 0..<4, using: &generator) == 0 {
                    try db.execute(
                        sql: """
                            INSERT INTO need_evidence (need_id, id, kind, note, observed_on, added_by, added_at)
                            VALUES (?, ?, 'survey', 'Seen', '2026-11-30', ?, '2026-11-30T10:00:00.000Z')
                            """, arguments: [id, UUID.v7(at: Date(), using: &generator).key, people.randomElement(using: &generator)!])
                }
            }
            // Needs deleted (as a restore or a test might), their evidence with them.
            for _ in 0..<5 {
                try db.execute(sql: "DELETE FROM need WHERE id = ?", arguments: [needs.randomElement(using: &generator)!])
            }
            // Needs moved to another place, and needs that came to hold personal data, after they were recorded.
            for _ in 0..<30 {
                try db.execute(sql: "UPDATE need SET locality_id = ? WHERE id = ?",
                               arguments: [localities.randomElement(using: &generator)!, needs.randomElement(using: &generator)!])
                try db.execute(sql: "UPDATE need SET holds_personal_data = 1 WHERE id = ?", arguments: [needs.randomElement(using: &generator)!])
                // …some of them by an edit, which devices that saw the need before must hear of.
                try db.execute(
                    sql: "UPDATE need SET holds_personal_data = 1, field_clocks = '{\"holdsPersonalData\":\"x\"}' WHERE id = ?",
                    arguments: [needs.randomElement(using: &generator)!])
            }
        }
        var walker = store
        walker.readsFeedPartitions = false
        var partitioned = 0, drops = 0
        for username in DemoCouncil.usernames {
            guard case .success(let login) = try await store.login(
                LoginRequest(username: username, password: DemoCouncil.password, deviceId: UUID()), token: UUID().uuidString, now: Date()),
                let session = try await store.authenticate(token: login.token, now: Date())
            else { Issue.record("\(username) cannot log in"); continue }
            // Every row and every instruction to drop one, read in small pages (so partitions are
            // merged across many), and read by walking the whole feed.
            func received(from store: SQLiteSyncStore) async throws -> Set<String> {
                var received = Set<String>()
                var cursor: Int64 = 0
                while true {
                    let page = try await store.pull(after: cursor, limit: 7, for: session)
                    for change in page.changes { received.insert("\(change.table)/\(change.key)\(change.deleted ? " dropped" : "")") }
                    #expect(page.cursor >= cursor)
                    cursor = page.cursor
                    if !page.more { break }
                }
                return received
            }
            let (read, walked) = (try await received(from: store), try await received(from: walker))
            if try await store.database.read({ db in try FeedPartitions.of(try Actor.load(db, personId: session.personId), db) }) != nil {
                partitioned += 1
            }
            let extra = read.subtracting(walked), missing = walked.subtracting(read)
            #expect(extra.isEmpty && missing.isEmpty, "\(username), seed \(seed): too many \(extra.sorted().prefix(3)), missing \(missing.sorted().prefix(3)) (\(extra.count), \(missing.count))")
            drops += walked.filter { $0.hasSuffix(" dropped") }.count
        }
        // The councillors' pulls went through their partitions.
        #expect(partitioned == 2)
        // Needs that came to hold personal data were dropped from devices that may no longer hold them.
        #expect(drops > 0)
    }
}
