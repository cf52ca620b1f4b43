import Foundation
import GRDB
import LocalityCore

/// What a login wrote: the device bound to the account (the token itself is not kept).
public struct BoundDevice: Codable, Sendable, Hashable {
    public var deviceId: UUID
    public var personId: UUID
    public var username: String
    public var lastAppliedSequence: Int64

    func map(token: String) -> LoginOutcome {
        .success(LoginResponse(token: token, deviceId: deviceId, personId: personId, username: username, lastAppliedSequence: lastAppliedSequence))
    }
}

/// The default store: one SQLite file, nothing to install.
public struct SQLiteSyncStore: SyncStore {
    public let database: any DatabaseWriter
    /// The most work a vote's count may take before `vote.close` is refused (`count_limit`).
    public var countLimit = CountLimit.standard
    /// A retried mutation (a sequence already applied) is answered with its stored result. Only a
    /// test that shows what goes wrong without it turns this off.
    var answersRetriesFromStoredResults = true
    /// A narrow scope's long pull reads its partitions of the feed (`FeedReader`). Only a test that
    /// compares the two ways of reading turns this off.
    var readsFeedPartitions = true
    /// Orders each device's concurrent push batches (see `PushTurns`). A simulation sets a shorter
    /// grace; a store materialised from the PostgreSQL log has none (the log's order is the order).
    var turns = PushTurns()

    public init(database: any DatabaseWriter) throws {
        self.database = database
        let migrator = ServerSchema.migrator
        // Migrations only go forward: a database a newer build has migrated is not this build's to serve.
        let known = Set(migrator.migrations)
        let unknown = try database.read { db in
            try db.tableExists("grdb_migrations")
                ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations").filter { !known.contains($0) } : []
        }
        if !unknown.isEmpty {
            throw LocalityError.invalidInput(
                "this database was migrated by a newer locality-sync (it has \(unknown.sorted().joined(separator: ", ")), which this build "
                    + "does not know); run that build, or restore a backup taken before the upgrade")
        }
        try migrator.migrate(database)
        // Entries written by a migration (the ledger as it stood) are sealed before anything else.
        try database.write { try Audit.seal($0) }
    }

