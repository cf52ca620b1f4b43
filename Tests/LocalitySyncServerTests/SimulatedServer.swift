import Foundation
import GRDB
import LocalityCore
@testable import LocalitySyncServer
import Synchronization

// The simulations' server and network: a store that restarts and is restored from backups, and
// a transport that loses, duplicates and delays what passes through it as a seed decides.

/// The simulations start thousands of servers and device replicas. Each starts as a copy (SQLite's
/// backup) of one made once per test process — migrated, and for the server with the demo council
/// loaded — instead of running every migration again: a fifth of a seed's time went on those.
enum SimulationTemplates {
    static let server = Result { () throws -> any DatabaseWriter in
        let store = try SQLiteSyncStore.inMemory()
        _ = try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        return store.database
    }
    private static let replica = Result { () throws -> DatabaseQueue in
        let template = try DatabaseQueue()
        _ = try Replica(database: template)
        return template
    }

    /// A fresh device replica in memory, as `Replica.inMemory` makes one.
    static func replica(environment: ReplicaEnvironment) throws -> Replica {
        let queue = try DatabaseQueue()
        try replica.get().backup(to: queue)
        return try Replica(database: queue, environment: environment)
    }
}

extension Replica {
    /// The device's needs and proposals as records, in the order its lists show them: the
    /// simulations pick from these, and never read what a view adds (each view costs lookups).
    func needRecords() throws -> [Need] {
        try read { db in try Need.fetchAll(db, sql: "SELECT * FROM need ORDER BY recorded_at DESC, id DESC") }
    }

    func proposalRecords() throws -> [Proposal] {
        try read { db in try Proposal.fetchAll(db, sql: "SELECT * FROM proposal ORDER BY created_at DESC, id DESC") }
    }
}

/// The server as the devices see it: restartable (a new store over the same file).
final class ServerBox: Sendable {
    let path: String
    private let current: Mutex<SQLiteSyncStore>

    /// A new server with the demo council, at `path`: a copy of `SimulationTemplates.server`.
    init(path: String) throws {
        self.path = path
        let file = try DatabaseQueue(path: path)
        try SimulationTemplates.server.get().backup(to: file)
        try file.close()
        current = Mutex(try Self.open(path))
    }

    var store: SQLiteSyncStore { current.withLock { $0 } }

    func restart() throws {
        let reopened = try Self.open(path)
        current.withLock { $0 = reopened }
    }

    /// A store over the file. A push batch that would leave a gap waits 20 ms (not the server's
    /// 250) for the batch before it: here, one that is coming has come within microseconds.
    static func open(_ path: String) throws -> SQLiteSyncStore {
        var store = try SQLiteSyncStore.open(at: path)
        store.turns = PushTurns(grace: .milliseconds(20))
        return store
    }

    /// A checked copy of the database as it is now, to restore later.
    func snapshot(to snapshot: String) throws {
        _ = try Backup.copy(store.database, to: snapshot)
    }

    /// The server restored from an earlier snapshot: whatever happened since is gone from it.
    func restore(_ snapshot: String) throws {
        try current.withLock { store in
            try store.database.close()
            _ = try Backup.restore(from: snapshot, to: path)
            store = try Self.open(path)
        }
    }
}

/// A transport that loses requests, loses responses and duplicates pushes, as the seed decides.
///
/// A device sends push batches two at a time, so the order of its requests is the scheduler's:
/// each request's fate comes from the seed and the request itself (its first sequence number or
/// cursor, and how many times it was sent before), never from the order requests were made.
final class FaultyTransport: SyncTransport, Sendable {
    let server: ServerBox
    let token: String
    private let seed: UInt64
    private let sent: Mutex<[Int64: Int]>
    private let faults: Mutex<Bool>

    init(server: ServerBox, token: String, seed: UInt64) {
        self.server = server
        self.token = token
        self.seed = seed
        sent = Mutex([:])
        faults = Mutex(true)
    }

    func setFaults(_ on: Bool) { faults.withLock { $0 = on } }

    /// The dice for a request: `key` says which (a push's first sequence number, or a pull's cursor
    /// made negative), and each sending of it rolls afresh.
    private func roll(_ key: Int64) -> Double {
        guard faults.withLock({ $0 }) else { return 0.5 }  // no fault branch fires
        let attempt = sent.withLock { sent in
            sent[key, default: 0] += 1
            return sent[key]!
        }
        var mix = SeededGenerator(seed: seed)
        var keyed = SeededGenerator(seed: mix.next() ^ UInt64(bitPattern: key))
        var dice = SeededGenerator(seed: keyed.next() ^ UInt64(attempt))
        return Double(dice.next() % 10_000) / 10_000
    }

    private func session() async throws -> Session {
        guard let session = try await server.store.authenticate(token: token, now: Date()) else {
            throw SimulationFailure(description: "token rejected")
        }
        return session
    }

    func push(_ request: PushRequest) async throws -> PushResponse {
        let dice = roll(request.mutations.first?.sequence ?? 0)
        if dice < 0.10 { throw URLError(.networkConnectionLost) }  // the request never arrives
        var response = try await server.store.push(request, from: try await session(), now: Date())
        if dice < 0.15 { response = try await server.store.push(request, from: try await session(), now: Date()) }  // duplicated
        if dice > 0.90 { throw URLError(.timedOut) }  // the answer never comes back
        return response
    }

    func pull(cursor: Int64, limit: Int) async throws -> PullResponse {
        var page = try await server.store.pull(after: cursor, limit: limit, for: try await session())
        if roll(-1 - cursor) > 0.92 { throw URLError(.timedOut) }
        if cursor % 2 == 0 {
            // Half the pages in columns, through the wire as the terminal client receives them.
            page = try JSONCoding.decode(PullResponse.self, from: JSONCoding.encode(page.inColumns()))
        }
        return page
    }
}

/// How many mutations a simulated device sends in one push: a few, so that a sync often has
/// several batches, two in flight at once, for the faults to fall between.
func pushBatch(_ seed: UInt64) -> Int { Int(seed % 5) + 1 }
