import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LocalityCore
import LocalitySyncServer
import Logging
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A raw TCP connection to the server, for clients that misbehave on purpose.
final class RawConnection {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw LocalityError.invalidInput("cannot connect to port \(port)") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
    }

    /// The first bytes of the server's answer.
    func answer() -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
    }

    /// Whether the server has closed the connection (a read returns end of file or a reset).
    func isClosedByServer() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }
}

@Suite("Hostile use of the server: half requests, floods, guessing, control characters, odd requests")
struct HostileUseTests {
    @Test func unknownRoutesAre404WhateverTheirHeaders() async throws {
        try await TestServer().run { client in
            // "/" is the public index of places; everything else unknown is a 404.
            for path in ["/places", "/nope", "/v1/nothing", "/v2/sync/pull"] {
                let response = try await client.send(.get, path, version: nil)
                #expect(response.status == .notFound, "\(path)")
                #expect(try client.errorCode(response) == "not_found")
            }
        }
    }

    /// An empty server says it has no council yet, and how to set one up; a set-up one names it.
    @Test func healthSaysWhetherACouncilIsSetUp() async throws {
        let store = try SQLiteSyncStore.inMemory()
        let app = buildApplication(store: store, configuration: ServerConfiguration(), logger: Logger(label: "test"))
        try await app.test(.router) { raw in
            let client = TestServer.Client(client: raw)
            let empty = try await client.send(.get, "/v1/health", version: nil)
            let body = String(buffer: empty.body)
            #expect(empty.status == .ok && body.contains("\"council\":null") && body.contains("council init"))
            _ = try store.initialiseCouncil(name: "Shropshire Council", orgId: nil, gss: "E06000051", now: Date())
            let named = try await client.send(.get, "/v1/health", version: nil)
            #expect(String(buffer: named.body).contains("\"council\":\"Shropshire Council\""))
        }
    }

    @Test(arguments: [0, -1])
    func aSequenceBelowOneIsABadRequestNotAConflict(sequence: Int64) async throws {
        try await TestServer().run { client in
            let device = try TestDevice("cllr-north")
            let token = try await client.login("cllr-north", device: device.id)
            try device.recordNeed(in: "brockton-heath")
            var mutation = try #require(try device.replica.outbox().first)
            mutation.sequence = sequence
            let response = try await client.push([mutation], device: device.id, token: token)
            #expect(response.status == .badRequest)
            #expect(try client.decode(ErrorBody.self, response).error.message.contains("start at 1"))
        }
    }

    @Test func anUnknownMutationIsNamedInWords() async throws {
        try await TestServer().run { client in
            let device = try TestDevice("cllr-north")
            let token = try await client.login("cllr-north", device: device.id)
            try device.recordNeed(in: "brockton-heath")
            let mutation = try #require(try device.replica.outbox().first)
            var text = String(decoding: try client.json(PushRequest(deviceId: device.id, mutations: [mutation])), as: UTF8.self)
            text = text.replacingOccurrences(of: "need.record", with: "need.explode")
            let response = try await client.send(.post, "/v1/sync/push", token: token, body: Data(text.utf8))
            #expect(response.status == .badRequest)
            let message = try client.decode(ErrorBody.self, response).error.message
            #expect(message.contains("'need.explode' is not a mutation this server knows"))
            #expect(!message.contains("Cannot initialize"))
        }
    }

