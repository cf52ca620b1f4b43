import ArgumentParser
import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer

/// `backup`, `restore` and `check`: the database as an operator keeps it safe.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database while the server serves, and check the copy before calling it good.",
        discussion: """
            The copy is one consistent moment (SQLite's backup API inside one read transaction), written beside \
            FILE, checked (integrity, foreign keys, the ledger, the audit chain) and only then moved into place. \
            For backups on a schedule, see `serve --backup-dir`.
              locality-sync backup --to /var/backups/locality/nightly.sqlite --db /var/lib/locality-sync/locality-sync.sqlite
            """)

    @OptionGroup var database: DatabaseOption
    @OptionGroup var output: JSONFlag
    @Option(help: ArgumentHelp("Where to write the backup (replaced if it exists).", valueName: "file")) var to: String

    func run() throws {
        try database.requireSQLite("backup", instead: "back up with PostgreSQL's own tools (pg_dump, or the managed service's snapshots and point-in-time recovery): every server process rebuilds its state from the database")
        try database.requireFile()
        guard URL(fileURLWithPath: to).standardizedFileURL.path != URL(fileURLWithPath: database.db).standardizedFileURL.path else {
            throw OperatorError("--to names the database itself; give the backup its own file")
        }
        let source: DatabasePool
        do { source = try DatabasePool(path: database.db) } catch {
            throw OperatorError("cannot open the server database at \(database.db): \(DatabaseProblem.describe(error))")
        }
        let report: Backup.Report
        do { report = try Backup.copy(source, to: to) } catch let failure as Backup.Failure {
            throw OperatorError(failure.description)
        }
        if output.json { return try printJSON(report) }
        print("Backed up \(database.db) to \(report.path): \(megabytes(report.bytes)) in \(String(format: "%.2f", report.seconds)) s, "
            + "up to change \(report.changeSequence). Checked: integrity ok, \(report.check.funds) funds balance, "
            + "audit trail intact (\(report.check.audit.entries) entries).")
    }
}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a backup in place as the server's database (with the server stopped).",
        discussion: """
            The backup is checked first. Refused while a server holds the database, and refused over an existing \
            database without --force. Devices that synced since the backup was taken are told at their next sync.
              locality-sync restore --from /var/backups/locality/nightly.sqlite --db /var/lib/locality-sync/locality-sync.sqlite --force
            """)

    @OptionGroup var database: DatabaseOption
    @OptionGroup var output: JSONFlag
    @Option(help: ArgumentHelp("The backup to restore.", valueName: "file")) var from: String
    @Flag(help: "Replace an existing database.") var force = false

    func run() throws {
        try database.requireSQLite("restore", instead: "restore with PostgreSQL's own tools (pg_restore into a new database), then start the server processes on it")
        guard FileManager.default.fileExists(atPath: from) else { throw OperatorError("there is no backup at \(from)") }
        if FileManager.default.fileExists(atPath: database.db), !force {
            throw OperatorError("\(database.db) exists; restoring replaces it with the backup: give --force if that is what you want")
        }
        guard let lock = try DatabaseLock.acquire(for: database.db) else {
            throw OperatorError("a server is running on \(database.db); stop it first (systemctl stop locality-sync)")
        }
        defer { withExtendedLifetime(lock) {} }
        let check: DatabaseCheck
        do { check = try Backup.restore(from: from, to: database.db) } catch let failure as Backup.Failure {
            throw OperatorError("\(failure.description); \(database.db) was left as it was")
        } catch {
            throw OperatorError("\(from) cannot be read as a server database: \(DatabaseProblem.describe(error)); \(database.db) was left as it was")
        }
        if output.json { return try printJSON(check) }
        print("Restored \(from) to \(database.db): integrity ok, \(check.funds) funds balance, audit trail intact (\(check.audit.entries) entries).")
    }
}

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "On PostgreSQL: store a copy of the council's state, so that a new server process replays only what came after.",
        discussion: """
            Replays the log (from the newest snapshot, if any), copies the state as of the log's head into \
            PostgreSQL and keeps the newest --keep copies. Serving processes are not paused: run it from a timer \
            (nightly, or after every hundred thousand mutations). A process trusts a snapshot only when the log's \
            entry at its sequence has the hash it names; otherwise it replays the whole log.
              locality-sync snapshot --database postgres://locality@db.internal/locality
            """)

    @OptionGroup var database: DatabaseOption
    @OptionGroup var output: JSONFlag
    @Option(help: "How many snapshots to keep.") var keep = 2

    func run() async throws {
        guard database.databaseURL != nil else {
            throw OperatorError("snapshots are for PostgreSQL (--database); the SQLite file is its own state: use `backup`")
        }
        let started = ContinuousClock.now
        let info = try await database.with { database in
            guard case .postgres(let store, _) = database else { throw OperatorError("not a PostgreSQL database") }
            do { return try await store.snapshot(keep: keep) } catch let error as LocalityError { throw OperatorError(error.message) }
        }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        if output.json { return try printJSON(info) }
        print("Snapshot at log entry \(info.sequence): \(megabytes(info.bytes)) in \(info.parts) part\(info.parts == 1 ? "" : "s"), \(String(format: "%.2f", seconds)) s. New server processes start from it.")
    }
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the database: integrity, foreign keys, the ledger's invariants and the audit chain.",
        discussion: """
            Read-only. With --database postgres://…, the log is replayed into a fresh copy of the state — every \
            entry must give the answer it gave when it was written — and that copy is checked. Exit codes: 0 all well; 3 the database is damaged (integrity or foreign keys); 4 a ledger \
            invariant is broken (committed above allocated, paid above committed, transfers that do not balance); \
            2 the audit chain is broken.
            """)

    @OptionGroup var database: DatabaseOption
    @OptionGroup var output: JSONFlag

    func run() async throws {
        let check: DatabaseCheck
        if database.databaseURL != nil {
            check = try await database.with { database in
                guard case .postgres(let store, _) = database else { throw OperatorError("not a PostgreSQL database") }
                var check = try await store.current().database.read { try DatabaseCheck.run($0) }
                // The chain that matters across processes is the log's.
                check.audit = try await store.log.verify()
                return check
            }
        } else {
            try database.requireFile()
            do { check = try DatabaseCheck.run(databaseAt: database.db) } catch {
                throw OperatorError("cannot check \(database.db): \(DatabaseProblem.describe(error))")
            }
        }
        if output.json {
            try printJSON(check)
        } else {
            print("Integrity:     \(check.integrity == ["ok"] ? "ok" : check.integrity.joined(separator: "; "))")
            print("Foreign keys:  \(check.foreignKeyViolations.isEmpty ? "ok" : check.foreignKeyViolations.joined(separator: "; "))")
            print("Ledger:        \(check.ledgerProblems.isEmpty ? "ok — \(check.funds) funds, \(check.ledgerEntries) entries; committed within allocated, paid within committed" : check.ledgerProblems.joined(separator: "; "))")
            print("Kept answers:  \(check.resultProblems.isEmpty ? "ok — every applied mutation's answer kept once" : check.resultProblems.joined(separator: "; "))")
            print("Audit trail:   \(check.audit.firstBroken.map { "BROKEN at entry \($0.sequence): \($0.problem)" } ?? "intact, \(check.audit.entries) entries")")
        }
        if check.exitCode != 0 { throw ExitCode(check.exitCode) }
    }
}

func megabytes(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }

struct OpenAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi",
        abstract: "Print the sync API's OpenAPI 3.1 document (as served at GET /v1/openapi.json).",
        discussion: "`locality-sync openapi --yaml > docs/openapi.yaml` refreshes the copy in the repository.")

    @Flag(help: "YAML instead of JSON.") var yaml = false

    func run() throws {
        let document = OpenAPIDocument.document
        if yaml {
            Swift.print(document.yaml, terminator: "")
        } else {
            Swift.print(JSONWriter.pretty(document))
        }
    }
}
