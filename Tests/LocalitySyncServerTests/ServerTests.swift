import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LocalityCore
import LocalitySyncServer
import Logging
import Testing

/// A demo server in memory and the router driven without sockets.
struct TestServer {
    let store: SQLiteSyncStore

    init() throws {
        store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
    }

    func run(_ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        let app = buildApplication(
            store: store, configuration: ServerConfiguration(maxBodyBytes: 64 * 1024), logger: Logger(label: "test"))
        try await app.test(.router) { client in try await body(Client(client: client)) }
    }

    struct Client: Sendable {
        let client: any TestClientProtocol

        func send(
            _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, body: Data? = nil,
            version: String? = String(SyncProtocol.version), headers extra: HTTPFields = [:]
        ) async throws -> TestResponse {
            var headers: HTTPFields = [.contentType: "application/json"]
            headers.append(contentsOf: extra)
            if let version { headers[HTTPField.Name(SyncProtocol.versionHeader)!] = version }
            if let token { headers[.authorization] = "Bearer \(token)" }
            return try await client.execute(
                uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
        }

        func json<T: Encodable>(_ value: T) throws -> Data { try JSONCoding.encoder.encode(value) }

        func login(_ username: String, device: UUID, password: String = DemoCouncil.password) async throws -> String {
            let response = try await send(
                .post, "/v1/auth/login",
                body: try json(LoginRequest(username: username, password: password, deviceId: device)))
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            return try decode(LoginResponse.self, response).token
        }

        func push(_ mutations: [Mutation], device: UUID, token: String) async throws -> TestResponse {
            try await send(.post, "/v1/sync/push", token: token, body: try json(PushRequest(deviceId: device, mutations: mutations)))
        }

        func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
            try JSONCoding.decode(T.self, from: Data(response.body.readableBytesView))
        }

        func errorCode(_ response: TestResponse) throws -> String {
            try decode(ErrorBody.self, response).error.code.rawValue
        }
    }
}

/// A device: a demo replica acting as `username`, whose outbox is what it pushes.
struct TestDevice {
    let replica: Replica
    let id: UUID

    init(_ username: String) throws {
        replica = try Replica.inMemory()
        try replica.initialiseDemo(as: username)
        id = try replica.whoami().deviceId
    }

    func recordNeed(in slug: String, title: String = "Verges not cut") throws {
        try replica.perform(RecordNeed(needId: replica.newID(), localityId: UUID.stable("demo:locality:" + slug), title: title))
    }
}

@Suite("The sync server over HTTP")
struct ServerTests {
    @Test func healthNeedsNoVersionOrToken() async throws {
        try await TestServer().run { client in
            let response = try await client.send(.get, "/v1/health", version: nil)
            #expect(response.status == .ok)
        }
    }

    @Test func requestsMustStateASupportedProtocolVersion() async throws {
        try await TestServer().run { client in
            let missing = try await client.send(.get, "/v1/sync/pull", version: nil)
            #expect(missing.status == .badRequest)
            #expect(try client.errorCode(missing) == "unsupported_protocol_version")
            let future = try await client.send(.get, "/v1/sync/pull", version: "99")
            #expect(future.status == .upgradeRequired)
            #expect(try client.decode(ErrorBody.self, future).error.message.contains("update Locality"))
        }
    }

    @Test func loginChecksThePasswordAndTokensWorkUntilLogout() async throws {
        try await TestServer().run { client in
            let device = UUID()
            let wrong = try await client.send(
                .post, "/v1/auth/login",
                body: try client.json(LoginRequest(username: "cllr-north", password: "guess", deviceId: device)))
            #expect(wrong.status == .unauthorized)
            #expect(try client.errorCode(wrong) == "unauthenticated")
            let nobody = try await client.send(
                .post, "/v1/auth/login",
                body: try client.json(LoginRequest(username: "mayor", password: "x", deviceId: device)))
            #expect(nobody.status == .unauthorized)

            let token = try await client.login("cllr-north", device: device)
            #expect(try await client.send(.get, "/v1/sync/pull", token: token).status == .ok)
            #expect(try await client.send(.post, "/v1/auth/logout", token: token).status == .ok)
            let after = try await client.send(.get, "/v1/sync/pull", token: token)
            #expect(after.status == .unauthorized)
            #expect(try await client.send(.get, "/v1/sync/pull", token: "made-up").status == .unauthorized)
            #expect(try await client.send(.get, "/v1/sync/pull").status == .unauthorized)
        }
    }

