import ArgumentParser
import Foundation
import Hummingbird
import LocalityCore
import LocalitySyncServer
import Logging
import NIOCore

@main
struct LocalitySync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locality-sync",
        abstract: "The Locality sync server and its operator commands.",
        discussion: """
            Every device syncs with this server, which holds the authoritative copy and runs the same \
            rules as the devices before it accepts a change.
            """,
        subcommands: [
            Serve.self, CouncilCommand.self, LocalitiesCommand.self, OrgServerCommand.self, UserCommand.self, DeviceCommand.self,
            AuditCommand.self, BackupCommand.self, RestoreCommand.self, SnapshotCommand.self, CheckCommand.self, OpenAPICommand.self, PublishCommand.self,
            PBServerCommand.self,
        ])

    /// A configuration file's settings go into the environment before anything is parsed.
    static func main() async {
        do {
            try ConfigFile.apply(arguments: Array(CommandLine.arguments.dropFirst()))
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            Foundation.exit(78)  // EX_CONFIG
        }
        await main(nil)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the sync server on its embedded SQLite database.",
        discussion: """
            Each setting can come from an option, the environment (LOCALITY_SYNC_DB, LOCALITY_SYNC_DATABASE_URL, LOCALITY_SYNC_HOST, \
            LOCALITY_SYNC_PORT, LOCALITY_SYNC_LOG_LEVEL, LOCALITY_SYNC_LOG_FORMAT, LOCALITY_SYNC_METRICS_TOKEN or \
            LOCALITY_SYNC_METRICS_TOKEN_FILE, LOCALITY_SYNC_BACKUP_DIR, LOCALITY_SYNC_BACKUP_EVERY, \
            LOCALITY_SYNC_BACKUP_KEEP) or a file (--config FILE or LOCALITY_SYNC_CONFIG: `key = value` lines with \
            the keys \(ConfigFile.keys.keys.sorted().joined(separator: ", "))), in that order of precedence. A \
            malformed value anywhere is refused at start, naming it. The server stops cleanly on SIGTERM or \
            SIGINT: requests in flight finish and the database is closed.
            """)

    @Option(help: ArgumentHelp("A configuration file of key = value lines (see above).", valueName: "file"))
    var config: String?

    @Option(help: "The server's database file (created and migrated on first start).")
    var db = ProcessInfo.processInfo.environment["LOCALITY_SYNC_DB"] ?? "locality-sync.sqlite"
    @Option(
        name: .customLong("database"),
        help: ArgumentHelp(
            "A PostgreSQL database to serve from instead of --db: postgres://user:password@host:5432/name (also "
                + "$LOCALITY_SYNC_DATABASE_URL). Any number of server processes may serve the same one.", valueName: "url"))
    var databaseURLOption: String?
    /// --database, else $LOCALITY_SYNC_DATABASE_URL.
    var databaseURL: String? { databaseURLOption ?? ProcessInfo.processInfo.environment["LOCALITY_SYNC_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    @Option(help: "The address to listen on.")
    var host = ProcessInfo.processInfo.environment["LOCALITY_SYNC_HOST"] ?? "127.0.0.1"
    @Option(help: "The port to listen on (0 picks a free one; default: $LOCALITY_SYNC_PORT, else 8080).")
    var port: Int?
    @Flag(help: "Load the demo council and its accounts (\(DemoCouncil.usernames.joined(separator: ", "))), each with the password '\(DemoCouncil.password)'.")
    var demo = false
    @Option(name: .customLong("backup-dir"), help: ArgumentHelp("Take checked backups into this directory on a schedule (see --backup-every, --keep).", valueName: "dir"))
    var backupDirOption: String?
    /// --backup-dir, else $LOCALITY_SYNC_BACKUP_DIR.
    var backupDir: String? { backupDirOption ?? ProcessInfo.processInfo.environment["LOCALITY_SYNC_BACKUP_DIR"] }
    @Option(help: ArgumentHelp("How often to back up: 30m, 1h, 1d (default 1h).", valueName: "interval"))
    var backupEvery: String = ProcessInfo.processInfo.environment["LOCALITY_SYNC_BACKUP_EVERY"] ?? "1h"
    @Option(help: "How many scheduled backups to keep; older ones are deleted (default 48).") var keep: Int?

    /// --keep, else LOCALITY_SYNC_BACKUP_KEEP (which must then be a whole number), else 48.
    func backupsKept() throws -> Int {
        if let keep { return keep }
        guard let text = ProcessInfo.processInfo.environment["LOCALITY_SYNC_BACKUP_KEEP"], !text.isEmpty else { return 48 }
        guard let value = Int(text), value >= 1 else {
            throw ValidationError("LOCALITY_SYNC_BACKUP_KEEP (keep) must be a whole number of at least 1, not '\(text)'")
        }
        return value
    }
    @Option(help: ArgumentHelp("text (readable, the default) or json (one object per line). Also $LOCALITY_SYNC_LOG_FORMAT.", valueName: "format"))
    var logFormat: String = ProcessInfo.processInfo.environment["LOCALITY_SYNC_LOG_FORMAT"] ?? "text"
    @Option(name: .customLong("metrics-token-file"), help: ArgumentHelp(
        "A file holding the bearer token GET /metrics needs (also $LOCALITY_SYNC_METRICS_TOKEN); without one, /metrics is not served.",
        valueName: "file"))
    var metricsTokenFileOption: String?
    /// --metrics-token-file, else $LOCALITY_SYNC_METRICS_TOKEN_FILE.
    var metricsTokenFile: String? { metricsTokenFileOption ?? ProcessInfo.processInfo.environment["LOCALITY_SYNC_METRICS_TOKEN_FILE"] }
    @Flag(name: .customLong("no-request-metrics"), help: .hidden) var noRequestMetrics = false

    /// The metrics token: from --metrics-token-file, else the environment; at least 16 characters.
    func metricsToken() throws -> String? {
        var token: String?
        if let metricsTokenFile {
            guard let text = try? String(contentsOfFile: metricsTokenFile, encoding: .utf8) else {
                throw ValidationError("--metrics-token-file \(metricsTokenFile) cannot be read")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let text = ProcessInfo.processInfo.environment["LOCALITY_SYNC_METRICS_TOKEN"], !text.isEmpty {
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let token, token.count < 16 || token.contains(where: { $0.isWhitespace || !$0.isASCII }) {
            throw ValidationError("the metrics token must be at least 16 printable ASCII characters with no spaces")
        }
        return token
    }

    /// "30m", "1h", "1d", "90s" as seconds.
    static func interval(_ text: String) throws -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
        guard let unit = trimmed.last, let scale = units[unit], let count = Int(trimmed.dropLast()), count > 0, count <= 10_000 else {
            throw ValidationError("--backup-every takes a number and a unit (s, m, h, d), like 1h or 30m, not '\(text)'")
        }
        return count * scale
    }

    /// The port: --port, else LOCALITY_SYNC_PORT (which must then be a port number), else 8080.
    func listeningPort() throws -> Int {
        if let port { return port }
        guard let text = ProcessInfo.processInfo.environment["LOCALITY_SYNC_PORT"], !text.isEmpty else { return 8080 }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), (0...65_535).contains(value) else {
            throw ValidationError("LOCALITY_SYNC_PORT must be a port number from 0 to 65535, not '\(text)'")
        }
        return value
    }

    func validate() throws {
        let port = try listeningPort()
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535, not \(port)") }
        guard !db.isEmpty else { throw ValidationError("--db needs a file path") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: db, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ValidationError("--db \(db) is a directory; give the database file's path")
        }
        if let level = ProcessInfo.processInfo.environment["LOCALITY_SYNC_LOG_LEVEL"], !level.isEmpty, Logger.Level(rawValue: level) == nil {
            throw ValidationError(
                "LOCALITY_SYNC_LOG_LEVEL must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), not '\(level)'")
        }
        guard ["text", "json"].contains(logFormat) else {
            throw ValidationError("--log-format (or LOCALITY_SYNC_LOG_FORMAT) is text or json, not '\(logFormat)'")
        }
        _ = try metricsToken()
        if let databaseURL {
            do { _ = try PostgresLocation(url: databaseURL) } catch let error as LocalityError { throw ValidationError(error.message) }
            if backupDir != nil {
                throw ValidationError("--backup-dir backs up the SQLite file; on PostgreSQL, back up with PostgreSQL's own tools (pg_dump, or the service's backups)")
            }
        }
        let kept = try backupsKept()
        if backupDir != nil {
            _ = try Self.interval(backupEvery)
            guard kept >= 1 else { throw ValidationError("--keep must be at least 1") }
        }
    }

    func run() async throws {
        if logFormat == "json" {
            let level = Logger.Level(rawValue: ProcessInfo.processInfo.environment["LOCALITY_SYNC_LOG_LEVEL"] ?? "") ?? .info
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let metrics = ServerMetrics()
        let metricsToken = try metricsToken()
        let kept = try backupsKept()
        let logger = {
            var logger = Logger(label: "locality-sync")
            logger.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["LOCALITY_SYNC_LOG_LEVEL"] ?? "") ?? .info
            return logger
        }()

        let port = try listeningPort()
        // Before the database is created: a port already taken is said plainly and leaves nothing behind.
        if let problem = PortCheck.problem(host: host, port: port) { throw OperatorError(problem) }
        var configuration = ServerConfiguration(host: host, port: port, metrics: metrics, metricsToken: metricsToken)
        configuration.requestMetrics = !noRequestMetrics
        if let databaseURL {
            return try await servePostgres(url: databaseURL, configuration: configuration, logger: logger)
        }
        guard let lock = try DatabaseLock.acquire(for: db) else {
            throw OperatorError("another locality-sync serve is running on \(db); one server per database")
        }
        defer { withExtendedLifetime(lock) {} }
        if let backupDir {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: backupDir, isDirectory: &isDirectory) {
                do { try FileManager.default.createDirectory(atPath: backupDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
                    throw OperatorError("cannot make the backup directory \(backupDir): \(error.localizedDescription)")
                }
            } else if !isDirectory.boolValue {
                throw OperatorError("--backup-dir \(backupDir) is a file, not a directory")
            }
        }
        let store: SQLiteSyncStore
        do {
            store = try SQLiteSyncStore.open(at: db)
        } catch {
            throw OperatorError("cannot open the database at \(db): \(DatabaseProblem.describe(error))")
        }
        logger.info("database ready", metadata: ["sync.db": "\(db)"])
        if !demo, try store.council() == nil {
            logger.notice(
                "no council is set up in \(db) yet: run `locality-sync council init --name … --gss …` and `locality-sync localities import FILE.csv`, or start with --demo")
        }
        if demo {
            if try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 10)) {
                logger.info("loaded the demo council (Marcher County)")
                logger.notice(
                    "demo accounts: \(DemoCouncil.usernames.joined(separator: ", ")) — each with the password '\(DemoCouncil.password)'")
            } else if try store.demoPasswordStillWorks() {
                logger.notice(
                    "this database already holds the demo council, loaded earlier; its accounts (\(DemoCouncil.usernames.joined(separator: ", "))) still have the demo password")
            } else {
                logger.notice("--demo: this database already holds a council, so nothing was loaded")
            }
        }
        let backups = backupDir.map { directory in
            Task.detached {
                let seconds = (try? Self.interval(backupEvery)) ?? 3_600
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(seconds))
                    guard !Task.isCancelled else { return }
                    let path = (directory as NSString).appendingPathComponent(Backup.fileName(at: Date()))
                    do {
                        let report = try Backup.copy(store.database, to: path)
                        metrics.backedUp(at: report.takenAt)
                        let pruned = try Backup.prune(directory, keep: kept)
                        logger.info(
                            "backup checked and kept",
                            metadata: [
                                "backup.path": "\(report.path)", "backup.bytes": "\(report.bytes)",
                                "backup.seconds": "\(String(format: "%.2f", report.seconds))", "backup.pruned": "\(pruned.count)",
                            ])
                    } catch {
                        logger.error("scheduled backup failed", metadata: ["backup.path": "\(path)", "error": "\(error)"])
                    }
                }
            }
        }
        defer { backups?.cancel() }
        try await run(store: store, configuration: configuration, logger: logger)
        logger.info("stopped")
    }

    func run(store: some SyncStore, configuration: ServerConfiguration, logger: Logger) async throws {
        let app = buildApplication(
            store: store, configuration: configuration, logger: logger,
            onServerRunning: { port in logger.notice("listening on http://\(configuration.host):\(port)") })
        do {
            try await app.runService()
        } catch let error as IOError {
            throw OperatorError("the server could not listen on \(configuration.host):\(configuration.port): \(error.description)")
        }
    }

    /// One of any number of server processes on a PostgreSQL database (see `ReplicatedSyncStore`).
    func servePostgres(url: String, configuration: ServerConfiguration, logger: Logger) async throws {
        let location: PostgresLocation
        let store: ReplicatedSyncStore
        do {
            location = try PostgresLocation(url: url)
            let log = try await PostgresLog(location, logger: logger)
            store = try await ReplicatedSyncStore(log: log, logger: logger)
        } catch let error as LocalityError {
            throw OperatorError(error.message)
        }
        logger.info("database ready", metadata: ["sync.database": "\(location.redacted)"])
        store.wedged.withLock {
            $0 = { [logger] in
                logger.critical("a PostgreSQL operation has held this process's lock for three deadlines without answering or failing; exiting so that the supervisor starts it again (it replays the log; nothing acknowledged is lost)")
                Foundation.exit(75)  // EX_TEMPFAIL
            }
        }
        if demo {
            try await store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 10))
            logger.notice("demo accounts: \(DemoCouncil.usernames.joined(separator: ", ")) — each with the password '\(DemoCouncil.password)'")
        } else if try await store.councilName() == nil {
            logger.notice("no council is in \(location.redacted) yet: start with --demo")
        }
        try await run(store: store, configuration: configuration, logger: logger)
        store.log.shutdown()
    }
}
