import Foundation
import Hummingbird
import LocalityCore
import Logging

/// How the server is set up: where it listens, and its limits.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The largest request body accepted, in bytes.
    public var maxBodyBytes: Int
    /// Timeouts and the connection limit.
    public var connections: ConnectionLimits
    /// Login attempts allowed from one address before it must wait.
    public var loginLimit: LoginLimit
    /// What the server counts, served at `GET /metrics`.
    public var metrics: ServerMetrics
    /// The bearer token `GET /metrics` needs; without one, `/metrics` is not served at all.
    public var metricsToken: String?
    /// Count requests by route (on unless a benchmark measures what counting costs).
    public var requestMetrics = true

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 4 * 1024 * 1024,
        connections: ConnectionLimits = ConnectionLimits(), loginLimit: LoginLimit = LoginLimit(),
        metrics: ServerMetrics = ServerMetrics(), metricsToken: String? = nil
    ) {
        self.metrics = metrics
        self.metricsToken = metricsToken
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.connections = connections
        self.loginLimit = loginLimit
    }
}

/// Builds the sync server: a router over a store, so tests can drive it without sockets.
public func buildApplication(
    store: some SyncStore, configuration: ServerConfiguration, logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = buildRouter(store: store, configuration: configuration)
    return Application(
        router: router,
        server: configuration.connections.server(),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "locality-sync"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

public func buildRouter(store: some SyncStore, configuration: ServerConfiguration) -> Router<SyncRequestContext> {
    let router = Router(context: SyncRequestContext.self)
    router.add(middleware: RequestIdMiddleware())
    if configuration.requestMetrics { router.add(middleware: RequestMetricsMiddleware(metrics: configuration.metrics)) }
    router.add(middleware: ErrorMiddleware())
    let api = SyncAPI(
        store: store, maxBodyBytes: configuration.maxBodyBytes, logins: LoginThrottle(limit: configuration.loginLimit),
        metrics: configuration.metrics, readAhead: ReadAhead())
    router.get("/v1/health") { _, _ in try await api.health() }
    router.get("/v1/ready") { _, _ in try await api.ready() }
    let openAPI = ByteBuffer(bytes: Array(OpenAPIDocument.document.jsonText.utf8))
    router.get("/v1/openapi.json") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: openAPI))
    }
    if let token = configuration.metricsToken {
        router.get("/metrics") { request, _ in try await api.metrics(request, token: token) }
    }
    // What residents see, without logging in.
    PublicPages.addRoutes(to: router, store: store)
    // The protocol header is checked on the sync API's own routes only: anything else is a plain 404.
    let v1 = router.group("/v1").add(middleware: ProtocolVersionMiddleware())
    v1.post("auth/login") { request, context in try await api.login(request, context) }
    v1.post("auth/activate") { request, context in try await api.activate(request, context) }
    v1.post("auth/logout") { request, context in try await api.logout(request, context) }
    v1.post("sync/push") { request, context in try await api.push(request, context) }
    v1.get("sync/pull") { request, context in try await api.pull(request, context) }
    return router
}

/// Every response that is not a success carries `{"error": {"code": …, "message": …}}`, and no
/// error escapes as a bare 500: unexpected ones are logged and answered with a generic message.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as LocalityError {
            throw APIError(error)
        } catch let error as HTTPError {
            let code: LocalityError.Code =
                switch error.status {
                case .notFound: .notFound
                case .contentTooLarge: .tooLarge
                case .unauthorized: .unauthenticated
                default: .invalidInput
                }
            let message =
                error.status == .notFound && error.body == nil
                ? "there is nothing at \(request.method) \(TerminalText.safe(String(request.uri.path.prefix(200)))); the sync API is under /v1"
                : error.body ?? error.status.reasonPhrase
            throw APIError(status: error.status, LocalityError(code, message))
        } catch let error where DatabaseProblem.isFull(error) {
            // Rolled back whole: nothing was changed, and the device sends it again later.
            context.logger.error("the database's disk is full", metadata: ["http.path": "\(request.uri.path)"])
            throw APIError(
                status: .serviceUnavailable,
                LocalityError(.unavailable, "the server's disk is full; nothing was changed: your device will send it again"))
        } catch is CountStopped {
            // A count stopped by shutdown: not a verdict on the vote; the device sends it again.
            throw APIError(
                status: .serviceUnavailable,
                LocalityError(LocalityError.Code(rawValue: "unavailable"), "the server is shutting down; try again shortly"))
        } catch {
            context.logger.error("request failed", metadata: ["http.path": "\(request.uri.path)", "error": "\(error)"])
            throw APIError(
                status: .internalServerError,
                LocalityError(LocalityError.Code(rawValue: "server_error"), "the server could not complete this request; try again"))
        }
    }
}

/// Every request but the health check states the protocol version it speaks.
struct ProtocolVersionMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let name = SyncProtocol.versionHeader.lowercased()
        guard let header = request.headers.first(where: { $0.name.canonicalName == name })?.value else {
            throw APIError(status: .badRequest, LocalityError(
                .unsupportedVersion, "the request does not say which protocol version it speaks (\(SyncProtocol.versionHeader) header)"))
        }
        guard let version = Int(header), SyncProtocol.supported.contains(version) else {
            throw APIError(status: .upgradeRequired, LocalityError(
                .unsupportedVersion,
                "this server speaks sync protocol \(SyncProtocol.supported.lowerBound)–\(SyncProtocol.supported.upperBound), not '\(header)': update Locality"))
        }
        return try await next(request, context)
    }
}

/// An error as the wire shows it: an HTTP status and the shared error body.
struct APIError: HTTPResponseError {
    let status: HTTPResponse.Status
    let error: LocalityError
    var requestId: String?

    init(status: HTTPResponse.Status, _ error: LocalityError) {
        self.status = status
        self.error = error
    }

    init(_ error: LocalityError) {
        self.error = error
        status =
            switch error.code {
            case .notFound: .notFound
            case .forbidden: .forbidden
            case .unauthenticated, .deviceRevoked: .unauthorized
            case .sequenceGap: .conflict
            case .tooLarge: .contentTooLarge
            case .rateLimited: .tooManyRequests
            case .unavailable: .serviceUnavailable
            case .unsupportedVersion: .upgradeRequired
            default: .badRequest
            }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let id = requestId ?? RequestIdLocal.current
        let data = try JSONCoding.encode(ErrorBody(error: error, requestId: id))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let id { headers[RequestIdMiddleware<SyncRequestContext>.header] = id }
        return Response(
            status: status, headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
