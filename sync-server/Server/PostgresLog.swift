import Foundation
import Logging
import LocalityCore
import NIOCore
import PostgresNIO

/// Where a PostgreSQL database is: parsed from `postgres://user[:password]@host[:port]/database`.
public struct PostgresLocation: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String

    public init(url text: String) throws {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty, let username = components.user, !username.isEmpty
        else {
            throw LocalityError.invalidInput("'\(TerminalText.safe(String(text.prefix(200))))' is not a PostgreSQL URL: they look like postgres://user:password@host:5432/database")
        }
        self.host = host
        port = components.port ?? 5432
        self.username = username.removingPercentEncoding ?? username
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? username : path
    }

    /// The URL without its password, for logs and messages.
    public var redacted: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    var configuration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable)
        configuration.options.maximumConnections = 8
        return configuration
    }
}

/// The council's history in PostgreSQL: an append-only, totally ordered, hash-chained log of every
/// operation that changed the council's state (pushes with their results, logins, logouts, the
/// demo's load), each with every input its application reads besides the state itself — the
/// time, the token's hash — so that replaying the log reproduces the state exactly. One writer at
/// a time, by a transaction-scoped advisory lock; nothing else is kept here.
public final class PostgresLog: Sendable {
    public let location: PostgresLocation
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    /// The advisory lock every writer takes: one council per database.
    static let writeLock: Int64 = 0x4C6F_6361_6C69_7479  // "Locality"

    public struct Entry: Sendable {
        public var sequence: Int64
        public var kind: String
        public var body: String
        public var result: String
        public var hash: String
    }

