import ArgumentParser
import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif
import LocalityCore
import LocalitySyncServer
import Synchronization

/// The server SIGKILLed again and again in the middle of pushes from many devices.
struct KillSoak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill-soak",
        abstract: "SIGKILL the server in the middle of pushes from many devices, again and again (a soak, run by hand).",
        discussion: """
            Starts the release `locality-sync serve` (built beside this program) on a fresh demo database \
            and has --devices devices record needs and sync without pause. At a random moment every \
            100–600 ms (from --seed) the server is killed with SIGKILL; `locality-sync check` must then \
            pass on the database it left, and the server is started again on the same port. After \
            --kills kills every device syncs until its outbox is empty, and every need a device was told \
            was applied must be in the database exactly once. Exits non-zero on any failure.
              swift build -c release --product locality-bench --product locality-sync
              .build/release/locality-bench kill-soak --kills 100 --devices 20
            With --database postgres://…, the same against PostgreSQL: a fresh database is made beside \
            the one named, the server runs `serve --database`, `check --database` replays the whole log \
            after every kill, and the needs are counted on an officer's device synced at the end.
            """)

    @Option(help: "How many times to kill the server.") var kills = 100
    @Option(help: "Devices pushing at once.") var devices = 20
    @Option(help: "Seed for when each kill falls.") var seed: UInt64 = 1
    @Option(help: ArgumentHelp(
        "A PostgreSQL database to soak the PostgreSQL store instead (its user must be allowed to CREATE DATABASE).", valueName: "url"))
    var database: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("locality-kill-soak-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("council.sqlite").path
        var store = ["--db", path]
        var serverArguments: [String] = []
        if let database {
            let base = try PostgresLocation(url: database)
            let name = "locality_soak_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
            let location = try await PostgresLog.createDatabase(String(name), beside: base)
            let url = "postgres://\(location.username)\(location.password.map { ":" + $0 } ?? "")@\(location.host):\(location.port)/\(location.database)"
            try await ReplicatedSyncStore(log: try await PostgresLog(location)).loadDemoIfEmpty(
                passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
            store = ["--database", url]
            serverArguments = ["--database", url]
            if !json { FileHandle.standardError.write(Data("  soaking PostgreSQL: \(location.redacted)\n".utf8)) }
        } else {
            try SQLiteSyncStore.open(at: path).loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        }
        let state = SoakState(server: try ServerProcess(database: path, arguments: serverArguments))
        let port = state.server.withLock { $0.port }
        let url = "http://127.0.0.1:\(port)"
        let started = ContinuousClock.now

        // Who records where: each account in a place it may record needs in.
        let accounts = [("cllr-north", "brockton"), ("cllr-south", "clunbury"), ("officer", "marcher")]
        var fleet: [(Device, String)] = []
        for index in 0..<devices {
            let (username, place) = accounts[index % accounts.count]
            let device = try await Device.login(username, url: url)
            _ = try await device.engine.sync()
            fleet.append((device, place))
        }
        let (kills, seed, json, checked, restartArguments) = (kills, seed, json, store, serverArguments)

        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, (device, place)) in fleet.enumerated() {
                group.addTask {
                    var pending: [String] = []
                    var count = 0
                    while state.running.load(ordering: .relaxed) {
                        for _ in 0..<Int.random(in: 1...20) {
                            count += 1
                            let title = "Soak \(index)-\(count)"
                            try device.replica.perform(
                                RecordNeed(needId: device.replica.newID(), localityId: UUID.stable("demo:locality:" + place), title: title))
                            pending.append(title)
                        }
                        do {
                            _ = try await device.engine.sync()
                            state.syncs.add(1, ordering: .relaxed)
                            // Told applied: nothing of it is waiting any more.
                            if try device.replica.outbox().isEmpty {
                                state.acknowledged.withLock { $0.formUnion(pending) }
                                pending = []
                            }
                        } catch {
                            state.failedSyncs.add(1, ordering: .relaxed)
                            try await Task.sleep(for: .milliseconds(50))
                        }
                    }
                }
            }
            group.addTask {
                defer { state.running.store(false, ordering: .relaxed) }
                var generator = SeededGenerator(seed: seed)
                for kill in 1...max(kills, 1) {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 100...600, using: &generator)))
                    let victim = state.server.withLock { $0 }
                    Glibc.kill(victim.process.processIdentifier, SIGKILL)
                    victim.process.waitUntilExit()
                    let status = Self.check(checked)
                    guard status == 0 else {
                        throw ValidationError("after kill \(kill): `locality-sync check` exited \(status); the database is kept at \(checked.last!)")
                    }
                    let restarted = try ServerProcess(database: path, arguments: restartArguments, port: port)
                    state.server.withLock { $0 = restarted }
                    if !json, kill % 10 == 0 { FileHandle.standardError.write(Data("  \(kill) kills, \(state.acknowledged.withLock { $0.count }) needs acknowledged…\n".utf8)) }
                }
            }
            try await group.waitForAll()
        }
        // Every device sends what it still holds.
        for (device, _) in fleet {
            for attempt in 1...30 {
                if (try? await device.engine.sync()) != nil, try device.replica.outbox().isEmpty { break }
                guard attempt < 30 else { throw ValidationError("a device could not empty its outbox after the last kill") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let countsQuery = "SELECT title, COUNT(*) AS n FROM need WHERE title LIKE 'Soak %' GROUP BY title"
        let counts: [String: Int]
        if database != nil {
            // What the server holds, as an officer (who sees every place) receives it.
            let officer = try await Device.login("officer", url: url)
            _ = try await officer.engine.sync()
            counts = try officer.replica.read { db in
                try Row.fetchAll(db, sql: countsQuery).reduce(into: [String: Int]()) { $0[$1["title"]] = $1["n"] }
            }
            state.server.withLock { $0 }.stop()
        } else {
            state.server.withLock { $0 }.stop()
            counts = try await SQLiteSyncStore.open(at: path).database.read { db in
                try Row.fetchAll(db, sql: countsQuery).reduce(into: [String: Int]()) { $0[$1["title"]] = $1["n"] }
            }
        }
        let finalCheck = Self.check(store)
        let told = state.acknowledged.withLock { $0 }
        let lost = told.filter { counts[$0] == nil }.count
        let doubled = counts.values.filter { $0 > 1 }.count
        let seconds = (ContinuousClock.now - started).seconds
        if json {
            let result: [String: Any] = [
                "store": database == nil ? "sqlite" : "postgresql", "kills": kills, "devices": devices, "seed": seed, "syncs": state.syncs.load(ordering: .relaxed),
                "failedSyncs": state.failedSyncs.load(ordering: .relaxed), "acknowledged": told.count, "present": counts.count,
                "lost": lost, "doubled": doubled, "finalCheck": finalCheck, "seconds": seconds,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("""
                kill-soak (\(database == nil ? "SQLite" : "PostgreSQL")): \(kills) SIGKILLs under \(devices) devices in \(String(format: "%.0f", seconds)) s (seed \(seed)): `locality-sync check` \
                passed after every one; \(state.syncs.load(ordering: .relaxed)) syncs, \(state.failedSyncs.load(ordering: .relaxed)) cut off; \
                \(told.count) needs acknowledged, \(counts.count) in the database, \(lost) lost, \(doubled) doubled; final check exit \(finalCheck)
                """)
        }
        guard lost == 0, doubled == 0, finalCheck == 0 else { throw ExitCode(1) }
    }

    final class SoakState: Sendable {
        let server: Mutex<ServerProcess>
        let acknowledged = Mutex<Set<String>>([])
        let running = Atomic<Bool>(true)
        let syncs = Atomic<Int>(0)
        let failedSyncs = Atomic<Int>(0)
        init(server: ServerProcess) { self.server = Mutex(server) }
    }

    /// `locality-sync check` on the database: its exit status.
    static func check(_ store: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("locality-sync")
        process.arguments = ["check"] + store
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
