import Foundation
import GRDB
import LocalityCore
import Testing

/// The real `locality-sync` binary on a free loopback port, with its own database file.
final class ServerProcess: @unchecked Sendable {
    // @unchecked: the process and port are set once in start() and read after; tests use one at a time.
    let database: URL
    private var process: Process?
    private(set) var port = 0
    let log: URL
    let demo: Bool
    /// Serve from this PostgreSQL database instead of the SQLite file.
    let postgres: String?

    init(demo: Bool = true, database: URL? = nil, postgres: String? = nil) {
        self.postgres = postgres
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-server-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.database = database ?? directory.appendingPathComponent("server.sqlite")
        log = directory.appendingPathComponent("server.log")
        self.demo = demo
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    var url: String { "http://127.0.0.1:\(port)" }

    var binary: URL { CLI.binary.deletingLastPathComponent().appendingPathComponent("locality-sync") }

    func start() throws {
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve"] + (demo ? ["--demo"] : []) + (postgres.map { ["--database", $0] } ?? ["--db", database.path])
            + ["--port", port == 0 ? "0" : String(port)]
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        self.process = process
        // Wait for "listening on http://127.0.0.1:PORT" (bounded: 20 s).
        for _ in 0..<400 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                port = Int(digits) ?? 0
                return
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "server did not start: \(String(describing: try? String(contentsOf: log, encoding: .utf8)))"])
    }

    func kill() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        guard let process, process.isRunning else { return }
        process.interrupt()
        process.waitUntilExit()
    }

    func cleanUp() {
        kill()
        try? FileManager.default.removeItem(at: database.deletingLastPathComponent())
    }
}

@Suite("Sync end to end through the built binaries", .serialized)
struct SyncEndToEndTests {
    private func login(_ cli: CLI, _ user: String, _ server: ServerProcess) throws {
        let result = try cli.login(user, at: server)
        #expect(result.status == 0, "login as \(user): \(result.stderr)")
    }