    @Test func aRetriedPushAppliesNothingTwiceAndRejectionsDoNotBlock() async throws {
        let server = try TestServer()
        let device = try TestDevice("cllr-north")
        try device.recordNeed(in: "brockton", title: "First")
        // Recorded on the device by a councillor for the wrong ward: forged here by changing the
        // mutation's locality, as a modified client could.
        try device.recordNeed(in: "ashby-parva", title: "Second")
        try device.recordNeed(in: "whitmere-town", title: "Third")
        var mutations = try device.replica.outbox()
        if case .object(var arguments) = mutations[1].arguments {
            arguments["localityId"] = .string(UUID.stable("demo:locality:clunbury").uuidString)
            mutations[1].arguments = .object(arguments)
        }
        let batch = mutations
        try await server.run { client in
            let token = try await client.login("cllr-north", device: device.id)
            let first = try client.decode(PushResponse.self, try await client.push(batch, device: device.id, token: token))
            #expect(first.results.map(\.outcome) == [.applied, .rejected, .applied])
            #expect(first.results[1].error?.code == .forbidden)
            #expect(first.results[1].error?.message.contains("outside your wards") == true)
            #expect(first.lastAppliedSequence == 3)

            // The response was lost; the device sends the same batch again.
            let again = try client.decode(PushResponse.self, try await client.push(batch, device: device.id, token: token))
            #expect(again.results == first.results)

            // A gap is refused.
            var skipped = batch[2]
            skipped.sequence = 5
            let gap = try await client.push([skipped], device: device.id, token: token)
            #expect(gap.status == .conflict)
            #expect(try client.errorCode(gap) == "sequence_gap")
        }
        let needs = try await server.store.database.read { db in
            try String.fetchAll(db, sql: "SELECT title FROM need WHERE title IN ('First', 'Second', 'Third') ORDER BY title")
        }
        #expect(needs == ["First", "Third"])
    }

