import Foundation
import GRDB
import LocalityCore

/// What `locality-sync check` finds in a server database: SQLite's own integrity, foreign keys,
/// the ledger's invariants and the audit chain.
public struct DatabaseCheck: Codable, Sendable {
    /// SQLite's `integrity_check`: `["ok"]`, or the problems it names (at most 20).
    public var integrity: [String]
    /// Rows whose foreign key names nothing (table and rowid, at most 20).
    public var foreignKeyViolations: [String]
    /// Funds whose commitments exceed what they hold, or whose payments exceed their commitments.
    public var ledgerProblems: [String]
    /// Devices whose kept answers do not cover each of their applied mutations exactly once (a
    /// retry must be answered as the first push was): at most 20.
    public var resultProblems: [String]
    public var audit: Audit.Verification
    public var funds: Int
    public var ledgerEntries: Int

    public var databaseIntact: Bool { integrity == ["ok"] && foreignKeyViolations.isEmpty && resultProblems.isEmpty }
    public var ok: Bool { databaseIntact && ledgerProblems.isEmpty && audit.intact }

    /// The exit code `check` ends with: 0 all well; 3 the database is damaged (integrity, foreign
    /// keys or the kept answers); 4 a ledger invariant is broken; 2 the audit chain is broken.
    public var exitCode: Int32 {
        if !databaseIntact { return 3 }
        if !ledgerProblems.isEmpty { return 4 }
        if !audit.intact { return 2 }
        return 0
    }

    public static func run(_ db: Database) throws -> DatabaseCheck {
        let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check(20)")
        let foreignKeys = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").prefix(20).map { row -> String in
            "\(row[0] as String? ?? "?") row \(row[1] as Int64? ?? 0) names a missing \(row[2] as String? ?? "?")"
        }
        var problems: [String] = []
        let budgets = try Budget.fetchAll(db, sql: "SELECT * FROM budget ORDER BY name")
        for budget in budgets {
            let position = try BudgetPosition.of(budget: budget.id, in: db)
            if position.committed > position.allocated {
                problems.append("\(budget.name): \(position.committed) committed of \(position.allocated) allocated")
            }
            if position.paid > position.committed {
                problems.append("\(budget.name): \(position.paid) paid against \(position.committed) committed")
            }
            if position.allocated < .zero {
                problems.append("\(budget.name): holds \(position.allocated)")
            }
        }
        let overPaid = try Row.fetchAll(
            db,
            sql: """
                SELECT decision_id,
                    SUM(CASE kind WHEN 'commitment' THEN amount WHEN 'decommitment' THEN -amount ELSE 0 END) AS committed,
                    SUM(CASE kind WHEN 'payment' THEN amount WHEN 'clawback' THEN -amount ELSE 0 END) AS paid
                FROM ledger_entry WHERE decision_id IS NOT NULL GROUP BY decision_id HAVING paid > committed OR committed < 0
                """)
        for row in overPaid {
            problems.append(
                "decision \(row["decision_id"] as String? ?? "?"): \(Money(pence: row["paid"])) paid against \(Money(pence: row["committed"])) committed")
        }
        let transfers = try Row.fetchOne(
            db,
            sql: """
                SELECT COALESCE(SUM(CASE kind WHEN 'transfer-out' THEN amount END), 0) AS moved_out,
                    COALESCE(SUM(CASE kind WHEN 'transfer-in' THEN amount END), 0) AS moved_in FROM ledger_entry
                """)
        if let transfers, (transfers["moved_out"] as Int64? ?? 0) != (transfers["moved_in"] as Int64? ?? 0) {
            problems.append(
                "transfers do not balance: \(Money(pence: transfers["moved_out"])) out, \(Money(pence: transfers["moved_in"])) in")
        }
        return DatabaseCheck(
            integrity: integrity, foreignKeyViolations: Array(foreignKeys), ledgerProblems: problems,
            resultProblems: try StoredResults.problems(db), audit: try Audit.verify(db),
            funds: budgets.count, ledgerEntries: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM ledger_entry") ?? 0)
    }

    /// Checks the database file at `path`, opened read-only.
    public static func run(databaseAt path: String) throws -> DatabaseCheck {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { try run($0) }
    }
}

/// Online, consistent copies of the server's database, checked before they are called good.
public enum Backup {
    public struct Report: Codable, Sendable {
        public var path: String
        public var bytes: Int64
        public var seconds: Double
        public var takenAt: Date
        /// The change sequence the copy holds: every change up to it is in the backup.
        public var changeSequence: Int64
        public var check: DatabaseCheck
    }

    public enum Failure: Error, CustomStringConvertible {
        case checkFailed(DatabaseCheck)
        case io(String)

        public var description: String {
            switch self {
            case .checkFailed(let check):
                "the copy failed its check (\(Backup.describe(check))); it was not kept"
            case .io(let message): message
            }
        }
    }

