import Foundation
import Synchronization

/// Puts one device's push batches in order of their first sequence number before they reach the
/// writer. A device may send its next batch before the last is answered (the server parses and
/// decodes one while it applies the other), and the two requests may arrive in either order: the
/// later batch waits while an earlier one of the same device is in this process, and for a
/// moment when it would leave a gap after the device's last applied sequence (the earlier batch
/// may be on its way). Nothing here decides what is applied: the store's transaction still checks
/// every sequence number, so a batch that waited in vain is answered with the gap, as before.
final class PushTurns: Sendable {
    /// How long a batch that would leave a gap waits for the batch before it to arrive.
    let grace: Duration

    private struct Device {
        /// First sequence numbers of the batches in this process, each with how many carry it.
        var inFlight: [Int64: Int] = [:]
        /// The sequence number after the last this process applied for the device.
        var next: Int64?
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }
    private struct State {
        var devices: [UUID: Device] = [:]
        var waiterIds = 0
    }
    private let state = Mutex(State())

    /// Whether batches are put in order at all: not in a store materialised from the PostgreSQL
    /// log, whose order is the order.
    private let orders: Bool

    init(grace: Duration = .milliseconds(250)) {
        self.grace = grace
        orders = true
    }

    private init(orders: Bool) {
        grace = .zero
        self.orders = orders
    }

    /// Batches run as they come, in no order but their own.
    static var unordered: PushTurns { PushTurns(orders: false) }

    /// Runs `body` when the batch starting at `first` may go to the writer; `prepare` runs at
    /// once, overlapping an earlier batch's turn. `body` returns the last sequence applied. An
    /// empty batch (`first` nil) has no turn to wait for.
    func inTurn<Prepared: Sendable, T>(
        device: UUID, first: Int64?, prepare: () async throws -> Prepared, _ body: (Prepared) async throws -> (T, last: Int64)
    ) async throws -> T {
        guard orders, let first else { return try await body(try await prepare()).0 }
        state.withLock { $0.devices[device, default: Device()].inFlight[first, default: 0] += 1 }
        var last: Int64?
        defer { finish(device: device, first: first, last: last) }
        let prepared = try await prepare()
        await waitForTurn(device: device, first: first)
        let (result, applied) = try await body(prepared)
        last = applied
        return result
    }

    /// The number of devices remembered (one entry each, for as long as the process runs).
    var devicesKnown: Int { state.withLock { $0.devices.count } }

    private enum Wait { case go, earlier, gap }

    private func waitForTurn(device: UUID, first: Int64) async {
        let deadline = ContinuousClock.now + grace
        while true {
            let wait = state.withLock { Self.wait(in: $0.devices[device], first: first, gapAllowed: ContinuousClock.now < deadline) }
            guard wait != .go else { return }
            let id = state.withLock { state in
                state.waiterIds += 1
                return state.waiterIds
            }
            let timer: Task<Void, Never>? =
                wait == .gap
                ? Task { [self, grace] in
                    try? await Task.sleep(for: grace)
                    wake(device: device, id: id)
                } : nil
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Checked again under the lock that `finish` takes: no wake-up falls between.
                let ready = state.withLock { state in
                    guard Self.wait(in: state.devices[device], first: first, gapAllowed: ContinuousClock.now < deadline) == .go else {
                        state.devices[device]?.waiters[id] = continuation
                        return false
                    }
                    return true
                }
                if ready { continuation.resume() }
            }
            timer?.cancel()
        }
    }

    private static func wait(in device: Device?, first: Int64, gapAllowed: Bool) -> Wait {
        guard let device else { return .go }
        if device.inFlight.keys.contains(where: { $0 < first }) { return .earlier }
        if gapAllowed, let next = device.next, first > next { return .gap }
        return .go
    }

    private func finish(device: UUID, first: Int64, last: Int64?) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard var entry = state.devices[device] else { return [] }
            if let count = entry.inFlight[first], count > 1 { entry.inFlight[first] = count - 1 } else { entry.inFlight[first] = nil }
            if let last { entry.next = max(entry.next ?? 0, last + 1) }
            let waiters = Array(entry.waiters.values)
            entry.waiters = [:]
            state.devices[device] = entry
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func wake(device: UUID, id: Int) {
        let waiter = state.withLock { $0.devices[device]?.waiters.removeValue(forKey: id) }
        waiter?.resume()
    }
}
