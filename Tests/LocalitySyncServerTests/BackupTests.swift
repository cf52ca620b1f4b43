import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Synchronization
import Testing

/// Backups taken while devices push, restored, and checked.
@Suite("Back up, restore, check")
struct BackupTests {
    /// What devices have had acknowledged, as they sync.
    final class Acknowledged: Sendable {
        let ids = Mutex<Set<UUID>>([])
        let stopped = Mutex<Bool>(false)
        func add(_ new: [UUID]) { ids.withLock { $0.formUnion(new) } }
        var snapshot: Set<UUID> { ids.withLock { $0 } }
        var stop: Bool { stopped.withLock { $0 } }
    }

    static let devices = Int(ProcessInfo.processInfo.environment["LOCALITY_BACKUP_DEVICES"] ?? "") ?? 20

    @Test func aBackupTakenWhile20DevicesPushHoldsEverythingAcknowledgedBeforeItBegan() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteSyncStore.open(at: directory.appendingPathComponent("server.sqlite").path)
        // An accepted push is flushed before it is answered: FULL on the connection that writes.
        #expect(try await store.database.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
        // A push's savepoints keep what they would restore in memory, not in a temporary file.
        #expect(try await store.database.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA temp_store") } == 2)
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let acknowledged = Acknowledged()
        let places = ["brockton", "whitmere-town", "clunbury", "ledwyche-town"]
        let users = ["officer", "cllr-north", "cllr-south"]

        let pushing = Task { [acknowledged, store] in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<Self.devices {
                    group.addTask {
                        let username = users[index % users.count]
                        let device = try await SyncedDevice(username, store: store)
                        try await device.sync()
                        var round = 0
                        while !acknowledged.stop {
                            var made: [UUID] = []
                            for item in 0..<3 {
                                let place = username == "cllr-north" ? places[item % 2] : username == "cllr-south" ? places[2 + item % 2] : places[(index + item) % 4]
                                made.append(try device.recordNeed(in: place, title: "Device \(index) round \(round) need \(item)"))
                            }
                            let summary = try await device.sync()
                            // Acknowledged: accepted by the server, so in its database from now on.
                            if summary.accepted == made.count { acknowledged.add(made) } else { print("device \(index): \(summary)") }
                            round += 1
                        }
                        return round
                    }
                }
                var rounds = 0
                for try await done in group { rounds += done }
                return rounds
            }
        }
        // Let the devices get going, then back up in the middle of their pushes.
        // Progress, not speed: the whole suite shares two cores with this test.
        let deadline = ContinuousClock.now + .seconds(240)
        while acknowledged.snapshot.count < 150 {
            guard ContinuousClock.now < deadline else {
                acknowledged.stopped.withLock { $0 = true }
                _ = try await pushing.value
                Issue.record("the devices had \(acknowledged.snapshot.count) needs acknowledged after four minutes")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let before = acknowledged.snapshot
        let backupPath = directory.appendingPathComponent("backup.sqlite").path
        let report = try Backup.copy(store.database, to: backupPath)
        try await Task.sleep(for: .milliseconds(200))
        acknowledged.stopped.withLock { $0 = true }
        let rounds = try await pushing.value
        let after = acknowledged.snapshot
        print("backup under load: \(before.count) needs acknowledged before it began, \(after.count) by the end (\(rounds) sync rounds); \(report.bytes) bytes in \(String(format: "%.3f", report.seconds)) s")
        #expect(report.check.ok && after.count > before.count)

        // Restored, the copy passes the check and holds every need acknowledged before the backup began.
        let restored = directory.appendingPathComponent("restored.sqlite").path
        let check = try Backup.restore(from: backupPath, to: restored)
        #expect(check.ok && check.exitCode == 0)
        let restoredStore = try SQLiteSyncStore.open(at: restored)
        let held = Set(try await restoredStore.database.read { try String.fetchAll($0, sql: "SELECT id FROM need") }.compactMap(UUID.init(key:)))
        #expect(before.isSubset(of: held), "\(before.subtracting(held).count) acknowledged needs missing from the backup")
        #expect(try DatabaseCheck.run(databaseAt: restored).ok)
    }

    @Test func checkFindsABrokenLedgerAndAnAlteredAuditTrailAndRefusesToKeepSuchABackup() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("server.sqlite").path
        let store = try SQLiteSyncStore.open(at: path)
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        #expect(try DatabaseCheck.run(databaseAt: path).exitCode == 0)
        // A commitment written round the rules (by hand, in SQL) takes a fund past what it holds.
        try await store.database.write { db in
            try db.execute(sql: """
                INSERT INTO ledger_entry (id, budget_id, kind, amount, note, recorded_at)
                VALUES ('00000000-0000-4000-8000-000000000001', ?, 'commitment', 99900000, 'by hand', '2026-11-30T00:00:00.000Z')
                """, arguments: [UUID.stable("demo:budget:north-2026-27").key])
        }
        let broken = try DatabaseCheck.run(databaseAt: path)
        #expect(broken.exitCode == 4 && broken.ledgerProblems.first?.contains("North Area Community Fund 2026/27") == true)
        let backupPath = directory.appendingPathComponent("backup.sqlite").path
        #expect(throws: Backup.Failure.self) { try Backup.copy(store.database, to: backupPath) }
        #expect(!FileManager.default.fileExists(atPath: backupPath))
    }
}

@Suite("Upgrades")
struct UpgradeTests {
    @Test func aDatabaseMigratedByANewerBuildIsRefusedAndLeftAsItWas() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("locality-newer-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try SQLiteSyncStore.open(at: path)
        try store.database.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('server v99 from the future')") }
        try store.database.close()
        #expect(throws: LocalityError.self) { _ = try SQLiteSyncStore.open(at: path) }
        do { _ = try SQLiteSyncStore.open(at: path) } catch let error as LocalityError {
            #expect(error.message.contains("server v99 from the future") && error.message.contains("newer locality-sync"))
        }
    }
}
