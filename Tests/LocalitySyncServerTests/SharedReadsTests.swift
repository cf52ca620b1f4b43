import Foundation
@testable import LocalitySyncServer
import Synchronization
import Testing

/// The shared read of the log's head: requests join one read, and a read that never ends is
/// visible, so the process can find itself wedged rather than answer every later request 503 for
/// ever (seen once in CI: a head read on a connection that neither answered nor failed).
@Suite struct SharedReadsTests {
    @Test func aReadThatNeverEndsIsVisibleAndConcurrentRequestsShareOne() async throws {
        let queries = Atomic<Int>(0)
        let release = AsyncStream<Void>.makeStream()
        let reads = SharedReads {
            queries.add(1, ordering: .relaxed)
            for await _ in release.stream { break }
            return 42
        }
        #expect(reads.runningSince == nil)
        let first = Task { try await reads.read() }
        // The first read begins and then does not end. (Other suites run beside this one and can
        // keep the cooperative threads busy for many seconds: wait as long as it takes, to a limit.)
        let limit = ContinuousClock.now + .seconds(300)
        while queries.load(ordering: .relaxed) == 0, ContinuousClock.now < limit { try await Task.sleep(for: .milliseconds(10)) }
        #expect(queries.load(ordering: .relaxed) == 1)
        let since = try #require(reads.runningSince)
        // A second request waits behind it rather than starting a query of its own.
        let second = Task { try await reads.read() }
        try await Task.sleep(for: .milliseconds(50))
        #expect(queries.load(ordering: .relaxed) == 1)
        #expect(reads.runningSince == since)
        release.continuation.yield()
        release.continuation.finish()
        #expect(try await first.value == 42)
        #expect(try await second.value == 42)
        #expect(reads.runningSince == nil)
    }
}
