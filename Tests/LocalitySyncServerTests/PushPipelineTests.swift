import Foundation
import GRDB
import LocalityCore
@testable import LocalitySyncServer
import Synchronization
import Testing

/// A device sends its next push batch before the last is answered; the two may reach the server
/// in either order. These pin down what the server and the device then do.
@Suite("Push batches in flight together")
struct PushPipelineTests {
    /// A councillor who has synced once (so the server knows where the device's sequence stands)
    /// and then recorded `count` needs offline: the outbox's mutations, in order.
    private func councillor(on store: any SyncStore, needs count: Int) async throws -> (SyncedDevice, Session, [Mutation]) {
        let device = try await SyncedDevice("cllr-north", store: store)
        try await device.sync()
        try device.recordNeed(in: "brockton", title: "First need")
        try await device.sync()
        for index in 0..<count { try device.recordNeed(in: "brockton", title: "Need \(index)") }
        let session = try #require(try await store.authenticate(token: device.token, now: Date()))
        let mutations = try device.replica.outbox()
        #expect(mutations.count == count)
        return (device, session, mutations)
    }

    private func batch(_ mutations: ArraySlice<Mutation>, _ session: Session) -> PushRequest {
        PushRequest(deviceId: session.deviceId, mutations: Array(mutations))
    }

    @Test(arguments: TestStores.kinds) func aLaterBatchArrivingFirstWaitsForTheOneBeforeIt(on kind: String) async throws {
        let store = try await TestStores.demo(kind)
        let (device, session, mutations) = try await councillor(on: store, needs: 10)
        let (first, second) = (batch(mutations[..<5], session), batch(mutations[5...], session))

        let later = Task { try await store.push(second, from: session, now: Date()) }
        try await Task.sleep(for: .milliseconds(30))  // the second is waiting when the first arrives
        let earlier = try await store.push(first, from: session, now: Date())
        let answer = try await later.value

        #expect(earlier.results.map(\.outcome) == Array(repeating: .applied, count: 5))
        #expect(answer.results.map(\.outcome) == Array(repeating: .applied, count: 5))
        #expect(answer.results.map(\.sequence) == mutations[5...].map(\.sequence))
        #expect(answer.lastAppliedSequence == mutations.last?.sequence)
        // The needs are on the server once each, in the order the device made them.
        try await device.sync()
        #expect(try device.replica.outbox().isEmpty)
        let officer = try await SyncedDevice("officer", store: store)
        try await officer.sync()
        #expect(try officer.needTitles().isSuperset(of: (0..<10).map { "Need \($0)" }))
    }