    @Test func guessingFromOneAddressIsSlowedWhicheverUsernamesItTries() async throws {
        let store = try TestServer().store
        let app = buildApplication(
            store: store, configuration: ServerConfiguration(loginLimit: LoginLimit(failures: 3, window: 60)), logger: Logger(label: "test"))
        try await app.test(.router) { raw in
            let client = TestServer.Client(client: raw)
            for name in ["mayor", "clerk", "treasurer"] {
                let response = try await client.send(
                    .post, "/v1/auth/login", body: try client.json(LoginRequest(username: name, password: "guess", deviceId: UUID())))
                #expect(response.status == .unauthorized)
            }
            // Even the right password waits now: the address has used up its guesses.
            let limited = try await client.send(
                .post, "/v1/auth/login",
                body: try client.json(LoginRequest(username: "officer", password: DemoCouncil.password, deviceId: UUID())))
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 > 0)
            #expect(try client.errorCode(limited) == "rate_limited")
        }
    }

    @Test func controlCharactersAreRefusedOnTheDeviceAndByTheServer() async throws {
        let device = try TestDevice("cllr-north")
        for hostile in ["Ford \u{1B}[2J floods", "Bell\u{07}", "gnidoolf \u{202E}reversed", "carriage\rreturn", "C1 \u{9B} CSI"] {
            refused(.invalidInput, containing: "control character") { try device.recordNeed(in: "brockton-heath", title: hostile) }
        }
        // Ordinary Unicode is anyone's: Welsh, accents, emoji.
        try device.recordNeed(in: "brockton-heath", title: "Llwybr troed ŵyn — café 🚌")
        // A hostile client that skips its own checks meets the server's.
        try await TestServer().run { client in
            let token = try await client.login("cllr-north", device: device.id)
            var mutation = try #require(try device.replica.outbox().first)
            guard case .object(var arguments) = mutation.arguments else { Issue.record("arguments are not an object"); return }
            arguments["title"] = .string("Ford \u{1B}]0;pwned\u{07} floods")
            mutation.arguments = .object(arguments)
            let response = try await client.push([mutation], device: device.id, token: token)
            let result = try client.decode(PushResponse.self, response).results.first
            #expect(result?.outcome == .rejected)
            #expect(result?.error?.message.contains("'title' of need.record holds a control character (U+001B)") == true)
        }
    }

    @Test func textFromDataIsMadeSafeForTheTerminal() {
        #expect(TerminalText.safe("a\u{1B}[31mred") == "a<U+001B>[31mred")
        #expect(TerminalText.safe("\u{202E}evil") == "<U+202E>evil")
        #expect(TerminalText.safe("Llanfair ŵ 🚌\nnext line\tand tab") == "Llanfair ŵ 🚌\nnext line\tand tab")
    }

    @Test func usernamesAreOneAccountWhateverTheirCapitals() async throws {
        let store = try TestServer().store
        #expect(throws: LocalityError.self) {
            try store.addAccount(
                NewAccount(
                    username: "Cllr-North", displayName: "", role: .councillor, localities: ["brockton-ward"], organisations: [],
                    passwordHash: Passwords.hash("another-password", cost: 4)),
                now: Date())
        }
        let outcome = try await store.login(
            LoginRequest(username: "CLLR-NORTH", password: DemoCouncil.password, deviceId: UUID()), token: "t", now: Date())
        guard case .success(let login) = outcome else { Issue.record("login with other capitals failed"); return }
        #expect(login.username == "cllr-north")
    }

    /// Half a request, then silence; and more connections than the server allows. Against a real
    /// socket, with short limits so the test is quick.
    @Test func halfRequestsTimeOutAndConnectionsAreLimited() async throws {
        let store = try SQLiteSyncStore.inMemory()
        let limits = ConnectionLimits(
            headerTimeout: .milliseconds(300), bodyTimeout: .milliseconds(300), idleTimeout: .seconds(5), maxConnections: 6)
        let app = buildApplication(
            store: store, configuration: ServerConfiguration(port: 0, connections: limits), logger: Logger(label: "test"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // A head that never ends.
            let slowHead = try RawConnection(port: port)
            slowHead.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n")
            // A body that never comes.
            let slowBody = try RawConnection(port: port)
            slowBody.send("POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nLocality-Protocol: 1\r\nContent-Length: 500\r\n\r\n{\"user")
            let started = ContinuousClock.now
            #expect(slowHead.isClosedByServer())
            #expect(slowBody.isClosedByServer())
            #expect(ContinuousClock.now - started < .seconds(3))

            // Six held open; the seventh is closed at once.
            var held: [RawConnection] = []
            for _ in 0..<6 { held.append(try RawConnection(port: port)) }
            try await Task.sleep(for: .milliseconds(50))
            let extra = try RawConnection(port: port)
            #expect(extra.isClosedByServer())
            held.removeAll()
            // Once they are gone (the server notices within moments), it answers again.
            var answered = false
            for _ in 0..<50 where !answered {
                try await Task.sleep(for: .milliseconds(100))
                let fresh = try RawConnection(port: port)
                fresh.send("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
                answered = fresh.answer().hasPrefix("HTTP/1.1 200")
            }
            #expect(answered)
        }
    }
}
