import Foundation
import Testing

/// What an operator types: configuration from a file, backup, check and restore, through the binary.
@Suite("The operator's configuration, backups and checks, through the built binary", .serialized)
struct OperationsTests {
    private func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-ops-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func aConfigurationFileSitsUnderTheEnvironmentAndOptionsAndIsCheckedLineByLine() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("council.sqlite").path
        let config = directory.appendingPathComponent("locality-sync.conf")
        try "# the council's server\ndb = \"\(database)\"\nport = 8099\n".write(to: config, atomically: true, encoding: .utf8)
        // The file's db is used by every command that takes one.
        let initialised = try operatorCommand(
            ["council", "init", "--name", "Testshire Council", "--gss", "E06000099"], environment: ["LOCALITY_SYNC_CONFIG": config.path])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        #expect(FileManager.default.fileExists(atPath: database))
        // The environment wins over the file, and an option over both.
        let other = directory.appendingPathComponent("other.sqlite").path
        let fromEnvironment = try operatorCommand(
            ["council", "show"], environment: ["LOCALITY_SYNC_CONFIG": config.path, "LOCALITY_SYNC_DB": other])
        #expect(fromEnvironment.status != 0 && fromEnvironment.stderr.contains(other))
        let fromOption = try operatorCommand(["council", "show", "--db", database], environment: ["LOCALITY_SYNC_DB": other])
        #expect(fromOption.status == 0 && fromOption.stdout.contains("Testshire Council"))
        // A malformed file, or a malformed value in it, is refused at start, naming it.
        try "port = 8099\nverbose = yes\n".write(to: config, atomically: true, encoding: .utf8)
        let unknown = try operatorCommand(["serve", "--config", config.path])
        #expect(unknown.status == 78 && unknown.stderr.contains("line 2: 'verbose' is not a setting"))
        try "port = eighty\n".write(to: config, atomically: true, encoding: .utf8)
        let badPort = try operatorCommand(["serve", "--config", config.path, "--db", database])
        #expect(badPort.status != 0 && badPort.stderr.contains("LOCALITY_SYNC_PORT must be a port number"))
        let badLevel = try operatorCommand(["serve", "--db", database], environment: ["LOCALITY_SYNC_LOG_LEVEL": "loud"])
        #expect(badLevel.status != 0 && badLevel.stderr.contains("LOCALITY_SYNC_LOG_LEVEL must be one of"))
    }

    @Test func backupCheckAndRestoreSayWhatTheyDidAndRefuseWhatTheyShould() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("council.sqlite").path
        let backup = directory.appendingPathComponent("backup.sqlite").path
        #expect(try operatorCommand(["council", "init", "--name", "Testshire Council", "--gss", "E06000099", "--db", database]).status == 0)
        let taken = try operatorCommand(["backup", "--to", backup, "--db", database])
        #expect(taken.status == 0 && taken.stdout.contains("Checked: integrity ok"), "\(taken.stderr)")
        // A directory given as the backup is refused, never replaced.
        let folder = directory.appendingPathComponent("keep-me")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "precious".write(to: folder.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let intoFolder = try operatorCommand(["backup", "--to", folder.path, "--db", database])
        #expect(intoFolder.status != 0 && intoFolder.stderr.contains("is a directory"))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("notes.txt").path))
        let checked = try operatorCommand(["check", "--db", backup, "--json"])
        #expect(checked.status == 0 && checked.stdout.contains("\"ledgerProblems\""))
        let refused = try operatorCommand(["restore", "--from", backup, "--db", database])
        #expect(refused.status != 0 && refused.stderr.contains("give --force"))
        let restored = try operatorCommand(["restore", "--from", backup, "--db", database, "--force"])
        #expect(restored.status == 0 && restored.stdout.contains("Restored"), "\(restored.stderr)")
        let notABackup = directory.appendingPathComponent("notes.txt").path
        try "not a database".write(toFile: notABackup, atomically: true, encoding: .utf8)
        let garbage = try operatorCommand(["restore", "--from", notABackup, "--db", database, "--force"])
        #expect(garbage.status != 0 && garbage.stderr.contains("was left as it was"), "\(garbage.stderr)")
        #expect(try operatorCommand(["check", "--db", database]).status == 0)
    }
}
