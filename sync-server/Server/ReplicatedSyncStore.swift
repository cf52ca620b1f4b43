import Foundation
import GRDB
import Logging
import LocalityCore
import PostgresNIO
import Synchronization

/// An operation that changes the council's state, as the log keeps it: with every input its
/// application reads besides the state itself (the time, the token's hash, the password's hash),
/// so that applying the log in order to an empty store reproduces the state exactly. Never a
/// password or a raw token.
enum LoggedOperation: Codable, Sendable {
    case loadDemo(passwordHash: String)
    case bindDevice(deviceId: UUID, name: String?, personId: UUID, username: String, tokenHash: String, now: Date)
    case failedLogin(personId: UUID, failures: Int, now: Date)
    case logout(session: Session)
    /// A one-time activation code spent: the password's hash (never the password) is set.
    case spendActivation(personId: UUID, codeHash: String, passwordHash: String)
    case push(request: PushRequest, session: Session, now: Date)
    /// An operator's command (`locality-sync user add --database …` and the rest).
    case administer(command: AdminCommand, now: Date, seed: UInt64)

    var kind: String {
        switch self {
        case .loadDemo: "demo.load"
        case .bindDevice: "device.bind"
        case .failedLogin: "login.failed"
        case .logout: "device.logout"
        case .spendActivation: "account.activate"
        case .push: "push"
        case .administer(let command, _, _): command.name
        }
    }
}

/// The council's state materialised from the log in this process: an SQLite store (today's schema
/// and rules, unchanged) that only ever advances by applying log entries in order.
actor Materialisation {
    private(set) var store: SQLiteSyncStore
    private(set) var applied: Int64 = 0
    private(set) var lastHash: String?
    let epoch: String
    let logger: Logger

    let storedResults: Bool
    /// The snapshot this process started from, if any.
    var restoredFrom: Int64?

    init(epoch: String, logger: Logger, storedResults: Bool = true) throws {
        self.epoch = epoch
        self.logger = logger
        self.storedResults = storedResults
        store = try Self.fresh(epoch: epoch, storedResults: storedResults)
    }

    static func fresh(epoch: String, storedResults: Bool = true) throws -> SQLiteSyncStore {
        var store = try SQLiteSyncStore.inMemory()
        store.answersRetriesFromStoredResults = storedResults
        store.turns = .unordered
        // Every process answers with the database's history id, not one of its own.
        try store.database.write { try $0.execute(sql: "UPDATE server_history SET epoch = ? WHERE id = 1", arguments: [epoch]) }
        return store
    }

    /// Starts again from nothing: after this process applied an operation whose entry then failed
    /// to commit, its state is ahead of the log and cannot be trusted.
    func reset() throws {
        store = try Self.fresh(epoch: epoch, storedResults: storedResults)
        applied = 0
        lastHash = nil
        logger.warning("replica reset: it will be rebuilt from the log")
    }

    /// Applies an operation to the local store; returns what it answered, as logged.
    func apply(_ operation: LoggedOperation) async throws -> String {
        func json(_ value: some Encodable) throws -> String { String(decoding: try JSONCoding.encode(value, sortedKeys: true), as: UTF8.self) }
        switch operation {
        case .loadDemo(let passwordHash):
            return try json(["loaded": try store.loadDemoIfEmpty(passwordHash: passwordHash)])
        case .bindDevice(let deviceId, let name, let personId, let username, let tokenHash, let now):
            return try json(try await store.bindDevice(deviceId, name: name, personId: personId, username: username, tokenHash: tokenHash, now: now))
        case .failedLogin(let personId, let failures, let now):
            _ = try await store.recordFailedLogin(personId, failures: failures, now: now)
            return try json(["failures": failures + 1])
        case .logout(let session):
            try await store.logout(session)
            return "{}"
        case .spendActivation(let personId, let codeHash, let passwordHash):
            return try json(["spent": try store.spendActivation(personId, codeHash: codeHash, passwordHash: passwordHash)])
        case .push(let request, let session, let now):
            return try json(try await store.push(request, from: session, now: now))
        case .administer(let command, let now, let seed):
            return try store.administer(command, now: now, seed: seed)
        }
    }

    /// Applies the log's entries after what this process has, in order, checking that each gives
    /// the answer it gave when it was appended (replay is deterministic, or this says where not).
    func catchUp(_ log: PostgresLog, on connection: PostgresConnection?) async throws {
        while true {
            let entries = try await log.entries(after: applied, on: connection)
            guard !entries.isEmpty else { return }
            // Applied to the end even if the request that fetched them gives up meanwhile (its
            // deadline passed): every later request needs them, and a long replay begun again by
            // each retry would never finish. Waiting for PostgreSQL stays cancellable.
            try await Task { try await self.apply(entries) }.value
        }
    }

    /// Applies fetched entries in order, checking each answer against the logged one.
    private func apply(_ entries: [PostgresLog.Entry]) async throws {
        for entry in entries {
            guard entry.sequence == applied + 1 else {
                throw LocalityError(.unavailable, "the log has no entry \(applied + 1); this process cannot catch up")
            }
            let operation = try JSONCoding.decode(LoggedOperation.self, from: Array(entry.body.utf8))
            let result = try await apply(operation)
            if result != entry.result {
                logger.error(
                    "replay diverged", metadata: ["sequence": "\(entry.sequence)", "kind": "\(entry.kind)", "logged": "\(entry.result.prefix(300))",
                                                  "replayed": "\(result.prefix(300))"])
                throw LocalityError(.unavailable, "replaying entry \(entry.sequence) (\(entry.kind)) gave another answer than the log's")
            }
            applied = entry.sequence
            lastHash = entry.hash
        }
    }

    /// Takes `store` as the state at log entry `applied`.
    func replace(with store: SQLiteSyncStore, applied: Int64, hash: String) {
        self.store = store
        self.applied = applied
        lastHash = hash
    }

    /// Records that an operation applied here has been appended as `sequence`.
    func appended(_ sequence: Int64, hash: String) {
        applied = sequence
        lastHash = hash
    }
}

