import Foundation
import Hummingbird
import LocalityCore

/// The request handlers: parse, authenticate, call the store, encode.
struct SyncAPI<Store: SyncStore>: Sendable {
    let store: Store
    let maxBodyBytes: Int
    let logins: LoginThrottle
    let metrics: ServerMetrics
    let readAhead: ReadAhead

    /// Ready to serve: 200, or 503 with what is wrong (for a load balancer or an orchestrator).
    func ready() async throws -> Response {
        let problems = try await store.readiness()
        guard problems.isEmpty else {
            let bytes = try JSONCoding.encode(["status": "not ready", "problems": problems.joined(separator: "; ")])
            return Response(
                status: .serviceUnavailable, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        return try json(["status": "ready"])
    }

    /// The Prometheus text, for whoever holds the metrics token.
    func metrics(_ request: Request, token: String) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            Tokens.constantTimeEqual(String(header.dropFirst("Bearer ".count)), token)
        else {
            throw APIError(status: .unauthorized, LocalityError(.unauthenticated, "/metrics needs the operator's metrics token"))
        }
        let text = await metrics.exposition(store: store, now: Date())
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func health() async throws -> Response {
        try await store.checkHealth()
        guard let council = try await store.councilName() else {
            return try json([
                "status": "ok", "council": nil,
                "setup": "no council is set up yet: run `locality-sync council init`, then `localities import` (or serve --demo)",
            ])
        }
        return try json(["status": "ok", "council": council])
    }

    /// `429` with `Retry-After` when the request's address has used up its failed logins.
    private func throttled(_ request: Request, _ context: SyncRequestContext) throws -> Response? {
        let address = context.clientAddress
        guard let wait = logins.wait(for: address, now: Date()) else { return nil }
        context.logger.notice("login refused: too many failures from one address", metadata: ["sync.address": "\(address)"])
        var response = try APIError(
            status: .tooManyRequests,
            LocalityError(.rateLimited, "too many failed logins from this address; try again in \(wait) second\(wait == 1 ? "" : "s")")
        ).response(from: request, context: context)
        response.headers[.retryAfter] = String(wait)
        return response
    }

    func login(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let address = context.clientAddress
        if let refused = try throttled(request, context) { return refused }
        let body = try await decode(LoginRequest.self, from: request)
        guard !body.username.isEmpty, !body.password.isEmpty else {
            throw LocalityError.invalidInput("a username and a password are required")
        }
        switch try await store.login(body, token: Tokens.make(), now: Date()) {
        case .success(let response):
            logins.succeeded(from: address)
            context.logger.info("login", metadata: ["sync.user": "\(body.username)", "sync.device": "\(body.deviceId.key)"])
            return try json(response)
        case .failure(let failures):
            logins.failed(from: address, now: Date())
            // Slow down guessing: each failure in a row doubles the wait, up to eight seconds.
            let delay = min(0.25 * pow(2, Double(max(0, failures - 1))), 8)
            try await Task.sleep(for: .seconds(delay))
            metrics.loginFailed()
            context.logger.notice("login failed", metadata: ["sync.user": "\(body.username)", "sync.failures": "\(failures)"])
            throw APIError(status: .unauthorized, LocalityError(.unauthenticated, "wrong username or password"))
        }
    }

    /// A first login with an activation code; throttled with logins (a code is a password until used).
    func activate(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let address = context.clientAddress
        if let refused = try throttled(request, context) { return refused }
        let body = try await decode(ActivateRequest.self, from: request)
        guard !body.username.isEmpty, !body.code.isEmpty else { throw LocalityError.invalidInput("a username and an activation code are required") }
        switch try await store.activate(body, token: Tokens.make(), now: Date()) {
        case .success(let response):
            logins.succeeded(from: address)
            context.logger.info("activated", metadata: ["sync.user": "\(body.username)", "sync.device": "\(body.deviceId.key)"])
            return try json(response)
        case .failure(let failures):
            logins.failed(from: address, now: Date())
            try await Task.sleep(for: .seconds(min(0.25 * pow(2, Double(max(0, failures - 1))), 8)))
            metrics.loginFailed()
            context.logger.notice("activation failed", metadata: ["sync.user": "\(body.username)"])
            throw APIError(status: .unauthorized, LocalityError(.unauthenticated, "wrong username or activation code, or the code was used already"))
        }
    }

    func logout(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try await store.logout(try await session(request))
        return try json(["status": "logged out"])
    }

    func push(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let session = try await session(request)
        let body = try await decode(PushRequest.self, from: request)
        if let bad = body.mutations.first(where: { $0.sequence < 1 }) {
            throw LocalityError.invalidInput("mutation sequence numbers start at 1; this push carries \(bad.sequence)")
        }
        let response = try await store.push(body, from: session, now: Date())
        // Read before this push: no page for this device may be served any more.
        readAhead.drop(token: try bearerToken(request))
        // Counted per name and result, not per mutation: a batch is up to 2,000 of them.
        let names = Dictionary(body.mutations.map { ($0.sequence, $0.name.rawValue) }, uniquingKeysWith: { first, _ in first })
        var counts: [MutationCount: Int] = [:]
        for result in response.results {
            let outcome = result.outcome == .rejected ? (result.error?.code.rawValue ?? "rejected") : "accepted"
            counts[MutationCount(name: names[result.sequence] ?? "unknown", result: outcome), default: 0] += 1
        }
        for (key, count) in counts { metrics.mutations(key.name, result: key.result, count: count) }
        context.logger.info(
            "push",
            metadata: [
                "sync.device": "\(session.deviceId.key)", "sync.received": "\(body.mutations.count)",
                "sync.rejected": "\(response.results.filter { $0.outcome == .rejected }.count)",
            ])
        return try json(response)
    }

    func pull(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let token = try bearerToken(request)
        let parameters = request.uri.queryParameters
        let cursor = try integer(parameters.get("cursor"), name: "cursor", default: 0, range: 0...Int64.max)
        let limit = try integer(
            parameters.get("limit"), name: "limit", default: Int64(SyncProtocol.defaultPullLimit),
            range: 1...Int64(SyncProtocol.maxPullLimit))
        let shape = try PageShape(parsing: parameters.get("shape"))
        let now = Date()
        let session: Session
        var page: PullResponse
        if readAhead.holds(token: token) {
            // Authenticated afresh before anything read ahead is served; then read once, either way.
            guard let known = try await store.authenticate(token: token, now: now) else { throw try await refused(token) }
            session = known
            if let ready = await readAhead.take(token: token, session: known, cursor: cursor, limit: Int(limit)) {
                page = ready
            } else {
                page = try await store.pull(after: cursor, limit: Int(limit), for: known)
            }
        } else {
            guard let (known, read) = try await store.pull(after: cursor, limit: Int(limit), token: token, now: now) else {
                throw try await refused(token)
            }
            (session, page) = (known, read)
        }
        if page.more {
            // A device catching up asks for the next page as soon as it has this one: read it now.
            let (store, next, limit) = (store, page.cursor, Int(limit))
            readAhead.start(token: token, session: session, cursor: next, limit: limit) {
                try await store.pull(after: next, limit: limit, for: session)
            }
        }
        page.maxLimit = SyncProtocol.maxPullLimit
        if shape == .columns { page = page.inColumns() }
        metrics.saw(device: session.deviceId, at: now)
        let response = try json(page, compressing: Self.acceptsGzip(request))
        metrics.pulled(rows: page.changes.count, bytes: response.body.contentLength ?? 0)
        return response
    }

    /// Pages smaller than this go as they are: compressing them saves less than it costs.
    static var compressionThreshold: Int { 4 * 1024 }

    static func acceptsGzip(_ request: Request) -> Bool {
        guard let header = request.headers[.acceptEncoding] else { return false }
        return header.split(separator: ",").contains { part in
            let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            return fields.first == "gzip" && !fields.dropFirst().contains("q=0")
        }
    }

    // MARK: Helpers

    private func session(_ request: Request) async throws -> Session {
        let token = try bearerToken(request)
        guard let session = try await store.authenticate(token: token, now: Date()).map({ session in
            metrics.saw(device: session.deviceId, at: Date())
            return session
        }) else {
            throw try await refused(token)
        }
        return session
    }

    private func bearerToken(_ request: Request) throws -> String {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            case let token = String(header.dropFirst("Bearer ".count)), !token.isEmpty
        else {
            throw APIError(status: .unauthorized, LocalityError(.unauthenticated, "log in first: this request has no bearer token"))
        }
        return token
    }

    /// Why a token that did not authenticate is refused, as the 401 to answer.
    private func refused(_ token: String) async throws -> APIError {
        if let refusal = try await store.refusal(token: token) { return APIError(status: .unauthorized, refusal) }
        return APIError(status: .unauthorized, LocalityError(
            .unauthenticated, "this token is not valid (logged out, device revoked or account disabled); log in again"))
    }

    private func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            throw LocalityError(.tooLarge, "the request body is larger than \(maxBodyBytes / 1024) KiB")
        }
        do {
            return try JSONCoding.decode(T.self, from: buffer.readableBytesView)
        } catch let error as DecodingError {
            throw LocalityError.invalidInput("the request body is not a valid \(T.self): \(JSONCoding.describe(error))")
        }
    }

    private func integer(_ text: String?, name: String, default value: Int64, range: ClosedRange<Int64>) throws -> Int64 {
        guard let text else { return value }
        guard let number = Int64(text), range.contains(number) else {
            throw LocalityError.invalidInput("'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return number
    }

    private func json(_ value: some Encodable, compressing: Bool = false) throws -> Response {
        let bytes = try JSONCoding.encode(value)
        if compressing, bytes.count >= Self.compressionThreshold {
            return Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8", .contentEncoding: "gzip", .vary: "Accept-Encoding"],
                body: .init(byteBuffer: ByteBuffer(bytes: try Gzip.compress(bytes))))
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

struct MutationCount: Hashable {
    var name: String
    var result: String
}

enum Tokens {
    /// Compares without stopping at the first difference, so timing does not leak the token.
    static func constantTimeEqual(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8), b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// 256 random bits, URL-safe base64. Only its SHA-256 is stored.
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
