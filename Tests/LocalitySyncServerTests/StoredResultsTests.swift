import Foundation
import GRDB
import LocalityCore
@testable import LocalitySyncServer
import Testing

/// The demo council with a councillor's device that has synced once and then recorded `count`
/// needs in Brockton offline: the store, the device's session and its outbox, in order.
private func councillorWithNeeds(_ count: Int) async throws -> (SQLiteSyncStore, Session, [Mutation]) {
    let store = try SQLiteSyncStore.inMemory()
    try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
    let device = try await SyncedDevice("cllr-north", store: store)
    try await device.sync()
    for index in 0..<count { try device.recordNeed(in: "brockton", title: "Need \(index)") }
    let session = try #require(try await store.authenticate(token: device.token, now: Date()))
    return (store, session, try device.replica.outbox())
}

/// The server keeps what became of each pushed mutation, a row a batch (`server v17`), so that a
/// retry is answered as the first push was and applies nothing twice.
@Suite("Stored results, a batch at a time")
struct StoredResultsTests {
    @Test func aRetryAcrossTwoStoredBatchesIsAnsweredFromBothAndAppliesOnlyWhatIsNew() async throws {
        let (store, session, recorded) = try await councillorWithNeeds(6)
        var mutations = recorded
        // One forged for a ward that is not the councillor's: refused, and the refusal is stored too.
        if case .object(var arguments) = mutations[2].arguments {
            arguments["localityId"] = .string(UUID.stable("demo:locality:clunbury").uuidString)
            mutations[2].arguments = .object(arguments)
        }
        func push(_ slice: ArraySlice<Mutation>) async throws -> PushResponse {
            try await store.push(PushRequest(deviceId: session.deviceId, mutations: Array(slice)), from: session, now: Date())
        }
        let first = try await push(mutations[..<3])
        let second = try await push(mutations[3..<5])
        #expect(first.results.map(\.outcome) == [.applied, .applied, .rejected])
        #expect(first.results[2].error?.code == .forbidden)

        // Both answers were lost: the device sends everything again, with one mutation more.
        let retry = try await push(mutations[1...])
        #expect(Array(retry.results.prefix(4)) == Array(first.results[1...] + second.results))
        #expect(retry.results.map(\.sequence) == mutations[1...].map(\.sequence))
        #expect(retry.results.last?.outcome == .applied)
        #expect(retry.lastAppliedSequence == mutations[5].sequence)

        let (titles, rows, batches) = try store.database.read { db in
            (
                try String.fetchAll(db, sql: "SELECT title FROM need WHERE title LIKE 'Need %' ORDER BY title"),
                try Row.fetchAll(
                    db, sql: "SELECT sequence, mutation_id, outcome, error_code FROM mutation_result WHERE device_id = ? ORDER BY sequence",
                    arguments: [session.deviceId.key]),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM push_result WHERE device_id = ?", arguments: [session.deviceId.key])
            )
        }
        #expect(titles == ["Need 0", "Need 1", "Need 3", "Need 4", "Need 5"])
        // One result a mutation, each once; three batches stored (the retry stored only its new one).
        #expect(rows.map { $0["sequence"] as Int64 } == mutations.map(\.sequence))
        #expect(rows.map { $0["mutation_id"] as String } == mutations.map(\.id.key))
        #expect(rows.map { $0["error_code"] as String? } == [nil, nil, "forbidden", nil, nil, nil])
        #expect(batches == 3)
    }

