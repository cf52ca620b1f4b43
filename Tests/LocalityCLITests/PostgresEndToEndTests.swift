import Foundation
import Testing

/// Three `locality-sync serve --database postgres://…` processes on one database, devices spread
/// across them, one process SIGKILLed while the devices push: nothing acknowledged is lost or
/// doubled, and the log's chain is intact. Needs LOCALITY_TEST_POSTGRES_URL (`.ci/run` sets it).
@Suite(
    "PostgreSQL end to end through the built binaries", .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["LOCALITY_TEST_POSTGRES_URL"]?.isEmpty == false, "set LOCALITY_TEST_POSTGRES_URL"))
struct PostgresEndToEndTests {
    /// A new database beside the test cluster's, by psql.
    static func freshDatabase() throws -> String {
        let base = try #require(ProcessInfo.processInfo.environment["LOCALITY_TEST_POSTGRES_URL"])
        let name = "locality_e2e_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let psql = Process()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        psql.arguments = [base, "-qc", "CREATE DATABASE \(name)"]
        try psql.run()
        psql.waitUntilExit()
        #expect(psql.terminationStatus == 0, "psql could not create \(name)")
        var url = try #require(URLComponents(string: base))
        url.path = "/" + name
        return try #require(url.string)
    }

    @Test func aProcessKilledMidPushLosesNothingAcknowledgedAndDoublesNothing() throws {
        let url = try Self.freshDatabase()
        let servers = [ServerProcess(postgres: url), ServerProcess(demo: false, postgres: url), ServerProcess(demo: false, postgres: url)]
        defer { for server in servers { server.cleanUp() } }
        for server in servers { try server.start() }
        // Six councillor devices, two on each process, each with ten needs recorded offline.
        var devices: [CLI] = []
        for index in 0..<6 {
            let cli = try CLI()
            let login = try cli.login("cllr-north", at: servers[index % 3])
            #expect(login.status == 0, "login: \(login.stderr)")
            for need in 0..<10 {
                let added = try cli.run("need", "add", "--locality", need % 2 == 0 ? "brockton" : "whitmere-town", "--title", "E2E \(index)-\(need)")
                #expect(added.status == 0, "\(added.stderr)")
            }
            devices.append(cli)
        }
        defer { for device in devices { device.cleanUp() } }
        // Everyone syncs at once; the first process is killed while they do.
        let syncs = try devices.map { try $0.start(["sync"]) }
        Thread.sleep(forTimeInterval: 0.15)
        servers[0].kill()
        for sync in syncs { sync.waitUntilExit() }
        print("PostgreSQL end to end: \(syncs.filter { $0.terminationStatus != 0 }.count) of 6 first syncs failed as the process died")
        // It comes back on its port, replaying the log; the devices sync until everything is answered.
        try servers[0].start()
        for device in devices {
            for _ in 0..<3 { try device.run("sync") }
            let outbox = try device.run("outbox", "--json")
            #expect(try outbox.array().isEmpty, "a device still holds unanswered changes: \(outbox.stdout)")
        }
        let officer = try CLI()
        defer { officer.cleanUp() }
        let login = try officer.login("officer", at: servers[2])
        #expect(login.status == 0, "\(login.stderr)")
        try officer.run("sync")
        let titles = try officer.run("need", "list", "--json").array().compactMap { $0["title"] as? String }.filter { $0.hasPrefix("E2E ") }
        #expect(titles.count == 60 && Set(titles).count == 60, "\(titles.count) needs, \(Set(titles).count) distinct, of 60")
        let audit = Process()
        audit.executableURL = servers[0].binary
        audit.arguments = ["audit", "verify", "--database", url]
        audit.standardOutput = FileHandle.nullDevice
        try audit.run()
        audit.waitUntilExit()
        #expect(audit.terminationStatus == 0, "the log's chain is broken")
    }
}
