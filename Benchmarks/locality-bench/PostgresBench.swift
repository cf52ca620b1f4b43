import ArgumentParser
import Foundation
import LocalityCore
import LocalitySyncServer

/// A device's requests straight into a store in this process (no HTTP), as a server would make them.
struct InProcessTransport: SyncTransport {
    let store: any SyncStore
    let token: String

    func session() async throws -> Session {
        guard let session = try await store.authenticate(token: token, now: Date()) else { throw ValidationError("bad token") }
        return session
    }

    func push(_ request: PushRequest) async throws -> PushResponse { try await store.push(request, from: try await session(), now: Date()) }
    func pull(cursor: Int64, limit: Int) async throws -> PullResponse {
        try await store.pull(after: cursor, limit: limit, for: try await session())
    }
}

struct PostgresBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "The PostgreSQL store beside the SQLite store, in one run: push, no-op sync, and a new process's start.",
        discussion: """
            Makes a fresh database beside the one --database names (its user must be allowed to CREATE \
            DATABASE), loads the demo council into it and into a fresh SQLite file, then measures on each, \
            in process (no HTTP, so the stores are compared and not the network): pushing --push-count \
            need.record mutations from one device in batches of 2,000; a no-op sync's pull, 1,000 times (p50 \
            and p99); and, for PostgreSQL, the time a new server process takes to become ready by replaying \
            the log those pushes left. Targets (issue 15): push ≥ 10,000 mutations/s on PostgreSQL with one \
            process; a new process ready in under 60 s on a log of 1,000,000 mutations.
              locality-bench postgres --database postgres://me@127.0.0.1:5432/postgres
            """)

    @Option(help: ArgumentHelp("A PostgreSQL database to make the benchmark's database beside.", valueName: "url")) var database: String
    @Option(help: "Mutations to push from one device.") var pushCount = 20_000
    @Option(help: "Mutations in each push (a log entry each): \(SyncProtocol.maxPushBatch) at most, as a device catching up sends them; fewer, as devices syncing often do.")
    var batch = SyncProtocol.maxPushBatch
    @Flag(help: "Also run the paced fleet over one, two and three `locality-sync serve --database` processes (release build beside this one).")
    var fleet = false
    @Option(help: "Devices in the fleet.") var devices = 200
    @Option(help: "Seconds the fleet syncs for, on each number of processes.") var seconds = 20

    func run() async throws {
        let base = try PostgresLocation(url: database)
        let name = "locality_bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let location = try await PostgresLog.createDatabase(String(name), beside: base)
        note("benchmark database: \(location.redacted)")
        let postgres = try await ReplicatedSyncStore(log: try await PostgresLog(location))
        try await postgres.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("locality-pg-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let sqlite = try SQLiteSyncStore.open(at: folder.appendingPathComponent("bench.sqlite").path)
        try sqlite.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))

        for (label, store) in [("SQLite", sqlite as any SyncStore), ("PostgreSQL", postgres as any SyncStore)] {
            let token = UUID().uuidString
            let replica = try Replica.inMemory()
            guard case .success(let login) = try await store.login(
                LoginRequest(username: "officer", password: DemoCouncil.password, deviceId: replica.newID()), token: token, now: Date())
            else { throw ValidationError("login failed") }
            try replica.bind(serverURL: "memory:", login: login)
            let transport = InProcessTransport(store: store, token: token)
            _ = try await SyncEngine(replica: replica, transport: transport).sync()
            note("\(label): recording \(pushCount) needs on one device…")
            for index in 0..<pushCount {
                try replica.perform(RecordNeed(needId: replica.newID(), localityId: UUID.stable("demo:locality:marcher"), title: "Pushed \(index)"))
            }
            let outbox = try replica.outbox()
            let clock = ContinuousClock()
            let pushed = try await clock.measure {
                let size = max(1, min(batch, SyncProtocol.maxPushBatch))
                for start in stride(from: 0, to: outbox.count, by: size) {
                    let slice = Array(outbox[start..<min(start + size, outbox.count)])
                    _ = try await transport.push(PushRequest(deviceId: login.deviceId, mutations: slice))
                }
            }
            // Caught up: the no-op pull a device makes when nothing has changed.
            let head = try await transport.pull(cursor: 0, limit: 1).cursor
            var cursor = head
            while true {
                let page = try await transport.pull(cursor: cursor, limit: 5_000)
                cursor = page.cursor
                if !page.more { break }
            }
            var times: [Double] = []
            for _ in 0..<1_000 {
                let took = try await clock.measure { _ = try await transport.pull(cursor: cursor, limit: 500) }
                times.append(took.seconds * 1000)
            }
            times.sort()
            print(
                "\(label): push \(Int(Double(outbox.count) / pushed.seconds)) mutations/s (\(outbox.count) in \(String(format: "%.2f", pushed.seconds)) s); "
                    + "no-op sync p50 \(String(format: "%.2f", times[500])) ms, p99 \(String(format: "%.2f", times[990])) ms")
        }
        if fleet { try await fleetRuns(location, folder: folder) }
        let entries = try await postgres.log.head()
        let before = Self.residentMB()
        let started = ContinuousClock.now
        let fresh = try await ReplicatedSyncStore(log: try await PostgresLog(location))
        let ready = ContinuousClock.now - started
        let after = Self.residentMB()
        print("PostgreSQL: a new process ready in \(String(format: "%.2f", ready.seconds)) s, replaying \(entries) log entries (\(pushCount) pushed mutations in pushes of \(batch), and the demo); its state holds about \(max(after - before, 0)) MB in memory (the bench process's resident size grew by that much; 0 when the allocator reused freed memory)")
        withExtendedLifetime(fresh) {}
    }

    /// This process's resident memory now.
    static func residentMB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    /// The paced fleet (each device syncing every second, a quarter of the councillors' syncs
    /// carrying a new need) spread round-robin over one, two and three server processes.
    private func fleetRuns(_ location: PostgresLocation, folder: URL) async throws {
        let url = "postgres://\(location.username)\(location.password.map { ":" + $0 } ?? "")@\(location.host):\(location.port)/\(location.database)"
        let runner = try SyncBench.parse([])
        for count in 1...3 {
            let servers = try (0..<count).map { index in
                try ServerProcess(database: folder.appendingPathComponent("fleet-\(count)-\(index)").path, arguments: ["--database", url])
            }
            defer { for server in servers { server.stop() } }
            note("logging in \(devices) devices over \(count) process(es)…")
            var fleet: [Device] = []
            for index in 0..<devices {
                let device = try await Device.login(
                    ["cllr-north", "cllr-south", "clerk-north", "clerk-south"][index % 4], url: "http://127.0.0.1:\(servers[index % count].port)")
                _ = try await device.engine.sync()
                fleet.append(device)
            }
            let result = try await runner.run(fleet, seconds: seconds, pacing: .every(.milliseconds(1_000)))
            print("PostgreSQL fleet over \(count) process\(count == 1 ? "" : "es"): \(devices) devices for \(seconds) s, each syncing every second: "
                + "\(result.summary) (target 0 errors, p99 < 250 ms); peak memory \(servers.map { "\($0.peakMemoryMB()) MB" }.joined(separator: ", "))")
        }
    }

    private func note(_ text: String) { FileHandle.standardError.write(Data("  \(text)\n".utf8)) }
}
