import Foundation
import GRDB
import Synchronization

/// Time and identity for a replica, passed in so tests and simulations are deterministic.
public struct ReplicaEnvironment: Sendable {
    public var now: @Sendable () -> Date
    public var newID: @Sendable (Date) -> UUID

    public init(now: @escaping @Sendable () -> Date, newID: @escaping @Sendable (Date) -> UUID) {
        self.now = now
        self.newID = newID
    }

    /// The system clock and time-ordered random UUIDs.
    public static let live: ReplicaEnvironment = {
        // Seeded once from the system's entropy; a system call per id costs more than the rest of making it.
        var system = SystemRandomNumberGenerator()
        let generator = Mutex(Xoshiro256(seededFrom: &system))
        return ReplicaEnvironment(
            now: { Date() },
            newID: { date in generator.withLock { UUID.v7(at: date, using: &$0) } })
    }()
}

/// How hard SQLite works to keep a committed change through a power cut.
public enum Durability: String, Sendable, CaseIterable {
    /// WAL with `synchronous=NORMAL`: a commit survives the process crashing; a power cut may lose
    /// the last few commits but never corrupts the file or splits a change from its outbox entry.
    case normal
    /// WAL with `synchronous=FULL`: every commit is on disk before it returns, so a change a
    /// person was told is recorded survives a flat battery too. The default.
    case full
}

/// A device's offline replica: one SQLite file holding what its user may see, and the outbox of
/// changes waiting to be synced.
///
/// Every change goes through `perform`, which validates it with the same rules the server runs,
/// applies it and appends it to the outbox in one transaction.
public struct Replica: Sendable {
    public let database: any DatabaseWriter
    public let environment: ReplicaEnvironment

    public init(database: any DatabaseWriter, environment: ReplicaEnvironment = .live) throws {
        self.database = database
        self.environment = environment
        try Schema.replicaMigrator.migrate(database)
        try database.writeWithoutTransaction { db in try UndoLog.install(db) }
    }

    /// Opens (creating and migrating if need be) the replica file at `path`.
    public static func open(
        at path: String, durability: Durability = .full, environment: ReplicaEnvironment = .live
    ) throws -> Replica {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        let synchronous = durability == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            // 16 MB of page cache, and a checkpoint every ~16 MB of WAL rather than every 4 MB:
            // each commit rewrites the same right-most leaf pages, which a checkpoint then copies
            // once instead of four times.
            try db.execute(sql: "PRAGMA cache_size = -16000")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 4000")
        }
        let pool = try DatabasePool.durable(path: path, configuration: configuration, synchronous: synchronous)
        return try Replica(database: pool, environment: environment)
    }

    /// A replica in memory, for tests.
    public static func inMemory(environment: ReplicaEnvironment = .live) throws -> Replica {
        try Replica(database: try DatabaseQueue(), environment: environment)
    }

    public func newID() -> UUID { environment.newID(environment.now()) }

    /// Whether this replica has been initialised (has an acting user).
    public func isInitialised() throws -> Bool {
        try database.read { db in try ReplicaState.fetchOne(db, sql: "SELECT * FROM replica WHERE id = 1") != nil }
    }

    /// Loads the demo council and makes `username` this device's acting user.
    @discardableResult
    public func initialiseDemo(as username: String) throws -> Actor {
        try database.write { db in
            guard try ReplicaState.fetchOne(db, sql: "SELECT * FROM replica WHERE id = 1") == nil else {
                throw LocalityError(.replicaState, "this home already holds a replica")
            }
            try DemoCouncil.load(into: db)
            guard let person = try Person.fetchOne(db, sql: "SELECT * FROM person WHERE username = ?", arguments: [username])
            else {
                throw LocalityError.notFound(
                    "there is no demo account '\(username)'; the demo accounts are: \(DemoCouncil.usernames.joined(separator: ", "))"
                )
            }
            let now = Timestamps.truncated(environment.now())
            try ReplicaState(
                deviceId: environment.newID(now), personId: person.id, origin: "demo", lastSequence: 0, lastHlc: nil,
                createdAt: now
            ).insert(db)
            return try Actor.load(db, personId: person.id)
        }
    }

    /// Validates `command` against the replica and the acting user, applies it and queues it in
    /// the outbox — all in one transaction, so a failure anywhere leaves no trace.
    @discardableResult
    public func perform(_ command: some MutationCommand) throws -> MutationReceipt {
        try database.write { db in try perform(command, db) }
    }

    private func perform<Command: MutationCommand>(_ command: Command, _ db: Database) throws -> MutationReceipt {
        let command = try command.prepared(db)
        // No control characters in anyone's text: refused here as the server refuses them.
        let json = try JSONValueEncoder().encode(command)
        try TerminalText.check(json, mutation: Command.name.rawValue)
        let state = try ReplicaState.load(db)
        let counters = try ReplicaState.counters(state, db)
        let actor = try Actor.load(db, personId: state.personId)
        let now = Timestamps.truncated(environment.now())
        let wall = Timestamps.milliseconds(now)
        let hlc = HLCTimestamp.next(after: ClockBounds.continuing(from: counters.hlc, wallMillis: wall), wallMillis: wall, node: state.deviceId.key)
        let sequence = counters.sequence + 1
        // Capture before-images while applying, so a later pull can rebase this change.
        try UndoLog.capture(sequence, db)
        try command.apply(MutationContext(actor: actor, at: now, hlc: hlc), db)
        try UndoLog.capture(nil, db)
        let receipt = MutationReceipt(
            id: environment.newID(now), sequence: sequence, name: Command.name, hlc: hlc, createdAt: now)
        // The arguments go to the outbox as JSON text, encoded once: this is every change's hot path.
        let arguments = String(decoding: JSONWriter.write(json), as: UTF8.self)
        try OutboxEntry.insert(receipt, arguments: arguments, deviceId: state.deviceId, actorId: actor.person.id, db)
        return receipt
    }

    /// The acting user of this replica.
    public func actor() throws -> Actor {
        try database.read { db in try Actor.acting(in: db) }
    }

    /// Mutations not yet answered by a server, oldest first.
    public func outbox() throws -> [Mutation] {
        try database.read { db in try OutboxEntry.pending(db).map(\.mutation) }
    }

    /// Reads anything, in a consistent snapshot.
    public func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        try database.read(body)
    }
}

extension DatabasePool {
    /// A pool whose writer commits at the `synchronous` level asked for. GRDB sets its writer to
    /// `synchronous=NORMAL` when it turns WAL on, after `prepareDatabase` has run, so a level set
    /// there holds only for the readers (where it does nothing): it is set again on the writer here.
    public static func durable(path: String, configuration: Configuration, synchronous: String) throws -> DatabasePool {
        precondition(["FULL", "NORMAL", "EXTRA"].contains(synchronous), "a synchronous level SQLite knows")
        let pool = try DatabasePool(path: path, configuration: configuration)
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
        return pool
    }
}
