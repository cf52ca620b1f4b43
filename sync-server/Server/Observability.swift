import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import LocalityCore
import Logging
import Prometheus
import Synchronization

/// What the server counts, for Prometheus (`GET /metrics`): requests by route and status with
/// their latency, pushed mutations by name and result, pull rows and bytes, login failures,
/// devices seen, and — read from the database when scraped — its size, the audit trail and the
/// last backup. One registry per server, so tests can read what their own server counted.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    public let version: String
    private let seen = Mutex<[UUID: Date]>([:])
    private let lastBackup = Mutex<Date?>(nil)
    private let auditCache = Mutex<(at: Date, intact: Bool, entries: Int)?>(nil)
    private static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    public init(version: String = LocalitySyncVersion.current) {
        self.version = version
        registry.makeGauge(descriptor: Self.name("build", "info", "The running build: always 1, its version as a label"), labels: [("version", version)])
            .set(to: 1.0)
    }

    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "locality", metricName: metric, unitName: unit, helpText: help)
    }

    func request(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: Self.name("http_requests", "total", "HTTP requests by route, method and status"),
            labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.name("http_request_duration", "seconds", "How long requests took, by route"), labels: [("route", route)],
            buckets: Self.latencyBuckets
        ).record(duration)
    }

    func mutations(_ name: String, result: String, count: Int) {
        registry.makeCounter(
            descriptor: Self.name("push_mutations", "total", "Pushed mutations by name and result (accepted, or the rejection code)"),
            labels: [("mutation", name), ("result", result)]
        ).increment(by: Int64(count))
    }

    func pulled(rows: Int, bytes: Int) {
        registry.makeCounter(descriptor: Self.name("pull_rows", "total", "Rows sent to devices by pulls"), labels: []).increment(by: Int64(rows))
        registry.makeCounter(descriptor: Self.name("pull_bytes", "total", "Bytes of pull responses, as sent"), labels: []).increment(by: Int64(bytes))
    }

    func loginFailed() {
        registry.makeCounter(descriptor: Self.name("login_failures", "total", "Failed logins and activations"), labels: []).increment()
    }

    func saw(device: UUID, at now: Date) {
        seen.withLock { table in
            table[device] = now
            if table.count > 200_000 { table = table.filter { now.timeIntervalSince($0.value) < 86_400 } }
        }
    }

    /// A scheduled backup that was checked and kept.
    public func backedUp(at date: Date) { lastBackup.withLock { $0 = date } }

    /// The text Prometheus scrapes, with the gauges read now.
    func exposition(store: some SyncStore, now: Date) async -> String {
        let devices = seen.withLock { table in
            (table.values.filter { now.timeIntervalSince($0) <= 300 }.count, table.values.filter { now.timeIntervalSince($0) <= 86_400 }.count)
        }
        gauge("devices_seen_5m", "devices", "Devices that made an authenticated request in the last 5 minutes").set(to: Double(devices.0))
        gauge("devices_seen_24h", "devices", "Devices that made an authenticated request in the last 24 hours").set(to: Double(devices.1))
        if let backup = lastBackup.withLock({ $0 }) {
            gauge("backup_last_success", "timestamp_seconds", "When the last scheduled backup was checked and kept")
                .set(to: backup.timeIntervalSince1970)
        }
        if let figures = try? await store.figures() {
            gauge("database_size", "bytes", "The database file").set(to: Double(figures.databaseBytes))
            gauge("database_wal_size", "bytes", "The database's write-ahead log").set(to: Double(figures.walBytes))
            gauge("change_sequence", "", "The change sequence devices pull by").set(to: Double(figures.changeSequence))
            // The chain is verified at most every ten minutes: it reads every entry.
            let cached = auditCache.withLock { $0 }
            var audit = cached.flatMap { now.timeIntervalSince($0.at) < 600 ? ($0.intact, $0.entries) : nil }
            if audit == nil, let verified = try? await store.verifyAudit() {
                audit = (verified.intact, verified.entries)
                auditCache.withLock { $0 = (now, verified.intact, verified.entries) }
            }
            gauge("audit_entries", "", "Entries in the audit trail").set(to: Double(audit?.1 ?? figures.auditEntries))
            if let audit { gauge("audit_chain_intact", "", "1 when the audit trail's hash chain verifies, else 0").set(to: audit.0 ? 1.0 : 0.0) }
        }
        return registry.emitToString()
    }

    private func gauge(_ metric: String, _ unit: String, _ help: String) -> Gauge {
        registry.makeGauge(descriptor: Self.name(metric, unit, help), labels: [])
    }
}

