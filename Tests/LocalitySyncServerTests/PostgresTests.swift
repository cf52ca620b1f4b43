import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GRDB
import LocalityCore
import Logging
@testable import LocalitySyncServer
import Synchronization
import Testing

/// Where the tests' PostgreSQL is (`.ci/run` starts one; `scripts/postgres-test-cluster.sh start`
/// makes one by hand). Without it these tests are skipped, saying so.
enum TestPostgres {
    static let url = ProcessInfo.processInfo.environment["LOCALITY_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// A new, empty database for one test.
    static func freshDatabase() async throws -> PostgresLocation {
        let base = try PostgresLocation(url: try #require(url))
        let name = "locality_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        return try await PostgresLog.createDatabase(String(name), beside: base)
    }

    /// One server process on the database: its own connection pool and local state.
    static func process(_ location: PostgresLocation) async throws -> ReplicatedSyncStore {
        // A generous limit: the whole suite runs in parallel on two cores, and a start-up waits its turn.
        try await ReplicatedSyncStore(
            log: try await PostgresLog(location, timeout: .seconds(300)), logger: Logger(label: "test"), guards: .all, deadline: .seconds(120))
    }
}

/// The stores a suite runs on: SQLite always, a PostgreSQL process too when the tests have one.
enum TestStores {
    static let kinds = TestPostgres.url == nil ? ["sqlite"] : ["sqlite", "postgres"]

    /// A server with the demo council loaded.
    static func demo(_ kind: String) async throws -> any SyncStore {
        if kind == "postgres" {
            let process = try await TestPostgres.process(try await TestPostgres.freshDatabase())
            try await process.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
            return process
        }
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        return store
    }

    /// The server's state as it stands, to look at (never to change behind its back).
    static func state(_ store: any SyncStore) async throws -> SQLiteSyncStore {
        if let process = store as? ReplicatedSyncStore { return try await process.current() }
        return try #require(store as? SQLiteSyncStore)
    }
}

/// Requests routed at random among server processes, some lost on the way there or back.
final class Chaos: Sendable {
    let state: Mutex<SeededGenerator>
    let loss: Double

    init(seed: UInt64, loss: Double) {
        state = Mutex(SeededGenerator(seed: seed))
        self.loss = loss
    }

    func next(_ range: Range<Int>) -> Int { state.withLock { Int.random(in: range, using: &$0) } }
    func chance(_ probability: Double) -> Bool { state.withLock { Double.random(in: 0..<1, using: &$0) < probability } }
}

/// The server processes a load balancer spreads requests over (a restart replaces one).
final class Processes: Sendable {
    let list: Mutex<[ReplicatedSyncStore]>
    init(_ processes: [ReplicatedSyncStore]) { list = Mutex(processes) }
    var all: [ReplicatedSyncStore] { list.withLock { $0 } }
    func replace(_ slot: Int, with process: ReplicatedSyncStore) { list.withLock { $0[slot] = process } }
}

struct RoutedTransport: SyncTransport {
    let processes: Processes
    let chaos: Chaos
    let token: String
    /// How often a push is delivered twice: to another process first (a retry racing its original).
    var duplicates = 0.0

    func route() throws -> ReplicatedSyncStore {
        let all = processes.all
        return all[chaos.next(0..<all.count)]
    }

    func session(_ store: ReplicatedSyncStore) async throws -> Session {
        guard let session = try await store.authenticate(token: token, now: Date()) else { throw LocalityError(.unauthenticated, "bad token") }
        return session
    }

    func push(_ request: PushRequest) async throws -> PushResponse {
        let store = try route()
        if chaos.chance(chaos.loss) { throw LocalityError(.unavailable, "request lost on the way") }
        if duplicates > 0, chaos.chance(duplicates) {
            let other = try route()
            _ = try? await other.push(request, from: try await session(other), now: Date())
        }
        let response = try await store.push(request, from: try await session(store), now: Date())
        if chaos.chance(chaos.loss) { throw LocalityError(.unavailable, "response lost on the way back") }
        return response
    }

    func pull(cursor: Int64, limit: Int) async throws -> PullResponse {
        let store = try route()
        if chaos.chance(chaos.loss) { throw LocalityError(.unavailable, "request lost on the way") }
        return try await store.pull(after: cursor, limit: limit, for: try await session(store))
    }
}

@Suite("PostgreSQL: several server processes on one database", .serialized, .enabled(if: TestPostgres.url != nil, "set LOCALITY_TEST_POSTGRES_URL"))
struct PostgresTests {
    static let north = UUID.stable("demo:budget:north-2026-27")

    @Test func whatOneProcessAcceptsAnotherServesAndARetryThereIsAnsweredNotAppliedAgain() async throws {
        let location = try await TestPostgres.freshDatabase()
        let first = try await TestPostgres.process(location)
        try await first.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let second = try await TestPostgres.process(location)
        let councillor = try await SyncedDevice("cllr-north", store: first)
        try await councillor.sync()
        try councillor.recordNeed(in: "brockton", title: "Flooded ford")
        // Pushed to the first process; the answer is lost; the device asks the second.
        let outbox = try councillor.replica.outbox()
        let request = PushRequest(deviceId: try #require(outbox.first).deviceId, mutations: outbox)
        let session = try #require(try await first.authenticate(token: councillor.token, now: Date()))
        let original = try await first.push(request, from: session, now: Date())
        let retried = try await second.push(request, from: session, now: Date())
        #expect(original.results.map(\.outcome) == [.applied] && retried.results.map(\.changeSequence) == original.results.map(\.changeSequence))
        let officer = try await SyncedDevice("officer", store: second)
        try await officer.sync()
        #expect(try officer.needTitles().filter { $0 == "Flooded ford" }.count == 1)
        // A gap is refused whichever process sees it.
        var gap = request
        gap.mutations = gap.mutations.map { var later = $0; later.sequence += 5; return later }
        await #expect(throws: LocalityError.self) { try await first.push(gap, from: session, now: Date()) }
        // One chain, whoever wrote each entry; a process started now replays it to the same state.
        let verification = try #require(try await second.verifyAudit())
        #expect(verification.intact && verification.entries >= 5)
        let third = try await TestPostgres.process(location)
        let needs = try await third.current().database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM need WHERE title = 'Flooded ford'") }
        #expect(needs == 1)
    }

    /// A process's readers never see what it applied but then failed to commit: a device shown such
    /// a change would keep it, and its cursor would pass a sequence number the rebuilt state gives
    /// to another change.
    @Test func aReaderNeverSeesAWriteWhoseCommitFailed() async throws {
        let process = try await TestPostgres.process(try await TestPostgres.freshDatabase())
        try await process.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let councillor = try await SyncedDevice("cllr-north", store: process)
        let officer = try await SyncedDevice("officer", store: process)
        _ = try await (councillor.sync(), officer.sync())
        try councillor.recordNeed(in: "brockton", title: "Never committed")
        let reader = Mutex<Task<SyncSummary, any Error>?>(nil)
        process.beforeCommit.withLock {
            $0 = {
                // The officer syncs with this process while the push waits to commit, which then fails.
                reader.withLock { $0 = Task { try await officer.sync() } }
                try await Task.sleep(for: .milliseconds(300))
                throw LocalityError(.unavailable, "connection lost at commit")
            }
        }
        await #expect(throws: LocalityError.self) { try await councillor.sync() }
        process.beforeCommit.withLock { $0 = nil }
        _ = try await #require(reader.withLock { $0 }).value
        #expect(try !officer.needTitles().contains("Never committed"))
        // The retry commits; both see it once.
        _ = try await councillor.sync()
        _ = try await officer.sync()
        #expect(try officer.needTitles().contains("Never committed") && councillor.replica.outbox().isEmpty)
    }

    /// A process cut off from PostgreSQL by the network while it holds the council's write lock
    /// (its commit on the way) does not stop the others: PostgreSQL ends the quiet session after the
    /// deadline and so frees the lock, and nothing of the cut-off write commits. Healed, the process
    /// rebuilds from the log, the device's retry is applied once, and every process agrees.
    @Test func aProcessCutOffWhileHoldingTheLockDoesNotStopTheOthers() async throws {
        let location = try await TestPostgres.freshDatabase()
        let proxy = PartitionProxy()
        var routed = location
        routed.port = try await proxy.start(to: location.host, port: location.port)
        defer { proxy.stop() }
        func process(_ location: PostgresLocation) async throws -> ReplicatedSyncStore {
            try await ReplicatedSyncStore(
                log: try await PostgresLog(location, timeout: .seconds(60)), logger: Logger(label: "test"), guards: .all, deadline: .seconds(2))
        }
        let direct = try await process(location)
        try await direct.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let cutOff = try await process(routed)
        // The councillor's process, replaced as a supervisor would if it finds itself wedged.
        let councillorsProcess = Processes([cutOff])
        let councillor = try await SyncedDevice(
            "cllr-north", store: cutOff, transport: { RoutedTransport(processes: councillorsProcess, chaos: Chaos(seed: 1, loss: 0), token: $0) })
        let officer = try await SyncedDevice("officer", store: direct)
        _ = try await (councillor.sync(), officer.sync())

        cutOff.beforeCommit.withLock { $0 = { proxy.partition() } }
        try councillor.recordNeed(in: "brockton", title: "Sent as the network failed")
        let clock = ContinuousClock()
        await #expect(throws: LocalityError.self) { try await councillor.sync() }
        cutOff.beforeCommit.withLock { $0 = nil }
        // The other process takes writes again once PostgreSQL has ended the quiet session.
        try officer.recordNeed(in: "brockton", title: "Recorded during the partition")
        let started = clock.now
        var accepted = false
        while !accepted, clock.now - started < .seconds(20) {
            accepted = (try? await officer.sync()) != nil
        }
        #expect(accepted, "the other process could not write while the cut-off one held the lock")
        #expect(try !officer.needTitles().contains("Sent as the network failed"))

        proxy.heal()
        var retried = false
        var failures: [String] = []
        while !retried, clock.now - started < .seconds(40) {
            do {
                _ = try await councillor.sync()
                retried = true
            } catch {
                failures.append("\(clock.now - started): \(error); holding \("?")")
            }
            if councillorsProcess.all[0].isWedged.load(ordering: .relaxed) {
                // A connection that neither answers nor fails (one PostgreSQL closed while the network
                // was down, its end never told): the process exits and its supervisor starts another.
                print("cut-off process wedged after healing: \(failures.last ?? "")")
                councillorsProcess.replace(0, with: try await process(routed))
            }
        }
        #expect(retried, "the healed process never took the retry: \(failures.suffix(5))")
        _ = try await officer.sync()
        for device in [councillor, officer] {
            let titles = try device.replica.needs().map(\.need.title)
            #expect(titles.filter { $0 == "Sent as the network failed" }.count == 1 && titles.contains("Recorded during the partition"))
        }
        let verification = try #require(try await direct.verifyAudit())
        #expect(verification.intact)
    }

    /// A new process starts from the newest snapshot the log vouches for and replays only the tail;
    /// a snapshot the log does not vouch for is ignored and the whole log replayed.
    @Test func aNewProcessStartsFromASnapshotAndReplaysOnlyTheTail() async throws {
        let location = try await TestPostgres.freshDatabase()
        let first = try await TestPostgres.process(location)
        try await first.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let councillor = try await SyncedDevice("cllr-north", store: first)
        try await councillor.sync()
        for index in 0..<5 { try councillor.recordNeed(in: "brockton", title: "Before \(index)") }
        try await councillor.sync()
        let info = try await first.snapshot()
        let head = try await first.log.head()
        #expect(info.sequence == head && info.bytes > 0)
        for index in 0..<3 { try councillor.recordNeed(in: "brockton", title: "After \(index)") }
        try await councillor.sync()
        func titles(_ process: ReplicatedSyncStore) async throws -> [String] {
            try await process.current().database.read { try String.fetchAll($0, sql: "SELECT title FROM need WHERE title LIKE 'Before %' OR title LIKE 'After %' ORDER BY title") }
        }
        let second = try await TestPostgres.process(location)
        #expect(await second.materialisation.restoredFrom == info.sequence)
        let (fromSnapshot, fromLog) = (try await titles(second), try await titles(first))
        #expect(fromSnapshot == fromLog && fromSnapshot.count == 8)
        // What it serves is the same: an officer's first sync from it sees every need once.
        let officer = try await SyncedDevice("officer", store: second)
        try await officer.sync()
        #expect(try officer.needTitles().filter { $0.hasPrefix("Before ") || $0.hasPrefix("After ") }.count == 8)
        // A snapshot whose hash the log does not have is ignored.
        let log = try await PostgresLog(location)
        defer { log.shutdown() }
        try await log.client.query("UPDATE locality_snapshot SET hash = 'not-the-log'", logger: log.logger)
        let third = try await TestPostgres.process(location)
        #expect(await third.materialisation.restoredFrom == nil)
        let replayed = try await titles(third)
        #expect(replayed.count == 8)
    }

    /// Seeded schedules: devices routed at random among three processes, requests and answers
    /// lost, pushes delivered twice (to two processes), processes restarted (a new one replays
    /// the log), every connection to PostgreSQL dropped as a restart of it would (or PostgreSQL
    /// itself restarted, with LOCALITY_TEST_POSTGRES_RESTART); approvals for one fund racing at
    /// different processes. Reproduce a failure with LOCALITY_SEED.
    @Test(arguments: (ProcessInfo.processInfo.environment["LOCALITY_SEED"].flatMap(UInt64.init).map { [$0] } ?? Array(1...4)))
    func seededSchedulesConvergeAndNeverOverCommit(seed: UInt64) async throws {
        let run = await Self.simulate(seed: seed, guards: .all)
        print("seed \(seed): \(run.figures)")
        #expect(run.violations.isEmpty, "seed \(seed) (LOCALITY_SEED=\(seed) to reproduce): \(run.violations.joined(separator: "; "))")
    }

    /// Each guard matters: with it removed, the same schedules break an invariant.
    @Test(arguments: [("the write lock", ReplicatedSyncStore.Guards.storedResults), ("the stored results", ReplicatedSyncStore.Guards.writeLock)])
    func withoutAGuardTheSchedulesFail(removed: String, guards: ReplicatedSyncStore.Guards) async throws {
        // Seeds until one fails.
        var failures: [String] = []
        for seed in UInt64(1)...6 where failures.isEmpty {
            let run = await Self.simulate(seed: seed, guards: guards, rounds: 8)
            if !run.violations.isEmpty { failures.append("seed \(seed): \(run.violations.prefix(3).joined(separator: "; "))") }
        }
        print("without \(removed): \(failures.joined(separator: " | "))")
        #expect(!failures.isEmpty, "without \(removed) every seed still held every invariant: the simulation cannot see that guard")
    }

    struct Run {
        var violations: [String] = []
        var figures = ""
    }

    static func simulate(seed: UInt64, guards: ReplicatedSyncStore.Guards, rounds: Int = 12) async -> Run {
        var run = Run()
        do {
            try await simulate(seed: seed, guards: guards, rounds: rounds, into: &run)
        } catch {
            run.violations.append("stopped: \(error)")
        }
        return run
    }

    static func simulate(seed: UInt64, guards: ReplicatedSyncStore.Guards, rounds roundCount: Int, into run: inout Run) async throws {
        let chaos = Chaos(seed: seed, loss: 0.15)
        let location = try await TestPostgres.freshDatabase()
        func process() async throws -> ReplicatedSyncStore {
            try await ReplicatedSyncStore(
                log: try await PostgresLog(location, timeout: .seconds(300)), logger: Logger(label: "test"), guards: guards, deadline: .seconds(guards == .all ? 10 : 5))
        }
        let first = try await process()
        try await first.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let processes = Processes([first, try await process(), try await process()])
        func device(_ username: String) async throws -> SyncedDevice {
            try await SyncedDevice(username, store: first) { token in RoutedTransport(processes: processes, chaos: chaos, token: token, duplicates: 0.1) }
        }
        let councillors = [try await device("cllr-north"), try await device("cllr-north")]
        let clerk = try await device("clerk-north")
        let deciders = [try await device("officer"), try await device("cabinet")]
        // Two officers' tablets capture paper ballots; some voters' cards turn up at both.
        let capturers = [try await device("officer"), try await device("officer")]
        let everyone = councillors + [clerk] + deciders + capturers
        func syncQuietly(_ device: SyncedDevice) async { _ = try? await device.sync() }
        // Each device's first sync, however many tries the lossy network takes.
        for device in everyone {
            var synced = false
            for _ in 0..<30 where !synced { synced = (try? await device.sync()) != nil }
            if !synced { run.violations.append("a first sync never got through") }
        }

        // Six £20,000 proposals against the North fund's £75,000: at most three can be approved.
        var proposals: [UUID] = []
        for index in 0..<6 {
            let id = clerk.replica.newID()
            var draft = DraftProposal(
                proposalId: id, budgetId: Self.north, organisationId: UUID.stable("demo:organisation:whitmere-town-council"),
                localityId: UUID.stable("demo:locality:whitmere-town"), title: "Proposal \(index)", amountRequested: Money(pence: 2_000_000))
            draft.summary = "Seeded proposal \(index)"
            try clerk.replica.perform(draft)
            try clerk.replica.perform(SubmitProposal(proposalId: id))
            proposals.append(id)
        }
        // A residents' vote, opened on the officer's device, for the ballots.
        let today = Date(milliseconds: Timestamps.milliseconds(Date()) / 86_400_000 * 86_400_000)
        let vote = deciders[0].replica.newID()
        let choices = DemoCouncil.youDecideProposals.map { UUID.stable("demo:proposal:" + $0.slug) }
        try deciders[0].replica.perform(
            OpenVote(
                voteId: vote, roundId: UUID.stable("demo:round:ledwyche-you-decide"), title: "Ledwyche: You Decide", maxChoices: 3,
                rule: .mes, amount: Money(pence: 1_000_000), opensOn: Timestamps.day(today),
                closesOn: Timestamps.day(today.addingTimeInterval(30 * 86_400)), proposalIds: choices))
        var cards: Set<String> = []
        var serial = 0
        var recorded = 0
        var restarts = 0
        var wedgedRestarts = 0
        var disconnections = 0
        let operatorLog = try await PostgresLog(location, timeout: .seconds(300))
        defer { operatorLog.shutdown() }
        let restartCommand = ProcessInfo.processInfo.environment["LOCALITY_TEST_POSTGRES_RESTART"].flatMap { $0.isEmpty ? nil : $0 }
        for round in 0..<roundCount {
            // The devices sync at once: pushes reach different processes together.
            await withTaskGroup(of: Void.self) { group in
                for device in everyone where chaos.chance(0.7) { group.addTask { _ = try? await device.sync() } }
            }
            for councillor in councillors where chaos.chance(0.5) {
                try councillor.recordNeed(in: chaos.chance(0.5) ? "brockton" : "whitmere-town", title: "Need \(seed)-\(round)-\(recorded)")
                recorded += 1
            }
            for capturer in capturers where chaos.chance(0.6) {
                let card = "CARD-\(chaos.next(0..<8))"
                serial += 1
                let captured = try? capturer.replica.perform(
                    CastBallot(
                        ballotId: capturer.replica.newID(), voteId: vote, proposalIds: [choices[chaos.next(0..<choices.count)]],
                        paperSerial: "P\(serial)", voterCode: card))
                if captured != nil { cards.insert("CODE:" + card) }
            }
            for decider in deciders where chaos.chance(0.4) {
                let proposal = proposals[chaos.next(0..<proposals.count)]
                if (try? decider.replica.proposals().first { $0.proposal.id == proposal }?.proposal.status) == .submitted {
                    _ = try? decider.replica.perform(
                        RecordDecision(decisionId: decider.replica.newID(), proposalId: proposal, outcome: .approved, ledgerEntryId: decider.replica.newID()))
                }
            }
            if chaos.chance(0.2) {
                disconnections += 1
                if let restartCommand {
                    // PostgreSQL itself restarts (fast shutdown: every session ends, in-flight transactions roll back).
                    // system(3) waits for it with waitpid: Foundation's Process was seen never to reap this child here.
                    let command = restartCommand
                    let status = await Task.detached { system(command + " </dev/null >/dev/null 2>&1") }.value
                    if status != 0 { run.violations.append("`\(restartCommand)` failed") }
                } else {
                    // As a restart does to its clients: every connection dropped, whatever it was doing.
                    try await operatorLog.disconnectEveryone()
                }
            }
            // A supervisor restarts a process that found itself wedged.
            for slot in 0..<3 where processes.all[slot].isWedged.load(ordering: .relaxed) {
                wedgedRestarts += 1
                processes.replace(slot, with: try await process())
            }
            if chaos.chance(0.25) {
                restarts += 1
                // A process dies; a new one starts in its place and replays the log.
                let slot = chaos.next(0..<3)
                processes.replace(slot, with: try await process())
            }
        }
        // Quiescence: no more losses; sync until a round moves nothing.
        let calm = Chaos(seed: seed, loss: 0)
        let steady = Processes(processes.all)
        var moved = true
        var rounds = 0
        let calmRounds = guards == .all ? 20 : 6
        while moved, rounds < calmRounds {
            moved = false
            rounds += 1
            for slot in 0..<3 where steady.all[slot].isWedged.load(ordering: .relaxed) {
                wedgedRestarts += 1
                steady.replace(slot, with: try await process())
            }
            for device in everyone {
                do {
                    let summary = try await SyncEngine(
                        replica: device.replica, transport: RoutedTransport(processes: steady, chaos: calm, token: device.token)
                    ).sync()
                    if summary.sent > 0 || summary.received > 0 { moved = true }
                } catch let error as LocalityError where error.code == .unavailable {
                    // A connection PostgreSQL dropped before the calm is found dead on first use: a 503, and the device retries.
                    moved = true
                }
            }
        }
        if moved { run.violations.append("still syncing after \(calmRounds) calm rounds") }
        for device in everyone where try !device.replica.outbox().isEmpty { run.violations.append("a mutation was never answered") }
        // Every process, caught up, holds the same council: each need once, the fund never over-committed.
        var digests: Set<String> = []
        for process in steady.all + [try await process()] {
            let (needs, duplicates, position, voters) = try await process.current().database.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM need WHERE title LIKE 'Need %'") ?? 0,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM (SELECT title FROM need GROUP BY title HAVING COUNT(*) > 1)") ?? 0,
                    try BudgetPosition.of(budget: Self.north, in: db),
                    try String.fetchAll(db, sql: "SELECT upper(voter_reference) FROM ballot WHERE vote_id = ?", arguments: [vote.key])
                )
            }
            // One ballot per voter, and one for every card captured.
            if voters.count != Set(voters).count { run.violations.append("\(voters.count - Set(voters).count) voters counted twice") }
            if Set(voters) != cards { run.violations.append("ballots for \(Set(voters).count) voters, cards captured for \(cards.count)") }
            if needs != recorded || duplicates != 0 { run.violations.append("\(needs) of \(recorded) needs, \(duplicates) doubled") }
            if position.committed > position.allocated || position.committed.pence > 6_000_000 { run.violations.append("the fund is over-committed: \(position.committed.pence)p") }
            digests.insert("\(needs) \(position.committed.pence) \(position.available.pence) \(voters.count)")
            // Every mutation answered once, as its device took the answer: a retry answered anew
            // (a need it had applied, now refused as already recorded) tells its user a falsehood.
            for device in everyone {
                let me = try device.replica.whoami()
                let deviceRejected = try device.replica.rejectedMutations().count
                let (answers, sequences, rejected) = try await process.current().database.read { db in
                    let row = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT COUNT(*) AS answers, COUNT(DISTINCT sequence) AS sequences, SUM(outcome = 'rejected') AS rejected
                            FROM mutation_result WHERE device_id = ?
                            """, arguments: [me.deviceId.key])!
                    return (row["answers"] as Int, row["sequences"] as Int, (row["rejected"] as Int?) ?? 0)
                }
                if answers != sequences || sequences != Int(me.lastSequence) {
                    run.violations.append("\(me.username): \(answers) answers for \(sequences) of \(me.lastSequence) mutations")
                }
                if rejected != deviceRejected { run.violations.append("\(me.username): \(rejected) refused on the server, \(deviceRejected) on the device") }
            }
        }
        if digests.count != 1 { run.violations.append("the processes disagree: \(digests.sorted())") }
        let refused = try deciders.map { try $0.replica.rejectedMutations().filter { $0.code == LocalityError.Code.insufficientFunds.rawValue }.count }.reduce(0, +)
        let entries = try await first.log.head()
        run.figures = "\(recorded) needs, \(cards.count) voters' ballots from \(serial) papers, \(digests.first ?? ""), \(refused) approvals refused for money, \(restarts) restarts (\(wedgedRestarts) of wedged processes), \(disconnections) PostgreSQL \(restartCommand == nil ? "disconnections" : "restarts"), \(entries) log entries"
        let verification = try await first.log.verify()
        if !verification.intact { run.violations.append("the log's chain is broken") }
    }
}
