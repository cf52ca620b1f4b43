import Foundation
import Testing

/// A real council set up and kept on PostgreSQL with the same operator commands as on the SQLite
/// file (`--database` instead of `--db`), while two server processes serve it: each change an
/// operator makes reaches every running process through the log. Needs LOCALITY_TEST_POSTGRES_URL.
@Suite(
    "Operator commands on PostgreSQL", .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["LOCALITY_TEST_POSTGRES_URL"]?.isEmpty == false, "set LOCALITY_TEST_POSTGRES_URL"))
struct PostgresOperatorTests {
    @Test func aCouncilIsSetUpAndKeptOnPostgreSQLWhileTwoProcessesServeIt() throws {
        let url = try PostgresEndToEndTests.freshDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-pg-operator-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let lookup = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("LocalitySyncServerTests/Fixtures/ons/PAR19_WD19_LAD19_Shropshire.csv").path
        func admin(_ arguments: String..., stdin: String? = nil) throws -> CLI.Result {
            try operatorCommand(arguments + ["--database", url], stdin: stdin)
        }

        // Set up from nothing, exactly as on the SQLite file.
        let initialised = try admin("council", "init", "--name", "Shropshire Council", "--org-id", "GB-LAE-SHR", "--gss", "E06000051")
        #expect(initialised.status == 0, "\(initialised.stderr)")
        let bad = directory.appendingPathComponent("bad.csv").path
        try "FID,PAR19CD,PAR19NM,WD19CD,WD19NM,LAD19CD,LAD19NM\n1,E04000001,A,E05000001\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try admin("localities", "import", bad)
        #expect(refused.status == 1 && refused.stderr.contains("line 2: 4 fields where the header has 7") && !refused.stderr.contains("Usage"))
        let dry = try admin("localities", "import", lookup, "--lad", "E06000051", "--dry-run", "--json")
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect((try dry.object()["added"] as? [Any])?.count == 264)
        let imported = try admin("localities", "import", lookup, "--lad", "E06000051", "--json")
        #expect((try imported.object()["added"] as? [Any])?.count == 264, "\(imported.stderr)")
        #expect(try admin("council", "show").stdout.contains("63 wards, 201 parishes, 0 areas"))
        let again = try admin("council", "init", "--name", "Again", "--gss", "E06000051")
        #expect(again.status == 1 && again.stderr.contains("already holds a council"), "\(again.stderr)")
        #expect(try admin("org", "add", "--name", "Shrewsbury Town Council", "--kind", "town-council", "--locality", "shrewsbury").status == 0)
        let people = directory.appendingPathComponent("people.csv").path
        try "username,display name,role,places,organisation\ncllr-copthorne,Cllr Copthorne,councillor,E05008157,\nshr-clerk,Town Clerk,member,,shrewsbury-town-council\n"
            .write(toFile: people, atomically: true, encoding: .utf8)
        let codesFile = directory.appendingPathComponent("codes.csv").path
        let added = try admin("user", "import", people, "--codes-to", codesFile)
        #expect(added.status == 0, "\(added.stderr)")
        let code = try #require(try String(contentsOfFile: codesFile, encoding: .utf8).split(separator: "\n").dropFirst().first?
            .split(separator: ",").dropFirst().first.map(String.init))
        #expect(try admin("user", "add", "--username", "shr-officer", "--role", "officer", stdin: "officer-password\n").status == 0)
        // Neither the code nor the password reaches the log: only their hashes do.
        let dump = try Self.psql(url, "SELECT string_agg(body || result, ' ') FROM locality_log")
        #expect(!dump.isEmpty && !dump.contains(code) && !dump.contains("officer-password"))
        #expect(try Self.psql(url, "SELECT string_agg(kind, ',' ORDER BY sequence) FROM locality_log")
            .contains("council.init,localities.import,org.add,user.import,user.add"))

        // Two processes serve it; a device on each.
        let servers = [ServerProcess(demo: false, postgres: url), ServerProcess(demo: false, postgres: url)]
        defer { for server in servers { server.cleanUp() } }
        for server in servers { try server.start() }
        let councillor = try CLI()
        defer { councillor.cleanUp() }
        let activated = try councillor.login("cllr-copthorne", at: servers[0], password: "my-own-password", activate: code)
        #expect(activated.status == 0, "\(activated.stderr)")
        #expect(try councillor.run("need", "add", "--locality", "shrewsbury", "--title", "Riverside path floods").status == 0)
        #expect(try councillor.run("sync", "--json").object()["accepted"] as? Int == 1)
        let officer = try CLI()
        defer { officer.cleanUp() }
        let login = try officer.login("shr-officer", at: servers[1], password: "officer-password")
        #expect(login.status == 0, "\(login.stderr)")
        try officer.run("sync")
        #expect(try officer.run("need", "list", "--json").array().contains { $0["title"] as? String == "Riverside path floods" })

        // An operator's change made while both serve (by a third process, through the log) reaches
        // them: the councillor's device is revoked and refused at its next sync.
        let devices = try admin("device", "list", "--json").array()
        #expect(devices.count == 2)
        let device = try #require(devices.first { $0["username"] as? String == "cllr-copthorne" }?["id"] as? String)
        #expect(try admin("device", "revoke", device).status == 0)
        let revoked = try councillor.run("sync")
        #expect(revoked.status != 0 && revoked.stderr.contains("revoked"), "\(revoked.stdout) \(revoked.stderr)")
        #expect(try admin("user", "list", "--json").array().count == 3)

        // Checked as a whole: the log replays to the same answers, the ledger holds, the chain is one.
        let check = try admin("check", "--json")
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        #expect(try admin("audit", "verify").status == 0)
        let backup = try admin("backup", "--to", directory.appendingPathComponent("copy.sqlite").path)
        #expect(backup.status == 1 && backup.stderr.contains("pg_dump"), "\(backup.stderr)")
    }

    /// One value from psql.
    static func psql(_ url: String, _ sql: String) throws -> String {
        let psql = Process()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        psql.arguments = [url, "-XAtc", sql]
        let pipe = Pipe()
        psql.standardOutput = pipe
        try psql.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        psql.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
