import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LocalityCore
import LocalitySyncServer
import Logging
import Synchronization
import Testing

/// What an operator watches: metrics behind a token, a request id everywhere, readiness, and
/// logs that never hold a secret.
@Suite("Observability: metrics, request ids, readiness, logs without secrets")
struct ObservabilityTests {
    final class Lines: Sendable {
        let all = Mutex<[String]>([])
        func add(_ line: String) { all.withLock { $0.append(line) } }
        var text: String { all.withLock { $0.joined(separator: "\n") } }
    }

    static let metricsToken = "metrics-token-0123456789"

    private func run(
        _ store: SQLiteSyncStore, lines: Lines, _ body: @escaping @Sendable (TestServer.Client) async throws -> Void
    ) async throws {
        var logger = Logger(label: "test") { label in JSONLogHandler(label: label, write: { lines.add($0) }) }
        logger.logLevel = .trace
        let app = buildApplication(
            store: store, configuration: ServerConfiguration(maxBodyBytes: 64 * 1024, metricsToken: Self.metricsToken), logger: logger)
        try await app.test(.router) { client in try await body(TestServer.Client(client: client)) }
    }

    @Test func noPasswordTokenActivationCodeOrVoterCodeIsEverLogged() async throws {
        let server = try TestServer()
        let issued = try server.store.addAccountsForActivation(
            [(nil, NewAccount(username: "cllr-new", displayName: "Cllr New", role: .councillor, localities: ["brockton-ward"], organisations: [], passwordHash: ""))],
            days: 14, now: Date(), dryRun: false)
        let code = issued[0].code
        let chosen = "a-secret-passphrase-2026"
        let lines = Lines()
        let secrets = Mutex<[String]>([DemoCouncil.password, code, chosen, "wrong-password-xyz", "VOTER-SECRET-77"])
        try await run(server.store, lines: lines) { client in
            let device = UUID()
            let token = try await client.login("cllr-south", device: device)
            _ = try await client.send(
                .post, "/v1/auth/login", body: try client.json(LoginRequest(username: "officer", password: "wrong-password-xyz", deviceId: UUID())))
            let activated = try await client.send(
                .post, "/v1/auth/activate",
                body: try client.json(ActivateRequest(username: "cllr-new", code: code, password: chosen, deviceId: UUID())))
            #expect(activated.status == .ok)
            let newToken = try client.decode(LoginResponse.self, activated).token
            // A paper ballot with its voter's code, refused or not: the code must not be logged.
            let ballot = Mutation(
                id: UUID(), deviceId: device, sequence: 1, hlc: HLCTimestamp(wallMillis: Int64(Date().timeIntervalSince1970 * 1000), counter: 0, node: "t"),
                name: .ballotCast, actorId: DemoCouncil.personID("cllr-south"), createdAt: Date(),
                arguments: try JSONValue(encoding: CastBallot(
                    ballotId: UUID(), voteId: UUID(), proposalIds: [UUID()], paperSerial: "0042", voterCode: "VOTER-SECRET-77")))
            _ = try await client.push([ballot], device: device, token: token)
            _ = try await client.send(.get, "/v1/sync/pull?cursor=0", token: newToken)
            _ = try await client.send(.get, "/v1/sync/pull?cursor=0", token: "not-a-real-token-but-secret-looking")
            secrets.withLock { $0 += [token, newToken, "not-a-real-token-but-secret-looking"] }
        }
        let log = lines.text
        #expect(log.contains("login") && log.contains("activated") && log.contains("push"), "the log should record what happened")
        for secret in secrets.withLock({ $0 }) {
            #expect(!log.contains(secret), "the log holds a secret: \(secret.prefix(6))…")
        }
    }

