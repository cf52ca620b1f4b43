import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Synchronization
import Testing

/// A device clock that a test can set wrong and put right.
final class AdjustableClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    func set(daysAhead days: Double) { offset.withLock { $0 = days * 86_400 } }

    var environment: ReplicaEnvironment {
        ReplicaEnvironment(
            now: { [self] in Date().addingTimeInterval(offset.withLock { $0 }) },
            newID: ReplicaEnvironment.live.newID)
    }
}

@Suite("Devices' clocks: wrong ones refused, put right ones recover at once, dates bounded both ways")
struct ClockTests {
    private func server() throws -> SQLiteSyncStore { try TestServer().store }

    @Test func aDeviceWhoseClockRanAheadRecoversAsSoonAsItIsPutRight() async throws {
        let store = try server()
        let clock = AdjustableClock()
        let device = try await SyncedDevice("cllr-north", store: store, environment: clock.environment)
        try await device.sync()
        clock.set(daysAhead: 2)
        try device.recordNeed(in: "brockton-heath", title: "Recorded while the clock was two days ahead")
        var summary = try await device.sync()
        #expect(summary.rejected.count == 1)
        let refused = try device.replica.rejectedMutations()
        #expect(refused.first?.message.contains("the device's clock was wrong when it was made") == true)
        // The clock is put right: the very next change goes through (it used to be refused for a day).
        clock.set(daysAhead: 0)
        try device.recordNeed(in: "brockton-heath", title: "Recorded once the clock was right")
        summary = try await device.sync()
        #expect(summary.rejected.isEmpty)
        #expect(try device.needTitles().contains("Recorded once the clock was right"))
        #expect(try !device.needTitles().contains("Recorded while the clock was two days ahead"))
    }

    @Test(arguments: [-365.0, -120.0])
    func aDeviceWhoseClockRunsFarBehindIsRefused(days: Double) async throws {
        let store = try server()
        let clock = AdjustableClock()
        clock.set(daysAhead: days)
        let device = try await SyncedDevice("cllr-north", store: store, environment: clock.environment)
        try await device.sync()
        try device.recordNeed(in: "brockton-heath", title: "Recorded with the clock far behind")
        let summary = try await device.sync()
        #expect(summary.rejected.map(\.code) == ["invalid_input"])
        #expect(try device.replica.rejectedMutations().first?.message.contains("set the device's date and time") == true)
        #expect(try await store.database.read { try Need.filter(Column("title") == "Recorded with the clock far behind").fetchCount($0) } == 0)
    }

    /// A hostile client sends a sane clock but says the change was made in 2099.
    @Test func aChangeClaimingToBeMadeInTheFarFutureIsRefused() async throws {
        let store = try server()
        let device = try await SyncedDevice("cllr-north", store: store)
        try await device.sync()
        try device.recordNeed(in: "brockton-heath", title: "Made in 2099, it says")
        var mutation = try #require(try device.replica.outbox().first)
        mutation.createdAt = try #require(Timestamps.parse("2099-01-01T00:00:00.000Z"))
        let session = try #require(try await store.authenticate(token: device.token, now: Date()))
        let response = try await store.push(PushRequest(deviceId: mutation.deviceId, mutations: [mutation]), from: session, now: Date())
        #expect(response.results.first?.outcome == .rejected)
        #expect(response.results.first?.error?.message.contains("more than a day ahead") == true)
    }

    /// Money moves within its budget's year and after its award was made, whatever a device's clock says.
    @Test func aPaymentDatedOutsideItsBudgetsYearOrBeforeItsAwardIsRefused() throws {
        let award = UUID.stable("demo:award:lunch-club")
        for (date, expected) in [
            ("2026-03-20T10:00:00.000Z", "outside South Area Community Fund 2026/27's financial year"),
            ("2026-09-01T10:00:00.000Z", "before the award for 'Winter lunch club at the chapel' was made"),
        ] {
            let at = try #require(Timestamps.parse(date))
            let replica = try Replica.inMemory(environment: ReplicaEnvironment(now: { at }, newID: ReplicaEnvironment.live.newID))
            try replica.initialiseDemo(as: "officer")
            refused(.invalidInput, containing: expected) {
                try replica.perform(RecordPayment(ledgerEntryId: replica.newID(), awardId: award, amount: Money(pence: 10_000)))
            }
        }
    }
}