/// The store for several server processes on one PostgreSQL database. PostgreSQL holds the log of
/// every state-changing operation; each process keeps the council's state in a local SQLite store
/// (the same schema and rules as the single-process store — nothing is written twice) and brings
/// it up to the log's head before answering. A write takes the council's lock in PostgreSQL,
/// catches up, applies the operation with the shared rules, appends it with its answer in the same
/// PostgreSQL transaction and only then answers: so a mutation retried on another process finds
/// its stored result, a gap is refused, and approvals for one fund are judged one at a time
/// whichever process they reach.
public final class ReplicatedSyncStore: SyncStore {
    public let log: PostgresLog
    let materialisation: Materialisation
    /// Held to change the local state: to catch up, or to apply and append under the council's lock.
    let mutex = AsyncMutex()
    /// One writer of this process at a time goes to PostgreSQL for the council's lock (the others
    /// wait here, holding no connection, so reads always find one in the pool).
    let writers = AsyncMutex()
    let heads: SharedReads
    let gate = ReadGate()
    /// Whether this process has found itself wedged (see `wedged`).
    let isWedged = Atomic<Bool>(false)
    /// Called once if an operation holds this process's lock for three deadlines: a PostgreSQL
    /// connection that neither answers nor fails (seen after PostgreSQL restarts mid-transaction)
    /// would otherwise leave every later request waiting for it. `serve` exits, for its supervisor
    /// to start it again (it replays the log; nothing acknowledged is lost).
    public let wedged = Mutex<(@Sendable () -> Void)?>(nil)
    let guards: Guards
    /// For a test: runs after an entry is appended and before its transaction commits (to fail it).
    let beforeCommit = Mutex<(@Sendable () async throws -> Void)?>(nil)
    /// The longest a request waits for PostgreSQL.
    let deadline: Duration
    /// Orders one device's push batches that reach this process together.
    let turns = PushTurns()

    /// What keeps several processes correct, each removable only by a test that shows the seeded
    /// simulation failing without it. A server always runs with `.all`.
    struct Guards: OptionSet, Sendable {
        let rawValue: Int
        /// The council's write lock in PostgreSQL, and catching up to the log's head under it before
        /// applying. Without it a process applies to the state it happens to have and appends at
        /// whatever the head is.
        static let writeLock = Guards(rawValue: 1)
        /// A retried mutation is answered with its stored result, never applied again.
        static let storedResults = Guards(rawValue: 2)
        static let all: Guards = [.writeLock, .storedResults]
    }