    @Test func metricsNeedTheTokenAndCountRequestsMutationsPullsAndLoginFailures() async throws {
        let server = try TestServer()
        try await run(server.store, lines: Lines()) { client in
            #expect(try await client.send(.get, "/metrics", version: nil).status == .unauthorized)
            #expect(try await client.send(.get, "/metrics", token: "wrong-token-0123456789", version: nil).status == .unauthorized)
            let device = UUID()
            let token = try await client.login("cllr-north", device: device)
            _ = try await client.send(.post, "/v1/auth/login", body: try client.json(LoginRequest(username: "cllr-north", password: "nope-nope-nope", deviceId: UUID())))
            let need = Mutation(
                id: UUID(), deviceId: device, sequence: 1, hlc: HLCTimestamp(wallMillis: Int64(Date().timeIntervalSince1970 * 1000), counter: 0, node: "t"),
                name: .needRecord, actorId: DemoCouncil.personID("cllr-north"), createdAt: Date(),
                arguments: try JSONValue(encoding: RecordNeed(needId: UUID(), localityId: UUID.stable("demo:locality:brockton"), title: "Potholes")))
            let outside = Mutation(
                id: UUID(), deviceId: device, sequence: 2, hlc: HLCTimestamp(wallMillis: Int64(Date().timeIntervalSince1970 * 1000), counter: 1, node: "t"),
                name: .needRecord, actorId: DemoCouncil.personID("cllr-north"), createdAt: Date(),
                arguments: try JSONValue(encoding: RecordNeed(needId: UUID(), localityId: UUID.stable("demo:locality:clunbury"), title: "Not my ward")))
            #expect(try await client.push([need, outside], device: device, token: token).status == .ok)
            _ = try await client.send(.get, "/v1/sync/pull?cursor=0", token: token)
            let scraped = try await client.send(.get, "/metrics", token: Self.metricsToken, version: nil)
            #expect(scraped.status == .ok)
            let text = String(buffer: scraped.body)
            for line in [
                #"locality_push_mutations_total{mutation="need.record",result="accepted"} 1"#,
                #"locality_push_mutations_total{mutation="need.record",result="forbidden"} 1"#,
                "locality_login_failures_total 1",
                #"locality_http_requests_total{route="/v1/sync/push",method="POST",status="200"} 1"#,
                "locality_devices_seen_5m_devices 1",
                "locality_audit_chain_intact 1",
                #"locality_build_info{version=""#,
            ] {
                #expect(text.contains(line), "missing \(line)")
            }
            #expect(text.contains("locality_pull_rows_total") && text.contains("locality_http_request_duration_seconds_bucket"))
        }
    }

    @Test func everyResponseCarriesARequestIdAndErrorsSayIt() async throws {
        let server = try TestServer()
        try await run(server.store, lines: Lines()) { client in
            let given = try await client.send(.get, "/v1/health", headers: [HTTPField.Name("X-Request-Id")!: "edge-42"])
            #expect(given.headers[HTTPField.Name("X-Request-Id")!] == "edge-42")
            let made = try await client.send(.get, "/v1/health")
            #expect((made.headers[HTTPField.Name("X-Request-Id")!]?.count ?? 0) == 36)
            let hostile = try await client.send(.get, "/v1/health", headers: [HTTPField.Name("X-Request-Id")!: "bad id\u{1B}[2J"])
            #expect(hostile.headers[HTTPField.Name("X-Request-Id")!] != "bad id\u{1B}[2J")
            let refused = try await client.send(.get, "/v1/sync/pull", token: "nope", headers: [HTTPField.Name("X-Request-Id")!: "trace-7"])
            #expect(refused.status == .unauthorized)
            #expect(try client.decode(ErrorBody.self, refused).requestId == "trace-7")
        }
    }

    @Test func readinessSaysWhatIsMissing() async throws {
        let empty = try SQLiteSyncStore.inMemory()
        try await run(empty, lines: Lines()) { client in
            let response = try await client.send(.get, "/v1/ready", version: nil)
            #expect(response.status == .serviceUnavailable && String(buffer: response.body).contains("no council is set up"))
        }
        let server = try TestServer()
        try await run(server.store, lines: Lines()) { client in
            let response = try await client.send(.get, "/v1/ready", version: nil)
            #expect(response.status == .ok)
        }
    }
}

@Suite("The OpenAPI document")
struct OpenAPIDocumentTests {
    @Test func theCopyInTheRepositoryIsTheOneTheServerServes() async throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text == OpenAPIDocument.document.yaml, "docs/openapi.yaml is stale: run `locality-sync openapi --yaml > docs/openapi.yaml`")
        let server = try TestServer()
        try await server.run { client in
            let response = try await client.send(.get, "/v1/openapi.json", version: nil)
            #expect(response.status == .ok)
            #expect(try JSONParser.parse(String(buffer: response.body)) == OpenAPIDocument.document)
        }
        // Every mutation's arguments are described.
        guard case .object(let document) = OpenAPIDocument.document, case .object(let components)? = document["components"],
            case .object(let schemas)? = components["schemas"]
        else { Issue.record("no schemas"); return }
        for name in MutationName.allCases { #expect(schemas["arguments." + name.rawValue] != nil, "\(name.rawValue)") }
    }
}
