import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

/// A server restored from an older backup: devices notice, send back what they had had
/// acknowledged and the server lost, pull afresh, and keep nothing the server lacks.
@Suite("A restore loses nothing any device still holds")
struct RestoreTests {
    struct Fixture {
        let directory: URL
        var path: String { directory.appendingPathComponent("server.sqlite").path }
        var backup: String { directory.appendingPathComponent("backup.sqlite").path }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-restore-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }

    /// The device re-pointed at the restored store (its token was in the backup).
    static func engine(_ device: SyncedDevice, _ store: SQLiteSyncStore) -> SyncEngine {
        SyncEngine(replica: device.replica, transport: StoreTransport(store: store, token: device.token), pullLimit: 50)
    }

    static func needIds(_ store: SQLiteSyncStore) async throws -> Set<UUID> {
        Set(try await store.database.read { try String.fetchAll($0, sql: "SELECT id FROM need") }.compactMap(UUID.init(key:)))
    }

    static func needIds(_ device: SyncedDevice) throws -> Set<UUID> { Set(try device.replica.needs().map(\.need.id)) }

    @Test(arguments: [true, false])
    func devicesHealARestoreFromAnOlderBackup(throughRestoreCommand: Bool) async throws {
        let fixture = try Fixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let store = try SQLiteSyncStore.open(at: fixture.path)
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let officer = try await SyncedDevice("officer", store: store)
        let north = try await SyncedDevice("cllr-north", store: store)
        let south = try await SyncedDevice("cllr-south", store: store)
        for device in [officer, north, south] { try await device.sync() }
        let beforeBackup = try officer.recordNeed(in: "brockton", title: "Before the backup")
        try await officer.sync()
        _ = try Backup.copy(store.database, to: fixture.backup)

        // After the backup: acknowledged and pulled changes on two devices, a pending one on a third.
        let officerLater = [try officer.recordNeed(in: "clunbury", title: "Officer, after"), try officer.recordNeed(in: "marcher", title: "Officer, later still")]
        try await officer.sync()
        let northLater = try north.recordNeed(in: "whitmere-town", title: "North, after")
        try await north.sync()
        try await officer.sync()
        try await north.sync()
        let southPending = try south.recordNeed(in: "clunbury", title: "South, not yet sent")
        #expect(try await Self.needIds(store).isSuperset(of: [beforeBackup, northLater] + officerLater))

        // The server is restored from the backup: those changes are gone from it.
        try store.database.close()
        if throughRestoreCommand {
            _ = try Backup.restore(from: fixture.backup, to: fixture.path)
        } else {
            // Copied back by hand: same history id, but behind what devices have seen.
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: fixture.path + suffix) }
            try FileManager.default.removeItem(atPath: fixture.path)
            try FileManager.default.copyItem(atPath: fixture.backup, toPath: fixture.path)
        }
        let restored = try SQLiteSyncStore.open(at: fixture.path)
        #expect(try await Self.needIds(restored).isDisjoint(with: [northLater, southPending] + officerLater))

        // One sync each: the lost changes come back from the devices that held them.
        var summaries: [String: SyncSummary] = [:]
        for (name, device) in [("south", south), ("officer", officer), ("north", north)] {
            summaries[name] = try await Self.engine(device, restored).sync()
        }
        #expect(summaries["officer"]?.serverRestored == true && summaries["north"]?.serverRestored == true)
        #expect(summaries["officer"]?.resent ?? 0 >= 2)
        let onServer = try await Self.needIds(restored)
        #expect(onServer.isSuperset(of: [beforeBackup, northLater, southPending] + officerLater))
        // A second round brings each device what the others sent back.
        for device in [south, officer, north] { _ = try await Self.engine(device, restored).sync() }
        #expect(try Self.needIds(officer) == onServer)
        for device in [officer, north, south] {
            #expect(try Self.needIds(device).isSubset(of: onServer), "a device keeps a record the server lacks")
            #expect(try device.replica.outbox().isEmpty)
        }
        #expect(try DatabaseCheck.run(databaseAt: fixture.path).ok)
    }

    @Test func aRecordTheRestoredServerNeverHadLeavesTheDevicesThatPulledIt() async throws {
        // A change made through another route (an operator's import) after the backup is not on any
        // device's outbox: after the restore it is gone, and devices that pulled it drop it.
        let fixture = try Fixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let store = try SQLiteSyncStore.open(at: fixture.path)
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let officer = try await SyncedDevice("officer", store: store)
        try await officer.sync()
        _ = try Backup.copy(store.database, to: fixture.backup)
        _ = try store.addOrganisation(NewOrganisation(name: "Imported After The Backup", kind: "charity", orgId: nil, localities: []))
        try await officer.sync()
        #expect(try officer.replica.organisations().contains { $0.name == "Imported After The Backup" })
        try store.database.close()
        _ = try Backup.restore(from: fixture.backup, to: fixture.path)
        let restored = try SQLiteSyncStore.open(at: fixture.path)
        let summary = try await Self.engine(officer, restored).sync()
        #expect(summary.serverRestored && summary.removed["organisation"] == 1)
        #expect(try !officer.replica.organisations().contains { $0.name == "Imported After The Backup" })
    }
}
