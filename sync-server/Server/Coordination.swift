import Foundation
import Synchronization

/// Who answers first: the work or the clock.
final class Race<T: Sendable>: Sendable {
    let waiting = Mutex<CheckedContinuation<T, any Error>?>(nil)
    let timer = Mutex<Task<Void, Never>?>(nil)

    /// Whether the answer has been given.
    var isFinished: Bool { waiting.withLock { $0 == nil } }

    /// Gives the first answer (later ones are dropped) and stops the clock.
    func finish(_ result: Result<T, any Error>) {
        waiting.withLock { continuation in
            continuation?.resume(with: result)
            continuation = nil
        }
        timer.withLock { $0?.cancel() }
    }
}

/// Reads of the log's head, shared by the requests that want one at the same moment. A request
/// needs a head read that began after it arrived (then it sees every write acknowledged before it
/// came): it joins the read about to begin, or begins one if none is running. Under load a
/// process asks PostgreSQL once per round trip, not once per request.
final class SharedReads: Sendable {
    private struct State {
        var running: (generation: Int, task: Task<Int64, any Error>)?
        var next: (generation: Int, task: Task<Int64, any Error>)?
        var generations = 0
        /// When the running read began: one that never ends (a connection that neither answers
        /// nor fails) would hold every later read behind it, so it counts towards a wedge.
        var runningSince: ContinuousClock.Instant?
    }
    private let state = Mutex(State())

    /// Since when the read in flight has been running, if one is.
    var runningSince: ContinuousClock.Instant? { state.withLock { $0.running == nil ? nil : $0.runningSince } }
    private let query: @Sendable () async throws -> Int64

    init(_ query: @escaping @Sendable () async throws -> Int64) { self.query = query }

    func read() async throws -> Int64 {
        let task: Task<Int64, any Error> = state.withLock { state in
            if let next = state.next { return next.task }
            state.generations += 1
            let generation = state.generations
            if let running = state.running {
                // That read may have begun before this request arrived: wait for it, then read again.
                let previous = running.task
                let task = Task { [self] in
                    _ = try? await previous.value
                    return try await finishing(generation) { try await query() }
                }
                state.next = (generation, task)
                return task
            }
            let task = Task { [self] in try await finishing(generation) { try await query() } }
            state.running = (generation, task)
            state.runningSince = .now
            return task
        }
        return try await task.value
    }

    private func finishing(_ generation: Int, _ body: () async throws -> Int64) async throws -> Int64 {
        // The waiting read becomes the running one as it begins; a read arriving after that waits for the one after.
        state.withLock { state in
            if state.next?.generation == generation { state.running = state.next; state.next = nil; state.runningSince = .now }
        }
        defer {
            state.withLock { state in if state.running?.generation == generation { state.running = nil } }
        }
        return try await body()
    }
}

/// Serialises async work without actor reentrancy: one holder at a time, in arrival order.
actor AsyncMutex {
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// Since when the current holder has held it, if anyone does.
    nonisolated let heldSince = Mutex<ContinuousClock.Instant?>(nil)

    func lock() async {
        if held { await withCheckedContinuation { waiting.append($0) } } else { held = true }
        heldSince.withLock { $0 = .now }
    }

    func unlock() {
        heldSince.withLock { $0 = nil }
        if waiting.isEmpty { held = false } else { waiting.removeFirst().resume() }
    }
}

/// Keeps a process's readers from seeing an operation it has applied locally but not yet committed
/// to the log: if the commit then failed, a device could have been shown a change that never
/// happened, and its cursor would pass a sequence number the rebuilt state gives to another
/// change. A writer closes the gate before applying (waiting for readers inside to leave) and
/// opens it once the entry has committed or the state has been reset; readers wait meanwhile —
/// for the apply and the commit, not for the council's lock, which the writer already holds.
final class ReadGate: Sendable {
    private struct State {
        var readers = 0
        var closedSince: ContinuousClock.Instant?
        var waitingReaders: [CheckedContinuation<Void, Never>] = []
        var waitingWriter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    /// Since when the gate has been closed, if it is.
    var closedSince: ContinuousClock.Instant? { state.withLock { $0.closedSince } }

    func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state in
                guard state.closedSince == nil else { state.waitingReaders.append(continuation); return false }
                state.readers += 1
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    func leave() {
        let writer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.readers -= 1
            guard state.readers == 0 else { return nil }
            defer { state.waitingWriter = nil }
            return state.waitingWriter
        }
        writer?.resume()
    }

    /// Closes the gate and waits for the readers inside to leave. One writer at a time.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let empty = state.withLock { state in
                state.closedSince = .now
                guard state.readers > 0 else { return true }
                state.waitingWriter = continuation
                return false
            }
            if empty { continuation.resume() }
        }
    }

    func open() {
        let readers = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closedSince = nil
            state.readers += state.waitingReaders.count
            defer { state.waitingReaders = [] }
            return state.waitingReaders
        }
        for reader in readers { reader.resume() }
    }
}