    @Test func aBatchWhoseEarlierBatchNeverArrivesIsAnsweredWithTheGapAndChangesNothing() async throws {
        var store = try SQLiteSyncStore.inMemory()
        store.turns = PushTurns(grace: .milliseconds(50))
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let (_, session, mutations) = try await councillor(on: store, needs: 10)
        let started = ContinuousClock.now
        await #expect(throws: LocalityError.self) {
            do { _ = try await store.push(batch(mutations[5...], session), from: session, now: Date()) } catch let error as LocalityError {
                #expect(error.code == .sequenceGap)
                throw error
            }
        }
        // It waited for the earlier batch for the grace, not for ever.
        #expect(ContinuousClock.now - started >= .milliseconds(50))
        // Nothing of it was applied: the device sends both again, in order, and each is applied once.
        let again = try await store.push(batch(mutations[...], session), from: session, now: Date())
        #expect(again.results.map(\.outcome) == Array(repeating: .applied, count: 10))
        let repeated = try await store.push(batch(mutations[5...], session), from: session, now: Date())
        #expect(repeated.results.map(\.changeSequence) == again.results.suffix(5).map(\.changeSequence))
    }

    /// The server applies a batch without a savepoint per mutation, and goes over it again with
    /// them only when a mutation is refused. This refusal comes after the mutation has written its
    /// need (its evidence is refused), so a batch that kept any of that attempt would show it.
    @Test(arguments: TestStores.kinds) func aMutationRefusedHalfWrittenInABatchLeavesNoTrace(on kind: String) async throws {
        let store = try await TestStores.demo(kind)
        let (_, session, outbox) = try await councillor(on: store, needs: 5)
        var mutations = outbox
        guard case .object(var arguments) = mutations[2].arguments else { Issue.record("need.record's arguments"); return }
        arguments["evidence"] = .array([
            .object(["id": .string(UUID().key), "kind": .string("survey"), "note": .string(""), "observedOn": .string("2026-01-05")])
        ])
        mutations[2].arguments = .object(arguments)
        let refusedNeed = try #require(needId(of: mutations[2]))

        let answer = try await store.push(batch(mutations[...], session), from: session, now: Date())
        #expect(answer.results.map(\.outcome) == [.applied, .applied, .rejected, .applied, .applied])
        #expect(answer.results[2].error?.message.contains("evidence note") == true)
        // The applied changes are numbered one after another: the refused one took no number.
        let numbers = answer.results.compactMap(\.changeSequence)
        #expect(numbers == Array(numbers[0]..<(numbers[0] + 4)))
        // Sent again, the batch gets the same answers from what the server stored.
        let again = try await store.push(batch(mutations[...], session), from: session, now: Date())
        #expect(again.results == answer.results)
        // An officer's new device sees the four needs and not the refused one.
        let officer = try await SyncedDevice("officer", store: store)
        try await officer.sync()
        let ids = Set(try officer.replica.needs().map(\.need.id))
        #expect(!ids.contains(refusedNeed))
        #expect(ids.isSuperset(of: [0, 1, 3, 4].compactMap { needId(of: mutations[$0]) }))
    }

    /// The need a `need.record` mutation records.
    private func needId(of mutation: Mutation) -> UUID? {
        guard case .object(let arguments) = mutation.arguments, case .string(let id) = arguments["needId"] else { return nil }
        return UUID(key: id)
    }

    @Test(arguments: TestStores.kinds) func aDeviceWithManyBatchesPushesThemAllInOrder(on kind: String) async throws {
        let store = try await TestStores.demo(kind)
        let (device, _, _) = try await councillor(on: store, needs: 100)
        var engine = device.engine
        engine.pushBatch = 7
        let summary = try await engine.sync()
        #expect(summary.sent == 100 && summary.accepted == 100 && summary.rejected.isEmpty)
        #expect(try device.replica.outbox().isEmpty)
        let state = try await TestStores.state(store)
        let applied = try await state.database.read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT sequence FROM mutation_result
                    WHERE device_id = (SELECT device_id FROM mutation_result ORDER BY change_sequence DESC LIMIT 1)
                    ORDER BY change_sequence
                    """)
        }
        #expect(applied == applied.sorted() && Set(applied).count == 101)
    }

    /// A server that does not put batches back in order (an older one, or a device's first batches
    /// after the server restarted) answers the later batch with a gap: the device sends the rest
    /// one batch at a time, and nothing is lost or applied twice.
    @Test func aGapForABatchSentBehindAnotherIsNotTakenForARestore() async throws {
        var store = try SQLiteSyncStore.inMemory()
        store.turns = .unordered
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let calls = Calls()
        let device = try await SyncedDevice("cllr-north", store: store) { token in
            DelayingTransport(inner: StoreTransport(store: store, token: token), calls: calls)
        }
        try await device.sync()
        try device.recordNeed(in: "brockton", title: "First need")
        try await device.sync()
        for index in 0..<40 { try device.recordNeed(in: "brockton", title: "Need \(index)") }
        // The second batch of five is held back until a later one has been answered: the third
        // reaches the store before it, whatever the threads' timing.
        calls.holdBack(startingAt: try device.replica.outbox()[5].sequence)
        var engine = device.engine
        engine.pushBatch = 5
        let summary = try await engine.sync()
        #expect(calls.gaps.withLock { $0 } > 0, "no batch overtook the one before it: the test tested nothing")
        #expect(!summary.serverRestored && summary.resent == 0)
        #expect(summary.accepted == 40 && summary.rejected.isEmpty)
        #expect(try device.replica.outbox().isEmpty)
        let rows = try await store.database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM need WHERE title LIKE 'Need %'") ?? 0
        }
        #expect(rows == 40)
    }
}

/// Holds back one push, the first to start at a chosen sequence, until a push of later changes has
/// been answered (or for two seconds, should none come).
private final class Calls: Sendable {
    private struct State {
        var target: Int64?
        var taken = false
        var held: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())
    /// Requests answered with a gap.
    let gaps = Mutex(0)

    func holdBack(startingAt sequence: Int64) {
        state.withLock { $0.target = sequence }
    }

    /// Whether this request is the one to hold back (only the first time it is sent).
    func take(_ request: PushRequest) -> Bool {
        state.withLock { state in
            guard !state.taken, let target = state.target, request.mutations.first?.sequence == target else { return false }
            state.taken = true
            return true
        }
    }

    /// Whether this request carries changes after the held one's (and so may release it).
    func isLater(_ request: PushRequest) -> Bool {
        state.withLock { state in
            guard let target = state.target, let first = request.mutations.first?.sequence else { return false }
            return first > target
        }
    }

    func hold() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            state.withLock { $0.held = continuation }
            Task { [self] in
                try? await Task.sleep(for: .seconds(2))
                release()
            }
        }
    }

    func release() {
        state.withLock { state in
            let held = state.held
            state.held = nil
            return held
        }?.resume()
    }
}

/// Holds back the chosen push until one sent after it has been answered: the later of two batches
/// in flight reaches the store first.
private struct DelayingTransport: SyncTransport {
    let inner: StoreTransport
    let calls: Calls

    func push(_ request: PushRequest) async throws -> PushResponse {
        let held = calls.take(request)
        if held { await calls.hold() }
        defer { if calls.isLater(request) { calls.release() } }
        do {
            return try await inner.push(request)
        } catch let error as LocalityError where error.code == .sequenceGap {
            calls.gaps.withLock { $0 += 1 }
            throw error
        }
    }

    func pull(cursor: Int64, limit: Int) async throws -> PullResponse { try await inner.pull(cursor: cursor, limit: limit) }
}
