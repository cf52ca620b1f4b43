import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Synchronization
import Testing

/// A device that syncs every few seconds with nothing new writes nothing (no flush, no flash
/// wear), and still records the time at least once a minute and everything that did change.
@Suite("An idle sync writes nothing")
struct IdleSyncTests {
    final class Clock: Sendable {
        let now = Mutex(Date())
        func advance(_ seconds: TimeInterval) { now.withLock { $0 += seconds } }
    }

    static func device(_ username: String, _ store: any SyncStore, _ clock: Clock) async throws -> SyncedDevice {
        let random = Mutex(SystemRandomNumberGenerator())
        let environment = ReplicaEnvironment(
            now: { clock.now.withLock { $0 } }, newID: { date in random.withLock { UUID.v7(at: date, using: &$0) } })
        return try await SyncedDevice(username, store: store, environment: environment)
    }

    /// Rows this replica's connection has written since it opened (an in-memory replica has one).
    static func writes(_ device: SyncedDevice) throws -> Int {
        try device.replica.read { try Int.fetchOne($0, sql: "SELECT total_changes()") ?? -1 }
    }

    static func state(_ device: SyncedDevice) throws -> (cursor: Int64, lastSync: String?) {
        try device.replica.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT cursor, last_sync_at FROM sync_state WHERE id = 1")
            return (row?["cursor"] ?? -1, row?["last_sync_at"])
        }
    }

    @Test func anIdleSyncWritesNothingButTheTimeIsKeptAndEveryChangeIsRecorded() async throws {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let clock = Clock()
        let councillor = try await Self.device("cllr-north", store, clock)
        try await councillor.sync()
        clock.advance(5)
        try await councillor.sync()  // the first sync after the first: records its time

        // Every 5 s with nothing new: nothing written.
        let before = try Self.writes(councillor), recorded = try Self.state(councillor)
        for _ in 0..<5 {
            clock.advance(5)
            let summary = try await councillor.sync()
            #expect(summary.received == 0 && summary.pending == 0 && summary.cursor == recorded.cursor)
        }
        #expect(try Self.writes(councillor) == before)
        #expect(try Self.state(councillor) == recorded)

        // A minute after the time last recorded, it is recorded again.
        clock.advance(40)
        try await councillor.sync()
        let later = try Self.state(councillor)
        #expect(try Self.writes(councillor) > before)
        #expect(later.cursor == recorded.cursor && later.lastSync != recorded.lastSync)

        // A change this councillor may not see still moves the cursor past it, and that is written at once.
        let officer = try await SyncedDevice("officer", store: store)
        try await officer.sync()
        var hidden = RecordNeed(needId: officer.replica.newID(), localityId: UUID.stable("demo:locality:clunbury"), title: "Private matter")
        hidden.holdsPersonalData = true
        try officer.replica.perform(hidden)
        try await officer.sync()
        clock.advance(5)
        let summary = try await councillor.sync()
        #expect(summary.received == 0 && summary.cursor > later.cursor)
        #expect(try Self.state(councillor).cursor == summary.cursor)

        // A failed sync is never taken for an idle one: the next sync clears the error.
        try await councillor.replica.database.write { try $0.execute(sql: "UPDATE sync_state SET last_error = 'unreachable' WHERE id = 1") }
        clock.advance(5)
        try await councillor.sync()
        #expect(try councillor.replica.read { try String.fetchOne($0, sql: "SELECT last_error FROM sync_state WHERE id = 1") } == nil)

        // A change recorded here is pushed, whatever the time.
        try councillor.recordNeed(in: "brockton", title: "Recorded between syncs")
        clock.advance(1)
        let pushed = try await councillor.sync()
        #expect(pushed.sent == 1 && pushed.accepted == 1 && pushed.pending == 0)
        #expect(try councillor.replica.outbox().isEmpty)
    }
}