    /// A database written before `server v17` kept a row a mutation: each becomes a stored batch
    /// of one, and a retry of those mutations is answered as before.
    @Test func resultsStoredARowAMutationAreKeptThroughTheMigration() async throws {
        let database = try DatabaseQueue()
        try ServerSchema.migrator.migrate(database, upTo: "server v16 need partition from its own row")
        let (device, person) = (UUID(), UUID())
        let mutations = (0..<3).map { _ in UUID() }
        try await database.write { db in
            try db.execute(sql: "INSERT INTO person (id, username, display_name) VALUES (?, 'old', 'Old')", arguments: [person.key])
            try db.execute(
                sql: "INSERT INTO device (id, person_id, created_at, last_sequence) VALUES (?, ?, '2025-01-01T00:00:00Z', 3)",
                arguments: [device.key, person.key])
            for (index, mutation) in mutations.enumerated() {
                try db.execute(
                    sql: """
                        INSERT INTO mutation_result (device_id, sequence, mutation_id, name, outcome, change_sequence, error_code,
                            error_message, received_at)
                        VALUES (?, ?, ?, 'need.record', ?, ?, ?, ?, '2025-01-02T00:00:00Z')
                        """,
                    arguments: [
                        device.key, index + 1, mutation.key, index == 1 ? "rejected" : "applied", index == 1 ? nil : 10 + index,
                        index == 1 ? "forbidden" : nil, index == 1 ? "not yours" : nil,
                    ])
            }
        }
        let store = try SQLiteSyncStore(database: database)
        try await store.database.read { db in
            var reader = StoredResults.Reader(device: device.key)
            let results = try (1...3).map { try reader.result(for: Int64($0), db) }
            #expect(results.map { $0?.mutationId } == mutations)
            #expect(results.map { $0?.outcome } == [.applied, .rejected, .applied])
            #expect(results.map { $0?.changeSequence } == [10, nil, 12])
            #expect(results[1]?.error == LocalityError(.forbidden, "not yours"))
            #expect(try reader.result(for: 4, db) == nil)
            let view = try Row.fetchAll(db, sql: "SELECT * FROM mutation_result ORDER BY sequence")
            #expect(view.map { $0["name"] as String } == ["need.record", "need.record", "need.record"])
            #expect(view.map { $0["received_at"] as String } == Array(repeating: "2025-01-02T00:00:00Z", count: 3))
            #expect(view.map { $0["error_message"] as String? } == [nil, "not yours", nil])
        }
    }
}

@Suite("check: the kept answers")
struct StoredResultsCheckTests {
    @Test func checkFindsAnswersMissingTwiceOrShortAndPassesWhatPushesWrote() async throws {
        let (store, session, mutations) = try await councillorWithNeeds(5)
        for slice in [mutations[..<2], mutations[2...]] {
            _ = try await store.push(PushRequest(deviceId: session.deviceId, mutations: Array(slice)), from: session, now: Date())
        }
        let deviceKey = session.deviceId.key
        func check(after damage: String) async throws -> DatabaseCheck {
            try await store.database.write { db in
                try db.execute(sql: "SAVEPOINT damage")
                defer { try? db.execute(sql: "ROLLBACK TO damage; RELEASE damage") }
                try db.execute(sql: damage, arguments: [deviceKey])
                return try DatabaseCheck.run(db)
            }
        }
        let clean = try await store.database.read { try DatabaseCheck.run($0) }
        #expect(clean.resultProblems.isEmpty && clean.exitCode == 0)

        let lost = try await check(after: "DELETE FROM push_result WHERE device_id = ? AND first_sequence = 1")
        #expect(lost.resultProblems == ["device \(deviceKey): no answers kept for mutations 1–2"])
        #expect(lost.exitCode == 3)
        let twice = try await check(after: "UPDATE push_result SET first_sequence = 2 WHERE device_id = ? AND first_sequence = 3")
        #expect(twice.resultProblems.contains { $0.contains("mutations 2–5 answered twice") })
        let short = try await check(after: "UPDATE push_result SET results = json_remove(results, '$[0]') WHERE device_id = ? AND first_sequence = 3")
        #expect(short.resultProblems == ["device \(deviceKey): the batch of mutations 3–5 holds 2 results"])
        let unreadable = try await check(after: "UPDATE push_result SET results = 'not json' WHERE device_id = ? AND first_sequence = 3")
        #expect(unreadable.resultProblems == ["device \(deviceKey): the batch of mutations 3–5 holds unreadable results"])
        let behind = try await check(after: "UPDATE device SET last_sequence = 6 WHERE id = ?")
        #expect(behind.resultProblems == ["device \(deviceKey): applied up to 6, answers kept up to 5"])
    }
}
