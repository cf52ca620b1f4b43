import Foundation
import LocalityCore
import Testing

/// Runs the built `locality-sync` binary for an operator command.
func operatorCommand(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> CLI.Result {
    let process = Process()
    process.executableURL = CLI.binary.deletingLastPathComponent().appendingPathComponent("locality-sync")
    process.arguments = arguments
    var merged = ProcessInfo.processInfo.environment
    for (key, value) in environment { merged[key] = value }
    process.environment = merged
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try process.run()
    if let stdin {
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
    }
    let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return CLI.Result(status: process.terminationStatus, stdout: stdout, stderr: stderr)
}

@Suite("Devices in trouble, and the operator's edges, through the built binaries", .serialized)
struct DeviceTroubleTests {
    private func login(_ cli: CLI, _ user: String, _ server: ServerProcess) throws -> CLI.Result {
        try cli.login(user, at: server)
    }

    @Test func aRevokedDeviceSaysSoAndItsChangesCarryToANewHome() throws {
        let server = ServerProcess()
        defer { server.cleanUp() }
        try server.start()
        let old = try CLI()
        let new = try CLI()
        defer {
            old.cleanUp()
            new.cleanUp()
        }
        #expect(try login(old, "cllr-north", server).status == 0)
        #expect(try old.run("need", "add", "--locality", "brockton-heath", "--title", "Made on the lost phone").status == 0)
        let device = try #require(try old.run("whoami", "--json").object()["deviceId"] as? String)
        #expect(try operatorCommand(["device", "revoke", device, "--db", server.database.path]).status == 0)

        let sync = try old.run("sync")
        #expect(sync.status != 0)
        #expect(sync.stderr.contains("this device was revoked by the server's operator"))
        #expect(sync.stderr.contains("1 change waiting to sync is kept"))
        #expect(sync.stderr.contains("outbox export"))
        let again = try login(old, "cllr-north", server)
        #expect(again.status != 0 && again.stderr.contains("cannot log in again"))

        let file = old.home.appendingPathComponent("pending.json").path
        #expect(try old.run("outbox", "export", file).status == 0)
        #expect(try login(new, "cllr-north", server).status == 0)
        let imported = try new.run("outbox", "import", file)
        #expect(imported.status == 0 && imported.stdout.contains("Queued 1 change of 1"), "\(imported.stderr)")
        // A second import takes nothing twice.
        #expect(try new.run("outbox", "import", file).stdout.contains("Queued 0 changes of 1"))
        let sent = try new.run("sync", "--json").object()
        #expect(sent["accepted"] as? Int == 1)
        // Someone else's changes are not taken.
        let clerk = try CLI()
        defer { clerk.cleanUp() }
        #expect(try login(clerk, "clerk-north", server).status == 0)
        let refused = try clerk.run("outbox", "import", file)
        #expect(refused.status != 0 && refused.stderr.contains("were made by cllr-north"))
    }

    @Test func aDamagedReplicaIsNamedCheckedAndRecovered() throws {
        let server = ServerProcess()
        defer { server.cleanUp() }
        try server.start()
        let cli = try CLI()
        defer { cli.cleanUp() }
        #expect(try login(cli, "cllr-north", server).status == 0)
        for title in ["First unsent", "Second unsent", "Third unsent"] {
            #expect(try cli.run("need", "add", "--locality", "brockton-heath", "--title", title).status == 0)
        }
        #expect(try cli.run("check").status == 0)
        // Damage every page that holds the queued changes, past its header: a bad page, as a failing disk leaves.
        let path = cli.home.appendingPathComponent("replica.sqlite").path
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let marker = Array("need.record".utf8)
        var damaged = Set<Int>()
        var index = 0
        while index + marker.count <= bytes.count {
            if bytes[index] == marker[0], Array(bytes[index..<(index + marker.count)]) == marker { damaged.insert(index / 4096) }
            index += 1
        }
        damaged.remove(0)
        var generator = SeededGenerator(seed: 7)
        for page in damaged { for offset in (page * 4096 + 100)..<(page * 4096 + 3100) { bytes[offset] = UInt8.random(in: 0...255, using: &generator) } }
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let outbox = try cli.run("outbox")
        #expect(outbox.status != 0)
        #expect(outbox.stderr.contains("the replica \(path) is damaged"))
        #expect(outbox.stderr.contains("recover"))
        #expect(!outbox.stderr.contains("PRAGMA"))
        let check = try cli.run("check", "--json")
        #expect(check.status == 3)
        #expect(try check.object()["intact"] as? Bool == false)

        let saved = cli.home.appendingPathComponent("saved.json").path
        let recover = try cli.run("recover", "--to", saved)
        #expect(recover.status == 0, "\(recover.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path))
        let kept = try FileManager.default.contentsOfDirectory(atPath: cli.home.path).filter { $0.hasPrefix("replica.sqlite.damaged-") }
        #expect(!kept.isEmpty)
        let carried = try PendingChanges.read(from: saved)
        #expect(carried.changes.count + carried.unreadable.count >= 1)
        #expect(try login(cli, "cllr-north", server).status == 0)
        #expect(try cli.run("outbox", "import", saved).status == 0)
        let sync = try cli.run("sync", "--json").object()
        #expect(sync["accepted"] as? Int == carried.changes.count)
    }

    @Test func operatorMistakesAreSaidPlainly() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-op-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("council.sqlite").path

        let badPort = try operatorCommand(["serve", "--db", database], environment: ["LOCALITY_SYNC_PORT": "abc"])
        #expect(badPort.status != 0 && badPort.stderr.contains("LOCALITY_SYNC_PORT must be a port number"))
        #expect(!FileManager.default.fileExists(atPath: database))

        let verify = try operatorCommand(["audit", "verify", "--db", directory.path])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("is a directory") && !verify.stderr.contains("Usage:") && !verify.stderr.contains("I/O"))
        let missing = try operatorCommand(["user", "list", "--db", database])
        #expect(missing.status == 1 && missing.stderr.contains("there is no server database") && !missing.stderr.contains("Usage:"))

        // A port in use is said before the database is created.
        let server = ServerProcess()
        defer { server.cleanUp() }
        try server.start()
        let taken = try operatorCommand(["serve", "--db", database, "--port", String(server.port)])
        #expect(taken.status == 1 && taken.stderr.contains("already in use"))
        #expect(!FileManager.default.fileExists(atPath: database))

        // Accounts list in columns that never run together.
        let list = try operatorCommand(["user", "list", "--db", server.database.path])
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.first?.contains("Username") == true && lines.count > 3)
        #expect(lines.dropFirst(2).allSatisfy { $0.contains("  ") })
        // Usernames are one account whatever their capitals.
        let duplicate = try operatorCommand(
            ["user", "add", "--db", server.database.path, "--username", "Cllr-North", "--role", "officer"], stdin: "a-long-password\n")
        #expect(duplicate.status == 1 && duplicate.stderr.contains("there is already an account called 'cllr-north'"))
    }

    /// `serve --demo` announces the demo passwords only when they are the ones in use.
    @Test func theDemoPasswordsAreAnnouncedOnlyWhenTheyWork() throws {
        let first = ServerProcess(demo: false)
        defer { first.cleanUp() }
        try first.start()
        first.stop()
        let added = try operatorCommand(
            ["user", "add", "--db", first.database.path, "--username", "it-admin", "--role", "operator"], stdin: "a-long-password\n")
        #expect(added.status == 0, "\(added.stderr)")
        let second = ServerProcess(demo: true, database: first.database)
        defer { second.kill() }
        try second.start()
        #expect(second.output.contains("already holds a council, so nothing was loaded"))
        #expect(!second.output.contains("demo-password"))

        let fresh = ServerProcess()
        defer { fresh.cleanUp() }
        try fresh.start()
        #expect(fresh.output.contains("each with the password 'demo-password'"))
        fresh.stop()
        let again = ServerProcess(demo: true, database: fresh.database)
        defer { again.kill() }
        try again.start()
        #expect(again.output.contains("loaded earlier") && !again.output.contains("loaded the demo council"))
    }

    /// A council from public data, through the operator's commands.
    @Test func aCouncilIsSetUpFromItsONSLookup() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-council-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("council.sqlite").path
        let lookup = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("LocalitySyncServerTests/Fixtures/ons/PAR19_WD19_LAD19_Shropshire.csv").path
        let initialised = try operatorCommand(["council", "init", "--name", "Shropshire Council", "--gss", "E06000051", "--db", database])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        let bad = directory.appendingPathComponent("bad.csv").path
        try "FID,PAR19CD,PAR19NM,WD19CD,WD19NM,LAD19CD,LAD19NM\n1,E04000001,A,E05000001\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try operatorCommand(["localities", "import", bad, "--db", database])
        #expect(refused.status == 1 && refused.stderr.contains("line 2: 4 fields where the header has 7") && !refused.stderr.contains("Usage"))
        let imported = try operatorCommand(["localities", "import", lookup, "--lad", "E06000051", "--db", database, "--json"])
        let changes = try #require(try JSONSerialization.jsonObject(with: Data(imported.stdout.utf8)) as? [String: Any])
        #expect((changes["added"] as? [Any])?.count == 264)
        let shown = try operatorCommand(["council", "show", "--db", database])
        #expect(shown.stdout.contains("63 wards, 201 parishes, 0 areas"))
        let again = try operatorCommand(["council", "init", "--name", "Again", "--gss", "E06000051", "--db", database])
        #expect(again.status == 1 && again.stderr.contains("already holds a council"))

        // Accounts from a file, each with a one-time code the person uses to choose a password.
        let people = directory.appendingPathComponent("people.csv").path
        try "username,display name,role,places,organisation\ncllr-copthorne,Cllr Copthorne,councillor,E05008157,\n"
            .write(toFile: people, atomically: true, encoding: .utf8)
        let codesFile = directory.appendingPathComponent("codes.csv").path
        let added = try operatorCommand(["user", "import", people, "--codes-to", codesFile, "--db", database])
        #expect(added.status == 0, "\(added.stderr)")
        let permissions = try FileManager.default.attributesOfItem(atPath: codesFile)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let code = try #require(try String(contentsOfFile: codesFile, encoding: .utf8).split(separator: "\n").dropFirst().first?
            .split(separator: ",").dropFirst().first.map(String.init))
        #expect(!added.stdout.contains(code))
        let server = ServerProcess(demo: false, database: URL(fileURLWithPath: database))
        defer { server.kill() }
        try server.start()
        let cli = try CLI()
        defer { cli.cleanUp() }
        let activated = try cli.run(
            ["--home", cli.home.path, "login", "--server", server.url, "--user", "cllr-copthorne", "--activate", code, "--password-stdin"],
            withHome: false, stdin: "my-own-password\n")
        #expect(activated.status == 0 && activated.stdout.contains("Activated your account"), "\(activated.stderr)")
        #expect(try cli.run("need", "add", "--locality", "shrewsbury", "--title", "Riverside path floods").status == 0)
        #expect(try cli.run("sync", "--json").object()["accepted"] as? Int == 1)
        let reused = try CLI()
        defer { reused.cleanUp() }
        let twice = try reused.run(
            ["--home", reused.home.path, "login", "--server", server.url, "--user", "cllr-copthorne", "--activate", code, "--password-stdin"],
            withHome: false, stdin: "my-own-password\n")
        #expect(twice.status != 0)
        // Neither the code nor the password is ever in the server's log.
        #expect(!server.output.contains(code) && !server.output.contains("my-own-password"))
    }
}
