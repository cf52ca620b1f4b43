import Dispatch
import Foundation
import LocalityCore
import Synchronization

/// Pages read ahead for devices catching up. When a pull answers "more", the server starts
/// reading the page after it at once, so that the device's next request finds it read: reading a
/// page (the feed, each row, the scope check) then overlaps the device's decoding and applying of
/// the page before, instead of following it. A first sync of a large scope is a thousand such
/// round trips.
///
/// Nothing is served from here that a request could not have been answered with a moment
/// earlier: a page read ahead is a consistent snapshot like any other (later changes have later
/// sequence numbers and come in later pages), it is read for the same person, and the request
/// that takes it is authenticated afresh first, so a revoked device or a disabled account is
/// refused as always. A push from the device drops its page (it was read before the push). An
/// entry is keyed by the device's token, cursor and limit, is taken once,
/// is never served once older than `lifetime`, and is let go once that has passed even if no
/// other device pulls (a device that went away leaves no page in memory); at most `capacity` wait
/// at once.
final class ReadAhead: Sendable {
    private struct Entry {
        var cursor: Int64
        var limit: Int
        var person: UUID
        var made: ContinuousClock.Instant
        var task: Task<PullResponse, any Error>
    }

    private let entries = Mutex<[String: Entry]>([:])
    let capacity: Int
    let lifetime: Duration

    /// At most eight pages wait (docs/operations.md says what one device's catching up costs).
    init(capacity: Int = 8, lifetime: Duration = .seconds(30)) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    /// Starts reading the page after `cursor` for the device holding `token`, replacing any page
    /// read ahead for it before.
    func start(token: String, session: Session, cursor: Int64, limit: Int, read: @escaping @Sendable () async throws -> PullResponse) {
        let now = ContinuousClock.now
        let task = Task(priority: .medium) { try await read() }
        let dropped: [Task<PullResponse, any Error>] = entries.withLock { entries in
            var dropped: [Task<PullResponse, any Error>] = []
            if let old = entries.removeValue(forKey: token) { dropped.append(old.task) }
            // Unclaimed too long (a device that went away), or over capacity: oldest first.
            for (key, entry) in entries where now - entry.made > lifetime {
                dropped.append(entry.task)
                entries[key] = nil
            }
            while entries.count >= capacity, let oldest = entries.min(by: { $0.value.made < $1.value.made }) {
                dropped.append(oldest.value.task)
                entries[oldest.key] = nil
            }
            entries[token] = Entry(cursor: cursor, limit: limit, person: session.personId, made: now, task: task)
            return dropped
        }
        for task in dropped { task.cancel() }
        // Unclaimed past its lifetime: let go, whether or not another page is ever read ahead. A
        // dispatch timer rather than a sleeping task: it holds no task, and the cooperative
        // threads being busy (a loaded server) does not keep the page in memory.
        let seconds = Double(lifetime.components.seconds) + Double(lifetime.components.attoseconds) / 1e18
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + seconds) { [weak self] in
            self?.expire(token: token, made: now)
        }
    }

    /// Drops the page read ahead for `token` at `made`, if it is still waiting.
    private func expire(token: String, made: ContinuousClock.Instant) {
        let task = entries.withLock { entries -> Task<PullResponse, any Error>? in
            guard let entry = entries[token], entry.made == made else { return nil }
            entries[token] = nil
            return entry.task
        }
        task?.cancel()
    }

    /// The page read ahead for exactly this request, if there is one; it is taken, so it is
    /// served once. The caller has authenticated `token` as `session`.
    func take(token: String, session: Session, cursor: Int64, limit: Int) async -> PullResponse? {
        let now = ContinuousClock.now
        guard let entry = entries.withLock({ entries -> Entry? in
            guard let entry = entries[token] else { return nil }
            entries[token] = nil
            return entry
        }) else { return nil }
        guard entry.cursor == cursor, entry.limit == limit, entry.person == session.personId, now - entry.made <= lifetime else {
            entry.task.cancel()
            return nil
        }
        // A read that failed (the store unavailable a moment) is simply done again by the caller.
        return try? await entry.task.value
    }

    /// Drops any page read ahead for the device holding `token`: after it pushes, a page read
    /// before would answer with what the server had applied from it before the push, and a device
    /// starting a sync takes that for a server that lost its changes.
    func drop(token: String) {
        entries.withLock { $0.removeValue(forKey: token) }?.task.cancel()
    }

    /// Whether a page is waiting for the device holding `token` (a request that might take it).
    func holds(token: String) -> Bool { entries.withLock { $0[token] != nil } }

    var count: Int { entries.withLock { $0.count } }
}