    @Test func twoPeopleWorkOfflineSyncAndSeeOnlyWhatTheyShould() throws {
        let server = ServerProcess()
        defer { server.cleanUp() }
        try server.start()
        let councillor = try CLI()
        let clerk = try CLI()
        defer {
            councillor.cleanUp()
            clerk.cleanUp()
        }
        try login(councillor, "cllr-north", server)
        try login(clerk, "clerk-north", server)

        // Offline work on both devices.
        #expect(try councillor.run("need", "add", "--locality", "brockton", "--title", "Ford floods every winter").status == 0)
        #expect(try councillor.run(
            "need", "add", "--locality", "ashby-parva", "--title", "Carer needs respite", "--personal-data").status == 0)
        let draft = try clerk.run(
            "proposal", "draft", "--budget", "north-2026-27", "--title", "Draft minibus", "--amount", "£4,800", "--json")
        #expect(draft.status == 0, "\(draft.stderr)")

        let councillorSync = try councillor.run("sync", "--json").object()
        #expect(councillorSync["accepted"] as? Int == 2)
        let clerkSync = try clerk.run("sync", "--json").object()
        #expect(clerkSync["accepted"] as? Int == 1)
        try councillor.run("sync")

        let seenByClerk = try clerk.run("need", "list", "--json").array().compactMap { $0["title"] as? String }
        #expect(seenByClerk.contains("Ford floods every winter"))
        #expect(!seenByClerk.contains("Carer needs respite"), "a need holding personal data reached a parish clerk")
        let seenByCouncillor = try councillor.run("proposal", "list", "--json").array()
            .filter { !DemoCouncil.cycleProposalTitles.contains($0["title"] as? String ?? "") }
        #expect(seenByCouncillor.isEmpty, "another organisation's draft reached a councillor")
        #expect(try clerk.run("proposal", "list", "--json").array().filter { !DemoCouncil.cycleProposalTitles.contains($0["title"] as? String ?? "") }.count == 1)

        let status = try councillor.run("status", "--json").object()
        #expect(status["pending"] as? Int == 0)
        #expect(status["loggedIn"] as? Bool == true)
    }

    @Test func twoPeopleEditTheSameFieldOfflineAndSettleTheConflict() throws {
        let server = ServerProcess()
        defer { server.cleanUp() }
        try server.start()
        let councillor = try CLI()
        let officer = try CLI()
        defer {
            councillor.cleanUp()
            officer.cleanUp()
        }
        try login(councillor, "cllr-north", server)
        try login(officer, "officer", server)
        let added = try councillor.run("need", "add", "--locality", "brockton", "--title", "Ford floods", "--json").object()
        let needId = try #require(added["id"] as? String)
        try councillor.run("sync")
        try officer.run("sync")

        // Both offline: the officer first, the councillor a moment later (so later by the clock).
        #expect(try officer.run("need", "update", needId, "--title", "Ford at Brockton floods", "--severity", "5").status == 0)
        Thread.sleep(forTimeInterval: 0.01)
        #expect(try councillor.run("need", "update", needId, "--title", "Brockton ford floods every winter").status == 0)
        try officer.run("sync")
        // Each is told their own part: the later edit overwrote the other's; the earlier was overwritten.
        let sync = try councillor.run("sync")
        #expect(sync.stdout.contains("1 of your edits overwrote someone's concurrent edit"), "\(sync.stdout)")
        #expect(!sync.stdout.contains("was overwritten"), "\(sync.stdout)")
        let told = try officer.run("sync")
        #expect(told.stdout.contains("1 of your edits was overwritten by a later edit"), "\(told.stdout)")

        for cli in [councillor, officer] {
            let fields = try cli.run("need", "show", needId, "--json").object()
            #expect(fields["title"] as? String == "Brockton ford floods every winter")
            #expect(fields["severity"] as? Int == 5, "the officer's edit of another field survives")
            #expect(try cli.run("conflicts", "--json").array().count == 1)
        }
        let listed = try officer.run("conflicts")
        #expect(listed.stdout.contains("Ford at Brockton floods (yours)"), "\(listed.stdout)")
        let status = try officer.run("status", "--json").object()
        #expect(status["conflicts"] as? Int == 1)

        // The officer puts their title back; once synced, both see it and the conflict is settled.
        let conflictId = try #require(try officer.run("conflicts", "--json").array().first?["id"] as? String)
        let resolved = try officer.run("conflicts", "resolve", String(conflictId.prefix(8)), "--keep", "mine")
        #expect(resolved.status == 0, "\(resolved.stderr)")
        try officer.run("sync")
        try councillor.run("sync")
        let title = try councillor.run("need", "show", needId, "--json").object()["title"] as? String
        #expect(title == "Ford at Brockton floods")
        #expect(try councillor.run("conflicts", "--json").array().isEmpty)
        let bad = try councillor.run("conflicts", "resolve", "zzzz", "--keep", "mine")
        #expect(bad.status != 0 && bad.stderr.contains("no conflict 'zzzz' on this device"))
    }

    @Test func killingTheServerMidPushLosesAndDoublesNothing() throws {
        let server = ServerProcess()
        defer { server.cleanUp() }
        try server.start()
        let councillor = try CLI()
        defer { councillor.cleanUp() }
        try login(councillor, "cllr-south", server)
        let count = 300
        for index in 0..<count {
            let result = try councillor.run("need", "add", "--locality", "clunbury", "--title", "Need \(index)")
            if result.status != 0 { Issue.record("need add failed: \(result.stderr)"); return }
        }
        // Sync in the background and kill the server as soon as it has committed the first
        // results, while the rest of the push is under way (bounded wait: 30 s).
        var configuration = Configuration()
        configuration.readonly = true
        let watcher = try DatabaseQueue(path: server.database.path, configuration: configuration)
        let sync = try councillor.start(["sync"])
        for _ in 0..<15_000 {
            let answered = try watcher.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM mutation_result") ?? 0 }
            if answered > 0 { break }
            Thread.sleep(forTimeInterval: 0.002)
        }
        server.kill()
        sync.waitUntilExit()
        // How far the push got before the kill, for the log (timing-dependent, so not asserted).
        let unanswered = try councillor.run("outbox", "--json").array().count
        let committed = try watcher.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM mutation_result") ?? 0 }
        print("SIGKILL: the server had committed \(committed) of \(count) mutations; the device had answers for \(count - unanswered)")
        try server.start()  // same port, same database
        let again = try councillor.run("sync", "--json")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try councillor.run("outbox", "--json").array().isEmpty)
        let titles = try councillor.run("need", "list", "--locality", "clunbury", "--json").array()
            .compactMap { $0["title"] as? String }.filter { $0.hasPrefix("Need ") }
        #expect(titles.count == count)
        #expect(Set(titles).count == count)

        // What the server holds, seen from a second device.
        let officer = try CLI()
        defer { officer.cleanUp() }
        try login(officer, "officer", server)
        let onServer = try officer.run("need", "list", "--locality", "clunbury", "--json").array()
            .compactMap { $0["title"] as? String }.filter { $0.hasPrefix("Need ") }
        #expect(onServer.count == count, "the server holds \(onServer.count) of \(count) needs")
        #expect(Set(onServer).count == onServer.count, "a need was applied twice")
    }
}