    /// Opens (creating and migrating if need be) the store at `path`: WAL, `synchronous=FULL`,
    /// because an accepted push must survive a power cut.
    public static func open(at path: String) throws -> SQLiteSyncStore {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA cache_size = -64000")
            // A push runs each mutation in a savepoint inside the batch's transaction; SQLite keeps
            // the pages a savepoint would restore in a sub-journal, by default a temporary file
            // once past 64 KB: some twenty 4 KB writes a mutation. In memory they cost no syscall.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // A full push batch writes over a thousand pages: at SQLite's default (a checkpoint past
            // 1,000 pages of WAL) every batch's commit also copied the WAL into the database, with
            // two more flushes. Past 8,000 pages (32 MB) the right-most pages every batch rewrites
            // are copied once for many batches.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 8000")
        }
        return try SQLiteSyncStore(database: try DatabasePool.durable(path: path, configuration: configuration, synchronous: "FULL"))
    }

    public static func inMemory() throws -> SQLiteSyncStore {
        try SQLiteSyncStore(database: try DatabaseQueue())
    }

    /// Loads the demo council, with an account for each demo user, unless it is already there.
    /// Returns whether it loaded anything.
    @discardableResult
    public func loadDemoIfEmpty(passwordHash: String) throws -> Bool {
        try database.write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM person") == 0 else { return false }
            try DemoCouncil.load(into: db)
            for username in DemoCouncil.usernames {
                try db.execute(
                    sql: "INSERT INTO account (person_id, password_hash) VALUES (?, ?)",
                    arguments: [DemoCouncil.personID(username).key, passwordHash])
            }
            try Audit.seal(db)
            return true
        }
    }

    /// Whether the demo council is here with its demo password still working (checked on the
    /// officer's account), so that `serve --demo` never announces a password that is not in use.
    public func demoPasswordStillWorks() throws -> Bool {
        let hash = try database.read { db in
            try String.fetchOne(
                db, sql: "SELECT password_hash FROM account WHERE person_id = ? AND disabled_at IS NULL",
                arguments: [DemoCouncil.personID("officer").key])
        }
        guard let hash else { return false }
        return Passwords.verify(DemoCouncil.password, hash: hash)
    }

    public static func hash(token: String) -> String { SHA256Hex.of(token) }

    public func login(_ request: LoginRequest, token: String, now: Date) async throws -> LoginOutcome {
        switch try checkPassword(request, now: now) {
        case .unknown: return .failure(failures: 0)
        case .wrong(let personId, let failures): return try await recordFailedLogin(personId, failures: failures, now: now)
        case .right(let personId, let username):
            return try await bindDevice(
                request.deviceId, name: request.deviceName, personId: personId, username: username, tokenHash: Self.hash(token: token), now: now
            ).map(token: token)
        }
    }

    public enum PasswordCheck: Sendable {
        case unknown
        case wrong(personId: UUID, failures: Int)
        case right(personId: UUID, username: String)
    }

    /// The password against the account's (bcrypt, slow on purpose: outside any transaction).
    /// A disabled account, or one waiting for activation, has no password that verifies.
    public func checkPassword(_ request: LoginRequest, now: Date) throws -> PasswordCheck {
        let account = try database.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT person.id, person.username, account.password_hash, account.disabled_at, account.failed_logins
                    FROM person JOIN account ON account.person_id = person.id WHERE person.username = ? COLLATE NOCASE
                    """, arguments: [request.username])
        }
        guard let account, let personId = UUID(key: account["id"]) else { return .unknown }
        let disabled = (account["disabled_at"] as String?).flatMap(Timestamps.parse).map { $0 <= now } ?? false
        let storedHash: String = account["password_hash"]
        guard !disabled, !storedHash.isEmpty, Passwords.verify(request.password, hash: storedHash) else {
            return .wrong(personId: personId, failures: account["failed_logins"])
        }
        return .right(personId: personId, username: account["username"])
    }

    /// After a good password: binds the token (by its hash) to the device, registering the device
    /// if it is new. What a login writes, and all of it, so that it can be replayed.
    public func bindDevice(_ deviceId: UUID, name: String?, personId: UUID, username: String, tokenHash: String, now: Date) async throws
        -> BoundDevice
    {
        try await database.write { db in
            try db.execute(sql: "UPDATE account SET failed_logins = 0 WHERE person_id = ?", arguments: [personId.key])
            let existing = try Row.fetchOne(
                db, sql: "SELECT person_id, revoked_at, last_sequence FROM device WHERE id = ?", arguments: [deviceId.key])
            if let existing {
                guard (existing["person_id"] as String) == personId.key else {
                    throw LocalityError.forbidden("this device is registered to another account; start a new home to log in")
                }
                if let revoked = (existing["revoked_at"] as String?).flatMap(Timestamps.parse) {
                    throw LocalityError(
                        .deviceRevoked,
                        "this device was revoked by the server's operator on \(Timestamps.day(revoked)) and cannot log in again; "
                            + "log in from a new home")
                }
                try db.execute(
                    sql: "UPDATE device SET token_hash = ?, last_seen_at = ?, name = COALESCE(?, name) WHERE id = ?",
                    arguments: [tokenHash, Timestamps.format(now), name, deviceId.key])
            } else {
                try db.execute(
                    sql: "INSERT INTO device (id, person_id, name, token_hash, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [deviceId.key, personId.key, name, tokenHash, Timestamps.format(now), Timestamps.format(now)])
            }
            let last = try Int64.fetchOne(db, sql: "SELECT last_sequence FROM device WHERE id = ?", arguments: [deviceId.key]) ?? 0
            return BoundDevice(deviceId: deviceId, personId: personId, username: username, lastAppliedSequence: last)
        }
    }

    /// One more failed login (or activation) for the account: each slows the next.
    public func recordFailedLogin(_ personId: UUID, failures: Int, now: Date) async throws -> LoginOutcome {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE account SET failed_logins = failed_logins + 1, last_failed_at = ? WHERE person_id = ?",
                arguments: [Timestamps.format(now), personId.key])
        }
        return .failure(failures: failures + 1)
    }

    public func authenticate(token: String, now: Date) async throws -> Session? {
        let hash = Self.hash(token: token)
        return try await database.read { db in try Self.session(tokenHash: hash, now: now, db) }
    }

    /// Who a token acts for, in a read the caller holds: nil for an unknown token, a revoked device
    /// or a disabled account.
    static func session(tokenHash: String, now: Date, _ db: Database) throws -> Session? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT device.id, device.person_id, person.username FROM device
                        JOIN person ON person.id = device.person_id
                        JOIN account ON account.person_id = device.person_id
                        WHERE device.token_hash = ? AND device.revoked_at IS NULL
                            AND (account.disabled_at IS NULL OR account.disabled_at > ?)
                        """), arguments: [tokenHash, Timestamps.format(now)]),
            let deviceId = UUID(key: row["id"]), let personId = UUID(key: row["person_id"])
        else { return nil }
        return Session(deviceId: deviceId, personId: personId, username: row["username"])
    }

    public func refusal(token: String) async throws -> LocalityError? {
        try await database.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT device.revoked_at, account.disabled_at FROM device
                        JOIN account ON account.person_id = device.person_id WHERE device.token_hash = ?
                        """, arguments: [Self.hash(token: token)])
            else { return nil }
            if let revoked = (row["revoked_at"] as String?).flatMap(Timestamps.parse) {
                return LocalityError(
                    .deviceRevoked,
                    "this device was revoked by the server's operator on \(Timestamps.day(revoked)); it can no longer sync or log in again")
            }
            if let disabled = (row["disabled_at"] as String?).flatMap(Timestamps.parse), disabled <= Date() {
                return LocalityError(
                    .unauthenticated, "this account was disabled by the server's operator on \(Timestamps.day(disabled)); ask them to enable it")
            }
            return nil
        }
    }

    public func logout(_ session: Session) async throws {
        try await database.write { db in
            try db.execute(sql: "UPDATE device SET token_hash = NULL WHERE id = ?", arguments: [session.deviceId.key])
        }
    }

    public func push(_ request: PushRequest, from session: Session, now: Date) async throws -> PushResponse {
        guard request.deviceId == session.deviceId else {
            throw LocalityError.forbidden("a device may push only its own mutations; this token belongs to another device")
        }
        guard request.mutations.count <= SyncProtocol.maxPushBatch else {
            throw LocalityError(.tooLarge, "a push may carry at most \(SyncProtocol.maxPushBatch) mutations")
        }
        // One transaction for the batch, one savepoint per mutation: each mutation's effect is
        // committed together with the record of the device's last applied sequence number, so a
        // retry after any failure never applies anything twice, and a batch costs one commit
        // (one fsync) rather than one per mutation. A refused mutation rolls back its savepoint only.
        // Arguments are decoded before the write lock is taken, in parallel for a large batch: the
        // single writer spends its time applying, not parsing.
        // A device's batches reach the writer in order; the next one is decoded while one is applied.
        let mutations = request.mutations.sorted(by: { $0.sequence < $1.sequence })
        return try await turns.inTurn(device: session.deviceId, first: mutations.first?.sequence) {
            let commands = await Self.commands(for: mutations)
            return (commands, try await precount(commands))
        } _: { prepared in
            try await apply(mutations, prepared.0, prepared.1, request: request, from: session, now: now)
        }
    }

    /// Applies a batch in one transaction (its turn has come) and answers it, with the last sequence applied.
    private func apply(
        _ mutations: [Mutation], _ commands: [Result<any MutationCommand, LocalityError>], _ counts: VoteCounts,
        request: PushRequest, from session: Session, now: Date
    ) async throws -> (response: PushResponse, last: Int64) {
        // Savepoints cost a copy of every page a mutation touches. Most batches have no refusal,
        // so a batch is first applied without them; if one is refused, the batch's transaction is
        // rolled back whole (the refusal may have left part of that mutation written) and the
        // batch applied again, each mutation in its own savepoint.
        let (results, last): ([MutationResult], Int64)
        do {
            (results, last) = try await applyInTransaction(
                mutations, commands, counts, guarded: false, request: request, from: session, now: now)
        } catch is RefusedUnguarded {
            (results, last) = try await applyInTransaction(
                mutations, commands, counts, guarded: true, request: request, from: session, now: now)
        }
        if results.count < request.mutations.count, results.isEmpty {
            throw LocalityError(
                .sequenceGap, "the server has applied this device's mutations up to \(last); send from \(last + 1)")
        }
        return (PushResponse(results: results, lastAppliedSequence: last, epoch: try await epoch()), last)
    }

    /// A mutation was refused in a batch applied without savepoints: the batch goes again with them.
    private struct RefusedUnguarded: Error {}

    /// The batch's one transaction: each mutation applied (in its own savepoint if `guarded`) and its result recorded.
    private func applyInTransaction(
        _ mutations: [Mutation], _ commands: [Result<any MutationCommand, LocalityError>], _ counts: VoteCounts,
        guarded: Bool, request: PushRequest, from session: Session, now: Date
    ) async throws -> ([MutationResult], Int64) {
        try await database.write { db in try counts.during {
            var results: [MutationResult] = []
            var fresh: [(result: MutationResult, name: String)] = []  // applied by this batch, to be stored
            var latest: HLCTimestamp?
            // Loaded once: no mutation changes who its sender is. (If it cannot be, each mutation says why.)
            let actor = Result { try Actor.load(db, personId: session.personId) }
            let device = session.deviceId.key
            let deviceRow = try Row.fetchOne(db, sql: "SELECT last_sequence, created_at FROM device WHERE id = ?", arguments: [device])
            let first: Int64 = deviceRow?["last_sequence"] ?? 0
            let registered = (deviceRow?["created_at"] as String?).flatMap(Timestamps.parse)
            var last = first
            var stored = StoredResults.Reader(device: device)
            try Audit.setActor(session.personId, db)
            try AncestryCache.during {  // no mutation changes localities
                for (mutation, command) in zip(mutations, commands) {
                    if mutation.sequence <= last, answersRetriesFromStoredResults {
                        // Already applied (a retry after a lost response): its result as it was.
                        guard let earlier = try stored.result(for: mutation.sequence, db) else { break }
                        results.append(earlier)
                        continue
                    }
                    guard mutation.sequence == last + 1 || (mutation.sequence <= last && !answersRetriesFromStoredResults) else { break }  // a gap
                    let result = try Self.apply(
                        mutation, command, from: session, as: actor, now: now, registered: registered, guarded: guarded, db)
                    results.append(result)
                    fresh.append((result, mutation.name.rawValue))
                    last = max(last, mutation.sequence)
                    if result.outcome == .applied { latest = max(latest ?? mutation.hlc, mutation.hlc) }
                }
            }
            if last != first {
                // Once per batch: the batch commits or fails as a whole, with its results.
                let received = Timestamps.format(now)
                try db.execute(
                    sql: "UPDATE device SET last_sequence = ?, last_seen_at = ? WHERE id = ?",
                    arguments: [last, received, device])
                try StoredResults.record(fresh, device: device, receivedAt: received, db)
            }
            try Audit.setActor(nil, db)
            try Audit.seal(db)
            if let latest {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO clock_high_water (id, hlc) VALUES (1, ?)
                        ON CONFLICT (id) DO UPDATE SET hlc = max(hlc, excluded.hlc)
                        """
                ).execute(arguments: [latest.description])
            }
            return (results, last)
        } }
    }

    /// Applies the device's next mutation and says what became of it (the caller has checked its
    /// sequence, and stores the batch's results with the batch).
    static func apply(
        _ mutation: Mutation, _ command: Result<any MutationCommand, LocalityError>, from session: Session,
        as actor: Result<Actor, any Error>, now: Date, registered: Date?, guarded: Bool, _ db: Database
    ) throws -> MutationResult {
        var outcome = MutationResult.Outcome.applied
        var error: LocalityError?
        if mutation.deviceId != session.deviceId || mutation.actorId != session.personId {
            outcome = .rejected
            error = LocalityError.forbidden("a device may push only mutations made on it by its own user")
        } else if let problem = ClockBounds.problem(with: mutation, now: now, deviceRegisteredAt: registered) {
            // A clock far ahead would order this edit after everyone's for as long as it stays ahead;
            // one far behind would show people a need "recorded" a year ago, a payment before its award.
            outcome = .rejected
            error = problem
        } else {
            do {
                // As the authenticated person, never as whoever the mutation claims.
                let (command, actor) = (try command.get(), try actor.get())
                if guarded {
                    try mutation.apply(command, as: actor, db)
                } else {
                    do {
                        try mutation.applyUnguarded(command, as: actor, db)
                    } catch is LocalityError {
                        throw RefusedUnguarded()  // nothing of this transaction stays: the batch goes again, guarded
                    }
                }
            } catch let rejection as LocalityError {
                outcome = .rejected
                error = rejection
            }
        }
        let changeSequence: Int64? =
            outcome == .applied
            ? try db.fetchInteger(sql: "SELECT value FROM change_counter WHERE id = 1") : nil  // stepped directly: once a mutation
        return MutationResult(
            sequence: mutation.sequence, mutationId: mutation.id, outcome: outcome, changeSequence: changeSequence,
            error: error)
    }

    /// Counts each vote the batch closes, outside the write lock: a count may take seconds, and
    /// other devices' pushes go on meanwhile. The push applies `vote.close` with this count if the
    /// election is unchanged when it gets the lock (otherwise it counts again, within the same bound).
    func precount(_ commands: [Result<any MutationCommand, LocalityError>]) async throws -> VoteCounts {
        let counts = VoteCounts()
        for case .success(let command) in commands {
            guard let close = command as? CloseVote else { continue }
            guard let (election, rule) = try await database.read({ db in try VoteRules.election(closing: close.voteId, db) }) else {
                continue
            }
            // Off the cooperative pool, cancellable: a count checks for cancellation as it goes.
            let limit = countLimit
            let task = Task.detached(priority: .utility) { counts.count(election, rule: rule, limit: limit) }
            await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        }
        return counts
    }

    /// Each mutation's command, or why its arguments cannot be one.
    static func commands(for mutations: [Mutation]) async -> [Result<any MutationCommand, LocalityError>] {
        func decode(_ slice: ArraySlice<Mutation>) -> [Result<any MutationCommand, LocalityError>] {
            slice.map { mutation in Result { () throws(LocalityError) in try mutation.name.command(arguments: mutation.arguments) } }
        }
        guard mutations.count >= 200 else { return decode(mutations[...]) }
        let parts = 2
        let size = (mutations.count + parts - 1) / parts
        return await withTaskGroup(of: (Int, [Result<any MutationCommand, LocalityError>]).self) { group in
            for part in 0..<parts {
                let slice = mutations[(part * size)..<min((part + 1) * size, mutations.count)]
                group.addTask { (part, decode(slice)) }
            }
            var decoded = Array(repeating: [Result<any MutationCommand, LocalityError>](), count: parts)
            for await (part, results) in group { decoded[part] = results }
            return decoded.flatMap { $0 }
        }
    }

    /// The database's history (see `PullResponse.epoch`).
    public func epoch() async throws -> String? {
        try await database.read { try String.fetchOne($0.cachedStatement(sql: "SELECT epoch FROM server_history WHERE id = 1")) }
    }

    public func checkHealth() async throws {
        _ = try await database.read { db in try Int.fetchOne(db, sql: "SELECT value FROM change_counter") }
    }
}

extension JSONValue {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let int): self = .int(int)
        case .double(let double): self = .double(double)
        case .string(let string): self = .string(string)
        case .blob(let data): self = .string(data.base64EncodedString())
        }
    }
}