    @Test func hostileMutationsAreRefusedWithAReasonOrStoredAsPlainText() async throws {
        let server = try TestServer()
        let device = try TestDevice("clerk-north")
        try device.replica.perform(
            DraftProposal(
                proposalId: device.replica.newID(), budgetId: UUID.stable("demo:budget:north-2026-27"),
                organisationId: UUID.stable("demo:organisation:whitmere-town-council"),
                localityId: UUID.stable("demo:locality:whitmere-town"), title: "Robert'); DROP TABLE proposal; --",
                amountRequested: Money(pence: 100)))
        let template = try device.replica.outbox()[0]
        func forged(_ sequence: Int64, _ change: (inout [String: JSONValue]) -> Void) -> Mutation {
            var mutation = template
            mutation.sequence = sequence
            mutation.id = UUID()
            if case .object(var arguments) = mutation.arguments {
                change(&arguments)
                arguments["proposalId"] = .string(UUID().uuidString)
                mutation.arguments = .object(arguments)
            }
            return mutation
        }
        let batch = [
            template,  // SQL in a title is only text
            forged(2) { $0["amountRequested"] = .int(-5_000) },
            forged(3) { $0["amountRequested"] = .double(1e30) },
            forged(4) { $0["amountRequested"] = .int(Int64.max) },
            forged(5) { $0["title"] = .string(String(repeating: "x", count: 10_000)) },
            forged(6) { $0["budgetId"] = .string("'; DELETE FROM budget; --") },
            forged(7) { $0["smuggled"] = .string("unknown fields are ignored"); $0["title"] = .string("Fine") },
        ]
        try await server.run { client in
            let token = try await client.login("clerk-north", device: device.id)
            let response = try client.decode(PushResponse.self, try await client.push(batch, device: device.id, token: token))
            #expect(response.results.map(\.outcome) == [.applied, .rejected, .rejected, .rejected, .rejected, .rejected, .applied])
            for result in response.results.dropFirst().dropLast() {
                #expect(result.error?.code == .invalidInput, "\(result.sequence): \(result.error?.message ?? "")")
                #expect(result.error?.message.isEmpty == false)
            }
        }
        let (titles, budgets) = try await server.store.database.read { db in
            (try String.fetchAll(db, sql: "SELECT title FROM proposal ORDER BY title"), try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM budget"))
        }
        #expect(titles.filter { !DemoCouncil.cycleProposalTitles.contains($0) } == ["Fine", "Robert'); DROP TABLE proposal; --"])
        #expect(budgets == 3)  // the demo's: the two area funds and the GP transport commission's
    }

    @Test func aDeviceMayPushOnlyItsOwnMutations() async throws {
        let server = try TestServer()
        let north = try TestDevice("cllr-north")
        try north.recordNeed(in: "brockton")
        let stolen = try north.replica.outbox()
        try await server.run { client in
            let otherDevice = UUID()
            let token = try await client.login("cllr-south", device: otherDevice)
            let wrongDevice = try await client.push(stolen, device: north.id, token: token)
            #expect(wrongDevice.status == .forbidden)
            // Claiming to be its own device, but the mutation names another device and actor.
            let response = try client.decode(PushResponse.self, try await client.push(stolen, device: otherDevice, token: token))
            #expect(response.results.first?.outcome == .rejected)
            #expect(response.results.first?.error?.code == .forbidden)
        }
    }

    @Test func pullIsScopedAndPagedByTheChangeSequence() async throws {
        let server = try TestServer()
        let south = try TestDevice("clerk-south")
        try south.replica.perform({
            var draft = DraftProposal(
                proposalId: south.replica.newID(), budgetId: UUID.stable("demo:budget:south-2026-27"),
                organisationId: UUID.stable("demo:organisation:clunbury-parish-council"),
                localityId: UUID.stable("demo:locality:clunbury"), title: "Secret draft", amountRequested: Money(pence: 90_000))
            draft.summary = "Not yet shared"
            return draft
        }())
        let draftPush = try south.replica.outbox()
        try await server.run { client in
            let southToken = try await client.login("clerk-south", device: south.id)
            #expect(try await client.push(draftPush, device: south.id, token: southToken).status == .ok)

            func everything(_ token: String) async throws -> [RowChange] {
                var cursor: Int64 = 0
                var changes: [RowChange] = []
                var pages = 0
                while true {
                    let page = try client.decode(
                        PullResponse.self, try await client.send(.get, "/v1/sync/pull?cursor=\(cursor)&limit=7", token: token))
                    changes += page.changes
                    cursor = page.cursor
                    pages += 1
                    if !page.more { break }
                }
                #expect(pages > 1)
                return changes
            }
            let northToken = try await client.login("clerk-north", device: UUID())
            let seenByNorth = try await everything(northToken)
            #expect(seenByNorth.contains { $0.table == "locality" && $0.row?["slug"] == .string("clunbury") })
            #expect(!seenByNorth.contains { $0.table == "proposal" && $0.row?["status"] == .string("draft") }, "another organisation's draft leaked")
            let seenBySouth = try await everything(southToken)
            #expect(seenBySouth.contains { $0.table == "proposal" && $0.row?["title"] == .string("Secret draft") })
            #expect(seenBySouth.map(\.sequence) == seenBySouth.map(\.sequence).sorted())
        }
    }

    @Test func largePullsAreCompressedForClientsThatAskSmallOnesAreNot() async throws {
        let server = try TestServer()
        try await server.run { client in
            let token = try await client.login("officer", device: UUID())
            let plain = try await client.send(.get, "/v1/sync/pull?cursor=0&limit=200", token: token)
            let gzip = try await client.send(
                .get, "/v1/sync/pull?cursor=0&limit=200", token: token, headers: [.acceptEncoding: "gzip, deflate"])
            #expect(plain.headers[.contentEncoding] == nil)
            #expect(gzip.headers[.contentEncoding] == "gzip")
            let inflated = try Gzip.decompress(Array(gzip.body.readableBytesView))
            // The same page (member order within an object is not significant on the wire).
            #expect(try JSONParser.parse(inflated) == JSONParser.parse(Array(plain.body.readableBytesView)))
            #expect(gzip.body.readableBytes * 3 < plain.body.readableBytes, "\(gzip.body.readableBytes) of \(plain.body.readableBytes) bytes")
            // A page too small to be worth it, and a client that refuses gzip, get plain JSON.
            let small = try await client.send(
                .get, "/v1/sync/pull?cursor=0&limit=1", token: token, headers: [.acceptEncoding: "gzip"])
            #expect(small.headers[.contentEncoding] == nil)
            let refused = try await client.send(
                .get, "/v1/sync/pull?cursor=0&limit=200", token: token, headers: [.acceptEncoding: "gzip;q=0, identity"])
            #expect(refused.headers[.contentEncoding] == nil)
        }
        // A damaged stream is refused, not half-read.
        let packed = try Gzip.compress(Array("{\"changes\": []}".utf8))
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Array(packed.prefix(packed.count - 6))) }
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Array("not gzip".utf8)) }
    }

    @Test func badRequestsGetAClearFourHundredAndChangeNothing() async throws {
        let server = try TestServer()
        try await server.run { client in
            let device = UUID()
            let token = try await client.login("officer", device: device)
            let bodies: [(String, HTTPResponse.Status)] = [
                ("{", .badRequest),
                ("{\"deviceId\": \"\(device.uuidString)\"}", .badRequest),
                ("{\"deviceId\": 12, \"mutations\": []}", .badRequest),
                ("{\"deviceId\": \"\(device.uuidString)\", \"mutations\": [{\"name\": \"need.destroy\"}]}", .badRequest),
                ("'; DROP TABLE need; --", .badRequest),
                (String(repeating: "x", count: 70 * 1024), .contentTooLarge),
            ]
            for (body, status) in bodies {
                let response = try await client.send(.post, "/v1/sync/push", token: token, body: Data(body.utf8))
                #expect(response.status == status, "\(body.prefix(60))")
                #expect((try? client.decode(ErrorBody.self, response)) != nil, "no JSON error body for \(body.prefix(60))")
            }
            for query in ["cursor=-1", "cursor=abc", "limit=0", "limit=100000", "cursor=99999999999999999999"] {
                let response = try await client.send(.get, "/v1/sync/pull?\(query)", token: token)
                #expect(response.status == .badRequest, "\(query)")
            }
        }
        let count = try await server.store.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM need") }
        #expect(count == 3)  // the demo's own
    }
}