    public convenience init(log: PostgresLog, logger: Logger = Logger(label: "locality.replica")) async throws {
        try await self.init(log: log, logger: logger, guards: .all, deadline: .seconds(10))
    }

    init(log: PostgresLog, logger: Logger, guards: Guards, deadline: Duration) async throws {
        self.log = log
        self.guards = guards
        self.deadline = deadline
        heads = SharedReads { try await log.head() }
        materialisation = try Materialisation(epoch: try await log.epoch(), logger: logger, storedResults: guards.contains(.storedResults))
        // From the newest snapshot, if there is one, then the log's tail. Starting takes as long as
        // that takes: no deadline here.
        try await locked {
            _ = await materialisation.restoreSnapshot(from: log)
            try await materialisation.catchUp(log, on: nil)
        }
    }

    /// Holding this process's lock.
    func locked<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        try await holding(mutex, body)
    }

    private func holding<T: Sendable>(_ mutex: AsyncMutex, _ body: () async throws -> T) async rethrows -> T {
        await mutex.lock()
        do {
            let value = try await body()
            await mutex.unlock()
            return value
        } catch {
            await mutex.unlock()
            throw error
        }
    }

    /// After a request gave up waiting: is the lock's holder, the writer going to PostgreSQL, or
    /// the commit readers wait for, stuck for good?
    func checkWedged() {
        let oldest = holds.map(\.since).min()
        guard let since = oldest, ContinuousClock.now - since > deadline * 3 else { return }
        guard isWedged.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        // Once, as the process finds itself wedged (every later 503 would say it again).
        materialisation.logger.critical("wedged", metadata: ["holding": "\(describeHolds())"])
        wedged.withLock { $0 }?()
    }

    /// What is held in this process now, and since when.
    var holds: [(what: String, since: ContinuousClock.Instant)] {
        [("the state's lock", mutex.heldSince.withLock { $0 }), ("the writers' turn", writers.heldSince.withLock { $0 }),
         ("the readers' gate", gate.closedSince), ("a read of the log's head", heads.runningSince)]
            .compactMap { what, since in since.map { (what, $0) } }
    }

    /// `holds` for a person: "the writers' turn for 6.2 s, …", or "nothing".
    func describeHolds() -> String {
        let now = ContinuousClock.now
        let held = holds.map { hold in
            let elapsed = now - hold.since
            return "\(hold.what) for " + String(format: "%.1f s", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        return held.isEmpty ? "nothing" : held.joined(separator: ", ")
    }

    /// Brings the local state up to the log's head as it is now; answers that head.
    @discardableResult
    func caughtUp() async throws -> Int64 {
        try await unavailableOnFailure { [self] in try await catchUpToHead() }
    }

    private func catchUpToHead() async throws -> Int64 {
        let head = try await heads.read()
        guard await materialisation.applied < head else { return head }
        try await locked {
            // Requests that queued behind one catch-up find it done: no query each.
            guard await materialisation.applied < head else { return }
            try await materialisation.catchUp(log, on: nil)
        }
        return head
    }

    /// PostgreSQL's failures (unreachable, restarting, a lost connection) as a 503 naming them:
    /// nothing was changed, and the device retries. A request waits at most `deadline` for
    /// PostgreSQL: past it the device is answered 503 whatever the database is doing, so a stalled
    /// connection never holds a device forever (the work itself carries on, and if it commits, the
    /// device's retry is answered from the log).
    func unavailableOnFailure<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await Self.racing(deadline, body)
        } catch {
            // Errors of our own thrown inside a PostgreSQL transaction come out wrapped in it.
            if let error = PostgresLog.underlying(error) as? LocalityError {
                if error.code == .unavailable { checkWedged() }
                throw error
            }
            if PostgresLog.isDiskFull(error) {
                materialisation.logger.error("the database's disk is full", metadata: ["postgres": "\(PostgresLog.describe(error))"])
                throw LocalityError(
                    .unavailable, "the server's disk is full (PostgreSQL: \(PostgresLog.describe(error))); nothing was changed: your device will send it again")
            }
            throw LocalityError(.unavailable, "the council's database is unavailable (\(PostgresLog.describe(error))); nothing was changed: try again")
        }
    }

    /// `body`'s answer, or a 503 once `limit` has passed, without waiting for `body` to notice.
    static func racing<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let race = Race<T>()
        return try await withCheckedThrowingContinuation { continuation in
            race.waiting.withLock { $0 = continuation }
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                race.finish(result)
            }
            let timer = Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                race.finish(.failure(LocalityError(.unavailable, "the council's database did not answer within \(limit.components.seconds) s; try again")))
                work.cancel()
            }
            // Work that finished before the timer was set stops it here; later work stops it in `finish`.
            if race.timer.withLock({ set in set = timer; return race.isFinished }) { timer.cancel() }
        }
    }

    /// The local store, up to date with the log — for a process that writes nothing meanwhile (an
    /// operator's command); a server reads through `reading`.
    public func current() async throws -> SQLiteSyncStore {
        try await caughtUp()
        return await materialisation.store
    }

    /// Reads the local state once it holds every entry committed before this call, and nothing
    /// this process has applied but not yet committed.
    /// Waiting at the gate counts against the request's deadline like waiting for PostgreSQL.
    func reading<T: Sendable>(_ body: @escaping @Sendable (SQLiteSyncStore) async throws -> T) async throws -> T {
        try await unavailableOnFailure { [self] in
            while true {
                let head = try await catchUpToHead()
                await gate.enter()
                defer { gate.leave() }
                // A failed commit resets the state while the gate is closed: catch up again if so.
                if await materialisation.applied >= head { return try await body(await materialisation.store) }
            }
        }
    }

    /// Applies an operation and appends it to the log, as one: see the type's documentation.
    @discardableResult
    func perform(_ operation: LoggedOperation) async throws -> String {
        try await unavailableOnFailure { [self] in try await performLocked(operation) }
    }

    private func performLocked(_ operation: LoggedOperation) async throws -> String {
        // Applied as the log will hold it (times to the millisecond, as written), so that this
        // process and every replay read exactly the same inputs.
        let body = String(decoding: try JSONCoding.encode(operation, sortedKeys: true), as: UTF8.self)
        let logged = try JSONCoding.decode(LoggedOperation.self, from: Array(body.utf8))
        guard guards.contains(.writeLock) else {
            return try await locked { try await performUnguarded(logged, kind: operation.kind, body: body) }
        }
        return try await holding(writers) {
            var closed = false, pending = false
            do {
                // The council's lock first, then this process's: reads catching up wait only for the
                // apply and the append, never for another process's write.
                let result = try await log.withWriteLock(idleLimit: deadline) { connection in
                    let result = try await locked {
                        try await materialisation.catchUp(log, on: connection)
                        await gate.close()
                        closed = true
                        let result = try await materialisation.apply(logged)
                        pending = true
                        let sequence = await materialisation.applied + 1
                        let hash = try await log.append(
                            sequence: sequence, kind: operation.kind, body: body, result: result,
                            previousHash: await materialisation.lastHash, on: connection)
                        await materialisation.appended(sequence, hash: hash)
                        return result
                    }
                    if let hook = beforeCommit.withLock({ $0 }) { try await hook() }
                    return result
                }
                gate.open()
                return result
            } catch {
                // Applied here but not committed there: this state is ahead of the log. It starts
                // again from the newest snapshot (else from nothing) and replays the log's tail.
                if pending {
                    await locked {
                        try? await materialisation.reset()
                        _ = await materialisation.restoreSnapshot(from: log)
                    }
                }
                if closed { gate.open() }
                throw error
            }
        }
    }

    /// Without the write lock (for the test that shows it is needed): applied to this process's
    /// state as it is, appended after whatever the head is now.
    private func performUnguarded(_ operation: LoggedOperation, kind: String, body: String) async throws -> String {
        let result = try await materialisation.apply(operation)
        let head = try await log.entries(after: max(0, try await log.head() - 1), limit: 1).last
        let sequence = (head?.sequence ?? 0) + 1
        let hash = try await log.withTransaction { connection in
            try await log.append(sequence: sequence, kind: kind, body: body, result: result, previousHash: head?.hash, on: connection)
        }
        await materialisation.appended(sequence, hash: hash)
        return result
    }

    /// Applies an operator's command as one more entry of the log; answers its result as JSON.
    public func administer(_ command: AdminCommand, now: Date) async throws -> String {
        try await perform(.administer(command: command, now: now, seed: .random(in: 0 ... UInt64(Int64.max))))
    }

    // MARK: SyncStore

    public func loadDemoIfEmpty(passwordHash: String) async throws {
        guard try await reading({ try await $0.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM person") } }) == 0 else { return }
        try await perform(.loadDemo(passwordHash: passwordHash))
    }

    public func login(_ request: LoginRequest, token: String, now: Date) async throws -> LoginOutcome {
        switch try await reading({ try $0.checkPassword(request, now: now) }) {
        case .unknown: return .failure(failures: 0)
        case .wrong(let personId, let failures): return try await failedLogin(personId, failures: failures, now: now)
        case .right(let personId, let username):
            let result = try await perform(
                .bindDevice(
                    deviceId: request.deviceId, name: request.deviceName, personId: personId, username: username,
                    tokenHash: SQLiteSyncStore.hash(token: token), now: now))
            return try JSONCoding.decode(BoundDevice.self, from: Array(result.utf8)).map(token: token)
        }
    }

    public func activate(_ request: ActivateRequest, token: String, now: Date) async throws -> LoginOutcome {
        switch try await reading({ try $0.checkActivation(request, now: now) }) {
        case .unknown: return .failure(failures: 0)
        case .wrong(let personId, let failures): return try await failedLogin(personId, failures: failures, now: now)
        case .right(let personId, let codeHash, let failures):
            let result = try await perform(
                .spendActivation(personId: personId, codeHash: codeHash, passwordHash: Passwords.hash(request.password)))
            guard try JSONCoding.decode([String: Bool].self, from: Array(result.utf8))["spent"] == true else {
                return .failure(failures: failures + 1)
            }
            return try await login(request.login, token: token, now: now)
        }
    }

    /// A wrong password or code, counted in the log like any other change.
    private func failedLogin(_ personId: UUID, failures: Int, now: Date) async throws -> LoginOutcome {
        try await perform(.failedLogin(personId: personId, failures: failures, now: now))
        return .failure(failures: failures + 1)
    }

    public func authenticate(token: String, now: Date) async throws -> Session? {
        try await reading { try await $0.authenticate(token: token, now: now) }
    }

    public func logout(_ session: Session) async throws {
        try await perform(.logout(session: session))
    }

    public func push(_ request: PushRequest, from session: Session, now: Date) async throws -> PushResponse {
        guard request.deviceId == session.deviceId else {
            throw LocalityError.forbidden("a device may push only its own mutations; this token belongs to another device")
        }
        // A device's batches go into the log in order when two arrive together (see `PushTurns`).
        return try await turns.inTurn(device: session.deviceId, first: request.mutations.map(\.sequence).min()) {} _: { _ in
            let result = try await perform(.push(request: request, session: session, now: now))
            let response = try JSONCoding.decode(PushResponse.self, from: Array(result.utf8))
            return (response, response.lastAppliedSequence)
        }
    }

    public func pull(after cursor: Int64, limit: Int, for session: Session) async throws -> PullResponse {
        try await reading { try await $0.pull(after: cursor, limit: limit, for: session) }
    }

    /// The token and the page from one catch-up and one read of the local state.
    public func pull(after cursor: Int64, limit: Int, token: String, now: Date) async throws -> (Session, PullResponse)? {
        try await reading { try await $0.pull(after: cursor, limit: limit, token: token, now: now) }
    }

    public func checkHealth() async throws {
        _ = try await log.head()
    }

    public func refusal(token: String) async throws -> LocalityError? { try await reading { try await $0.refusal(token: token) } }
    public func councilName() async throws -> String? { try await reading { try await $0.councilName() } }
    public func figures() async throws -> StoreFigures? { try await reading { try await $0.figures() } }
    /// The log's own hash chain: one chain, whichever process wrote each entry.
    public func verifyAudit() async throws -> Audit.Verification? { try await log.verify() }
    public func readiness() async throws -> [String] {
        do {
            try await caughtUp()
            return []
        } catch {
            return ["cannot catch up with the PostgreSQL log: \(PostgresLog.describe(error))"]
        }
    }
    public func publicContent(_ resource: PublicResource) async throws -> PublicContent? {
        try await reading { try await $0.publicContent(resource) }
    }
}
