import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// How many failed logins one address may make in a window before it must wait.
public struct LoginLimit: Sendable {
    public var failures: Int
    public var window: TimeInterval

    public init(failures: Int = 10, window: TimeInterval = 60) {
        self.failures = failures
        self.window = window
    }
}

/// Failed logins by address: guessing from one address is slowed whichever usernames it tries
/// (each account also slows guesses at itself). Kept in memory: a restart forgets, which costs a
/// guesser one window at most.
final class LoginThrottle: Sendable {
    let limit: LoginLimit
    private let failures = Mutex<[String: [Date]]>([:])

    init(limit: LoginLimit) { self.limit = limit }

    /// Seconds the address must wait before trying again, or nil if it may try now.
    func wait(for address: String, now: Date) -> Int? {
        failures.withLock { table in
            let recent = (table[address] ?? []).filter { now.timeIntervalSince($0) < limit.window }
            table[address] = recent.isEmpty ? nil : recent
            guard recent.count >= limit.failures, let oldest = recent.first else { return nil }
            return max(1, Int((limit.window - now.timeIntervalSince(oldest)).rounded(.up)))
        }
    }

    func failed(from address: String, now: Date) {
        failures.withLock { table in
            table[address, default: []].append(now)
            // Bound the table: a flood from many addresses must not grow it without end.
            if table.count > 100_000 { table = table.filter { now.timeIntervalSince($0.value.last ?? now) < limit.window } }
        }
    }

    func succeeded(from address: String) {
        failures.withLock { _ = $0.removeValue(forKey: address) }
    }
}

/// The request context of the sync API: Hummingbird's basics and the client's address.
public struct SyncRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The address as a key: the IP address alone (no port), or "unknown".
    var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }
}