    public init(_ location: PostgresLocation, logger: Logger = Logger(label: "locality.postgres"), timeout: Duration = .seconds(15)) async throws {
        self.location = location
        self.logger = logger
        // The pool's own retries and start-up are not news: only its errors are logged (failures are thrown).
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: location.configuration, backgroundLogger: quiet)
        self.client = client
        runner = Task { await client.run() }
        do {
            let setupLogger = quiet
            try await Self.within(timeout, what: "reach PostgreSQL") { try await Self.prepare(client, logger: setupLogger) }
        } catch let error as LocalityError {
            runner.cancel()
            throw LocalityError.invalidInput("cannot use the PostgreSQL database at \(location.redacted): \(error.message)")
        } catch {
            runner.cancel()
            throw LocalityError.invalidInput("cannot use the PostgreSQL database at \(location.redacted): \(Self.describe(error))")
        }
    }

    /// Runs `body`, or fails once `limit` has passed.
    static func within<T: Sendable>(_ limit: Duration, what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw LocalityError(.unavailable, "could not \(what) within \(limit.components.seconds) s")
            }
            return value
        }
    }

    /// The tables, made if missing (under the write lock, so two processes starting at once agree).
    static func prepare(_ client: PostgresClient, logger: Logger) async throws {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.writeLock))", logger: logger)
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS locality_meta (
                        id integer PRIMARY KEY CHECK (id = 1),
                        epoch text NOT NULL,
                        created_at timestamptz NOT NULL DEFAULT now())
                    """, logger: logger)
                try await connection.query(
                    "INSERT INTO locality_meta (id, epoch) VALUES (1, md5(random()::text || clock_timestamp()::text)) ON CONFLICT (id) DO NOTHING",
                    logger: logger)
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS locality_log (
                        sequence bigint PRIMARY KEY CHECK (sequence > 0),
                        kind text NOT NULL,
                        body text NOT NULL,
                        result text NOT NULL,
                        recorded_at timestamptz NOT NULL DEFAULT now(),
                        previous_hash text,
                        hash text NOT NULL)
                    """, logger: logger)
                try await prepareSnapshots(connection, logger: logger)
            }
    }

    deinit { runner.cancel() }

    /// A database error as a person can read it (PSQLError hides its message from `description`).
    public static func describe(_ error: any Error) -> String {
        let error = underlying(error)
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)"
        }
        return DatabaseProblem.describe(error)
    }

    /// What went wrong inside a transaction, out of PostgresNIO's wrapper (which says only that
    /// the transaction failed): the closure's own error, else the commit's, else the begin's.
    public static func underlying(_ error: any Error) -> any Error {
        guard let wrapped = error as? PostgresTransactionError else { return error }
        return wrapped.closureError ?? wrapped.commitError ?? wrapped.beginError ?? error
    }

    /// Whether PostgreSQL refused for want of disk space (SQLSTATE 53100, `disk_full`): the
    /// statement failed and its transaction was rolled back, so nothing of it is kept.
    public static func isDiskFull(_ error: any Error) -> Bool {
        (underlying(error) as? PSQLError)?.serverInfo?[.sqlState] == "53100"
    }

    /// The database's history id: the same for every process that serves it.
    public func epoch() async throws -> String {
        let rows = try await client.query("SELECT epoch FROM locality_meta WHERE id = 1", logger: logger)
        for try await epoch in rows.decode(String.self) { return epoch }
        throw LocalityError.invalidInput("the PostgreSQL database has no locality_meta row")
    }

    /// The last sequence number appended (0 for an empty log).
    public func head() async throws -> Int64 {
        let rows = try await client.query("SELECT COALESCE(max(sequence), 0)::bigint FROM locality_log", logger: logger)
        for try await head in rows.decode(Int64.self) { return head }
        return 0
    }

    /// Entries after `sequence`, in order, at most `limit` of them.
    public func entries(after sequence: Int64, limit: Int = 1_000, on connection: PostgresConnection? = nil) async throws -> [Entry] {
        let query: PostgresQuery = """
            SELECT sequence, kind, body, result, hash FROM locality_log WHERE sequence > \(sequence) ORDER BY sequence LIMIT \(limit)
            """
        let rows: PostgresRowSequence
        if let connection {
            rows = try await connection.query(query, logger: logger)
        } else {
            rows = try await client.query(query, logger: logger)
        }
        var entries: [Entry] = []
        for try await (sequence, kind, body, result, hash) in rows.decode((Int64, String, String, String, String).self) {
            entries.append(Entry(sequence: sequence, kind: kind, body: body, result: result, hash: hash))
        }
        return entries
    }

    /// Runs `body` holding the council's write lock, in one PostgreSQL transaction: whatever it
    /// appends commits with it, or not at all. If this process goes quiet inside the transaction for
    /// `idleLimit` (cut off from the database by the network, or stalled), PostgreSQL ends its
    /// session and so releases the lock: the other processes carry on, and nothing of this
    /// transaction commits.
    public func withWriteLock<T: Sendable>(idleLimit: Duration = .seconds(10), _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let milliseconds = max(Int(idleLimit.components.seconds * 1_000 + idleLimit.components.attoseconds / 1_000_000_000_000_000), 1)
        return try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                "SELECT set_config('idle_in_transaction_session_timeout', \(String(milliseconds)), true), pg_advisory_xact_lock(\(Self.writeLock))",
                logger: logger)
            return try await body(connection)
        }
    }

    /// Runs `body` in one PostgreSQL transaction, without the write lock.
    func withTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withTransaction(logger: logger) { connection in try await body(connection) }
    }

    /// Appends the next entry, chained to the one before by SHA-256. The caller holds the write lock.
    public func append(
        sequence: Int64, kind: String, body: String, result: String, previousHash: String?, on connection: PostgresConnection
    ) async throws -> String {
        let hash = Self.digest(sequence: sequence, kind: kind, body: body, result: result, previous: previousHash)
        try await connection.query(
            """
            INSERT INTO locality_log (sequence, kind, body, result, previous_hash, hash)
            VALUES (\(sequence), \(kind), \(body), \(result), \(previousHash), \(hash))
            """, logger: logger)
        return hash
    }

    static func digest(sequence: Int64, kind: String, body: String, result: String, previous: String?) -> String {
        let text = [previous ?? "-", String(sequence), kind, body, result].joined(separator: "\u{1F}")
        return SHA256Hex.of(text)
    }

    /// Walks the whole log, recomputing every hash and checking the sequence has no gap.
    public func verify() async throws -> Audit.Verification {
        var count = 0
        var previous: String?
        var expected: Int64 = 1
        let rows = try await client.query(
            "SELECT sequence, kind, body, result, previous_hash, hash FROM locality_log ORDER BY sequence", logger: logger)
        for try await (sequence, kind, body, result, stored, hash) in rows.decode((Int64, String, String, String, String?, String).self) {
            count += 1
            func broken(_ problem: String) -> Audit.Verification {
                Audit.Verification(
                    entries: count, unsealed: 0,
                    firstBroken: .init(sequence: sequence, action: kind, recordId: String(sequence), problem: problem))
            }
            guard sequence == expected else { return broken("entry \(expected) is missing") }
            guard stored == previous else { return broken("it does not name the entry before it") }
            guard Self.digest(sequence: sequence, kind: kind, body: body, result: result, previous: previous) == hash else {
                return broken("its content does not match its hash")
            }
            previous = hash
            expected += 1
        }
        return Audit.Verification(entries: count, unsealed: 0, firstBroken: nil)
    }

    public func shutdown() { runner.cancel() }

    /// Ends every other connection to this database, as a PostgreSQL restart does to its clients
    /// (for fault tests; needs a superuser or the connections' own role).
    public func disconnectEveryone() async throws {
        try await client.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            logger: logger)
    }

    /// Makes an empty database beside `base` (for tests and first installs); returns where it is.
    public static func createDatabase(_ name: String, beside base: PostgresLocation, logger: Logger = Logger(label: "locality.postgres"))
        async throws -> PostgresLocation
    {
        guard name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }), !name.isEmpty else {
            throw LocalityError.invalidInput("a database name here is lowercase letters, digits and underscores")
        }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: base.configuration, backgroundLogger: quiet)
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: quiet)
        var location = base
        location.database = name
        return location
    }
}