/// This build's version, for `locality_build_info` and `--version`.
public enum LocalitySyncVersion {
    public static let current = "0.13.0"
}

/// Figures a store reports for monitoring.
public struct StoreFigures: Sendable {
    public var databaseBytes: Int64
    public var walBytes: Int64
    public var changeSequence: Int64
    public var auditEntries: Int
}

extension SQLiteSyncStore {
    public func figures() async throws -> StoreFigures? {
        let path = database.path
        let sizes = [path, path + "-wal"].map { ((try? FileManager.default.attributesOfItem(atPath: $0))?[.size] as? Int64) ?? 0 }
        return try await database.read { db in
            StoreFigures(
                databaseBytes: sizes[0], walBytes: sizes[1],
                changeSequence: try Int64.fetchOne(db, sql: "SELECT value FROM change_counter WHERE id = 1") ?? 0,
                auditEntries: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_entry") ?? 0)
        }
    }

    public func verifyAudit() async throws -> Audit.Verification? {
        try await database.read { try Audit.verify($0) }
    }

    /// Ready to serve: the database takes a write, the schema is this build's, a council is set up.
    public func readiness() async throws -> [String] {
        var problems: [String] = []
        do {
            try await database.write { db in
                try db.execute(sql: "SAVEPOINT ready")
                try db.execute(sql: "UPDATE change_counter SET value = value WHERE id = 1")
                try db.execute(sql: "ROLLBACK TO SAVEPOINT ready")
                try db.execute(sql: "RELEASE SAVEPOINT ready")
            }
        } catch {
            problems.append("the database does not take writes: \(DatabaseProblem.describe(error))")
        }
        let current = try await database.read { try ServerSchema.migrator.hasCompletedMigrations($0) }
        if !current { problems.append("the database's migrations are not all applied") }
        if try await database.read({ try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM locality") ?? 0 }) == 0 {
            problems.append("no council is set up yet: run `locality-sync council init`, then `localities import` (or serve --demo)")
        }
        return problems
    }
}

/// A request id on every request — the caller's `X-Request-Id` when it sends a sensible one, else
/// made here — in the logger's metadata, on the response, and in error bodies.
struct RequestIdMiddleware<Context: RequestContext>: RouterMiddleware {
    static var header: HTTPField.Name { HTTPField.Name("X-Request-Id")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let given = request.headers[Self.header].flatMap { value in
            value.count <= 128 && !value.isEmpty && value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:".contains($0)) })
                ? value : nil
        }
        let id = given ?? UUID().uuidString.lowercased()
        context.logger[metadataKey: "request.id"] = .string(id)
        do {
            var response = try await RequestIdLocal.$current.withValue(id) { try await next(request, context) }
            response.headers[Self.header] = id
            return response
        } catch let error as APIError {
            var error = error
            error.requestId = id
            throw error
        }
    }
}

enum RequestIdLocal {
    @TaskLocal static var current: String?
}

/// Counts each request by its route (the pattern, never the concrete path) and status.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.request(
                route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: response.status.code,
                duration: ContinuousClock.now - started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.request(
                route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status,
                duration: ContinuousClock.now - started)
            throw error
        }
    }
}

/// Log lines as JSON objects, one per line: for log shippers. Secrets never reach a log line in
/// the first place (nothing logs a password, token, activation code or voter code).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: JSONValue] = [
            "time": .string(Timestamps.format(Date())), "level": .string(event.level.rawValue), "message": .string("\(event.message)"),
            "logger": .string(label),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = .string("\(value)")
        }
        write(JSONValue.object(object).jsonText)
    }
}