    /// Copies `source` — a live database, while the server serves — to `path`, through SQLite's
    /// backup API inside one read transaction (so the copy is one consistent moment), then checks
    /// the copy (integrity, foreign keys, the ledger, the audit chain) before moving it into place.
    /// A copy that fails its check is deleted and the error says why.
    public static func copy(_ source: any DatabaseReader, to path: String, now: Date = Date()) throws -> Report {
        let started = ContinuousClock.now
        let destination = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw Failure.io("\(path) is a directory; give the backup's file name (it replaces a file, never a directory)")
        }
        let partial = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).partial")
        try? FileManager.default.removeItem(at: partial)
        defer { try? FileManager.default.removeItem(at: partial) }
        do {
            let copy = try DatabaseQueue(path: partial.path)
            try source.backup(to: copy)
            // A single file, whatever the source's journal mode: a backup is one file to keep.
            try copy.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = DELETE") }
            try copy.close()
        } catch {
            throw Failure.io("cannot write the backup \(path): \(DatabaseProblem.describe(error))")
        }
        let check = try DatabaseCheck.run(databaseAt: partial.path)
        guard check.ok else { throw Failure.checkFailed(check) }
        let sequence = try DatabaseQueue(path: partial.path, configuration: readOnly).read {
            try Int64.fetchOne($0, sql: "SELECT value FROM change_counter WHERE id = 1") ?? 0
        }
        do {
            if FileManager.default.fileExists(atPath: destination.path) { try FileManager.default.removeItem(at: destination) }
            try FileManager.default.moveItem(at: partial, to: destination)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: destination.path)
        } catch {
            throw Failure.io("cannot move the checked backup into \(path): \(error.localizedDescription)")
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: destination.path)[.size] as? Int64) ?? 0
        let elapsed = ContinuousClock.now - started
        return Report(
            path: destination.path, bytes: bytes,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, takenAt: now,
            changeSequence: sequence, check: check)
    }

    /// Puts a backup in place as the database at `path`: checks the backup first, copies it beside
    /// the target, removes the target's write-ahead log, and renames the copy over the target, so a
    /// failure part-way leaves the target as it was.
    public static func restore(from backup: String, to path: String) throws -> DatabaseCheck {
        let check = try DatabaseCheck.run(databaseAt: backup)
        guard check.ok else { throw Failure.checkFailed(check) }
        let destination = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw Failure.io("\(path) is a directory, not a database file")
        }
        let partial = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).restoring")
        try? FileManager.default.removeItem(at: partial)
        defer { try? FileManager.default.removeItem(at: partial) }
        do {
            let source = try DatabaseQueue(path: backup, configuration: readOnly)
            let copy = try DatabaseQueue(path: partial.path)
            try source.backup(to: copy)
            // A restore starts a new history: devices that saw the lost one notice and heal it.
            try copy.write { db in
                if try db.tableExists("server_history") {
                    try db.execute(sql: "UPDATE server_history SET epoch = lower(hex(randomblob(16))) WHERE id = 1")
                }
            }
            try copy.close()
            try source.close()
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(at: partial, to: destination)
        } catch {
            throw Failure.io("cannot restore \(backup) to \(path): \(DatabaseProblem.describe(error))")
        }
        return check
    }

    /// Deletes the oldest `locality-sync-*.sqlite` backups in `directory` beyond the newest `keep`.
    public static func prune(_ directory: String, keep: Int) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasPrefix("locality-sync-") && $0.hasSuffix(".sqlite") }.sorted()
        let doomed = names.dropLast(max(keep, 1))
        for name in doomed { try FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name)) }
        return Array(doomed)
    }

    /// `locality-sync-20261130T071500Z.sqlite`: sorts by time.
    public static func fileName(at date: Date) -> String {
        let text = Timestamps.format(date).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        return "locality-sync-\(text.prefix(15))Z.sqlite"
    }

    static func describe(_ check: DatabaseCheck) -> String {
        var parts: [String] = []
        if check.integrity != ["ok"] { parts.append("integrity: " + check.integrity.prefix(3).joined(separator: "; ")) }
        if !check.foreignKeyViolations.isEmpty { parts.append("foreign keys: " + check.foreignKeyViolations.prefix(3).joined(separator: "; ")) }
        if !check.ledgerProblems.isEmpty { parts.append("ledger: " + check.ledgerProblems.prefix(3).joined(separator: "; ")) }
        if !check.resultProblems.isEmpty { parts.append("kept answers: " + check.resultProblems.prefix(3).joined(separator: "; ")) }
        if let broken = check.audit.firstBroken { parts.append("audit trail broken at entry \(broken.sequence): \(broken.problem)") }
        return parts.joined(separator: "; ")
    }

    private static var readOnly: Configuration {
        var configuration = Configuration()
        configuration.readonly = true
        return configuration
    }
}

/// An advisory lock a serving process holds on its database (`DB.lock`), so that a second
/// `serve` or a `restore` can tell the database is in use. The kernel releases it when the
/// process ends, however it ends.
public final class DatabaseLock: @unchecked Sendable {
    private let descriptor: Int32
    public let path: String

    /// Takes the lock, or returns nil when another process holds it.
    public static func acquire(for databasePath: String) throws -> DatabaseLock? {
        let path = databasePath + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT, 0o600)
        guard descriptor >= 0 else { throw Backup.Failure.io("cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        return DatabaseLock(descriptor: descriptor, path: path)
    }

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
