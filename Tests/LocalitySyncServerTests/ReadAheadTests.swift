import Foundation
import HTTPTypes
import LocalityCore
import Testing

@testable import LocalitySyncServer

@Suite("Pages read ahead for a device catching up")
struct ReadAheadTests {
    /// Every page of an officer's first sync, through the API, in small pages.
    private func pages(_ client: TestServer.Client, token: String, limit: Int) async throws -> [PullResponse] {
        var pages: [PullResponse] = []
        var cursor: Int64 = 0
        while true {
            let response = try await client.send(.get, "/v1/sync/pull?cursor=\(cursor)&limit=\(limit)", token: token)
            #expect(response.status == .ok)
            let page = try client.decode(PullResponse.self, response)
            pages.append(page)
            cursor = page.cursor
            if !page.more { return pages }
        }
    }

    @Test func aDeviceCatchingUpReceivesWhatTheStoreGivesPageByPage() async throws {
        let server = try TestServer()
        let device = UUID()
        try await server.run { client in
            let token = try await client.login("officer", device: device)
            let served = try await pages(client, token: token, limit: 7)
            #expect(served.count > 3, "the demo feed should take several pages of 7")
            // The same walk straight from the store, with nothing read ahead.
            guard let session = try await server.store.authenticate(token: token, now: Date()) else {
                Issue.record("the token should authenticate")
                return
            }
            var cursor: Int64 = 0
            for page in served {
                let direct = try await server.store.pull(after: cursor, limit: 7, for: session)
                #expect(page.changes == direct.changes && page.cursor == direct.cursor && page.more == direct.more)
                #expect(page.maxLimit == SyncProtocol.maxPullLimit)
                cursor = page.cursor
            }
        }
    }

    @Test func aDeviceRevokedAfterItsNextPageWasReadIsRefused() async throws {
        let server = try TestServer()
        let device = UUID()
        try await server.run { client in
            let token = try await client.login("officer", device: device)
            let first = try client.decode(
                PullResponse.self, try await client.send(.get, "/v1/sync/pull?cursor=0&limit=5", token: token))
            #expect(first.more)
            _ = try server.store.revokeDevice(device.key, now: Date())
            let next = try await client.send(.get, "/v1/sync/pull?cursor=\(first.cursor)&limit=5", token: token)
            #expect(next.status == .forbidden || next.status == .unauthorized)
            #expect(try client.errorCode(next) == LocalityError.Code.deviceRevoked.rawValue)
        }
    }

    /// A page read ahead before the device pushed is not served after it: it would say the server
    /// had applied less from the device than it had acknowledged, which a device starting a sync
    /// takes for a server restored from a backup.
    @Test func aPushDropsThePageReadAheadForItsDevice() async throws {
        let server = try TestServer()
        let device = try TestDevice("officer")
        try await server.run { client in
            let token = try await client.login("officer", device: device.id)
            let first = try client.decode(PullResponse.self, try await client.send(.get, "/v1/sync/pull?cursor=0&limit=5", token: token))
            #expect(first.more && first.applied == 0)
            try device.replica.perform(RecordNeed(needId: device.replica.newID(), localityId: UUID.stable("demo:locality:brockton"), title: "Pushed between pages"))
            let pushed = try await client.push(try device.replica.outbox(), device: device.id, token: token)
            #expect(pushed.status == .ok)
            let next = try client.decode(
                PullResponse.self, try await client.send(.get, "/v1/sync/pull?cursor=\(first.cursor)&limit=5", token: token))
            #expect(next.applied == 1, "a page read before the push was served after it")
        }
    }

    @Test func aPageIsTakenOnceAndOnlyForTheRequestItWasReadFor() async throws {
        let ahead = ReadAhead(capacity: 2, lifetime: .seconds(30))
        let session = Session(deviceId: UUID(), personId: UUID(), username: "officer")
        let page = PullResponse(changes: [], cursor: 40, more: true)
        ahead.start(token: "a", session: session, cursor: 20, limit: 10) { page }
        #expect(await ahead.take(token: "a", session: session, cursor: 20, limit: 10)?.cursor == 40)
        #expect(await ahead.take(token: "a", session: session, cursor: 20, limit: 10) == nil, "taken once")
        // Another cursor, limit or person: not this page (and it is dropped).
        ahead.start(token: "a", session: session, cursor: 20, limit: 10) { page }
        #expect(await ahead.take(token: "a", session: session, cursor: 21, limit: 10) == nil)
        #expect(ahead.count == 0)
        ahead.start(token: "a", session: session, cursor: 20, limit: 10) { page }
        #expect(await ahead.take(token: "a", session: session, cursor: 20, limit: 11) == nil)
        ahead.start(token: "a", session: session, cursor: 20, limit: 10) { page }
        var someoneElse = session
        someoneElse.personId = UUID()
        #expect(await ahead.take(token: "a", session: someoneElse, cursor: 20, limit: 10) == nil)
        // A read that failed is no page: the caller reads again.
        ahead.start(token: "b", session: session, cursor: 0, limit: 10) { throw LocalityError(.unavailable, "down a moment") }
        #expect(await ahead.take(token: "b", session: session, cursor: 0, limit: 10) == nil)
        // At most `capacity` wait: the oldest goes first.
        for token in ["c", "d", "e"] { ahead.start(token: token, session: session, cursor: 0, limit: 10) { page } }
        #expect(ahead.count == 2 && !ahead.holds(token: "c") && ahead.holds(token: "d") && ahead.holds(token: "e"))
        // Unclaimed past its lifetime: not served.
        let brief = ReadAhead(capacity: 2, lifetime: .milliseconds(1))
        brief.start(token: "a", session: session, cursor: 0, limit: 10) { page }
        try await Task.sleep(for: .milliseconds(20))
        #expect(await brief.take(token: "a", session: session, cursor: 0, limit: 10) == nil)
    }

    /// A page nobody comes for is let go once its lifetime has passed, though no other device pulls
    /// meanwhile: a device that went away leaves nothing held in memory.
    @Test func anUnclaimedPageIsLetGoAfterItsLifetime() async throws {
        let ahead = ReadAhead(capacity: 4, lifetime: .milliseconds(100))
        let session = Session(deviceId: UUID(), personId: UUID(), username: "officer")
        ahead.start(token: "gone", session: session, cursor: 0, limit: 10) { PullResponse(changes: [], cursor: 10, more: true) }
        #expect(ahead.holds(token: "gone"))
        let clock = ContinuousClock()
        let started = clock.now
        // Long enough for a machine running every other suite at once: a page never let go fails it.
        while ahead.count > 0, clock.now - started < .seconds(60) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(ahead.count == 0, "the unclaimed page is still held")
        #expect(clock.now - started >= .milliseconds(90), "let go before its lifetime had passed")
        // A page read again for the same device is not let go by the earlier page's timer.
        let second = ReadAhead(capacity: 4, lifetime: .seconds(1))
        second.start(token: "again", session: session, cursor: 0, limit: 10) { PullResponse(changes: [], cursor: 10, more: true) }
        try await Task.sleep(for: .milliseconds(500))
        let restarted = clock.now
        second.start(token: "again", session: session, cursor: 10, limit: 10) { PullResponse(changes: [], cursor: 20, more: true) }
        try await Task.sleep(for: .milliseconds(750))
        let held = second.holds(token: "again")
        // Only if the newer page's own lifetime has not passed meanwhile (a very slow machine) does this say anything.
        if clock.now - restarted < .milliseconds(950) {
            #expect(held, "the newer page was let go by the older one's timer")
        }
    }
}
