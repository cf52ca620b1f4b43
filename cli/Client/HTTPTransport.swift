import AsyncHTTPClient
import Foundation
import LocalityCore
import NIOCore
import NIOHTTP1

/// Talks to the sync server over HTTP, retrying what may succeed on a second try (the network,
/// the server restarting, a 5xx) with backoff, and turning the server's error bodies back into
/// `LocalityError`s so the person reads the server's own words.
public struct HTTPTransport: SyncTransport {
    public let baseURL: String
    public let token: String?
    public var attempts = 4
    /// Whether to tell the person on standard error when a retry is coming.
    public var announcesRetries = true

    /// One client for the process. The pool does not retry refused connections by itself (it
    /// would until the request's deadline): this transport's own backoff decides, and gives up.
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        // Large pulls come gzip-compressed (asked for per request below).
        configuration.decompression = .enabled(limit: .size(256 * 1024 * 1024))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init(serverURL: String, token: String?) {
        var url = serverURL
        while url.hasSuffix("/") { url.removeLast() }
        baseURL = url
        self.token = token
    }

    public func login(_ request: LoginRequest) async throws -> LoginResponse {
        try await send(.POST, "/v1/auth/login", body: request, retrying: false)
    }

    public func activate(_ request: ActivateRequest) async throws -> LoginResponse {
        try await send(.POST, "/v1/auth/activate", body: request, retrying: false)
    }

    public func push(_ request: PushRequest) async throws -> PushResponse {
        try await send(.POST, "/v1/sync/push", body: request, retrying: true)
    }

    public func pull(cursor: Int64, limit: Int) async throws -> PullResponse {
        // Rows in columns: each column's name once a page, not once a row (an older server ignores it).
        try await send(
            .GET, "/v1/sync/pull?cursor=\(cursor)&limit=\(limit)&shape=\(PageShape.columns.rawValue)", body: Optional<String>.none,
            retrying: true)
    }

    private func send<Body: Encodable, Result: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Body?, retrying: Bool
    ) async throws -> Result {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: SyncProtocol.versionHeader, value: String(SyncProtocol.version))
        request.headers.add(name: SyncProtocol.schemaHeader, value: String(SyncProtocol.schemaVersion))
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Accept-Encoding", value: "gzip")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONCoding.encode(body)))
        }
        var delay = 0.5
        for attempt in 1...attempts {
            do {
                let response = try await Self.client.execute(request, timeout: .seconds(120))
                let buffer = try await response.body.collect(upTo: 256 * 1024 * 1024)
                let data = Data(buffer.readableBytesView)
                if (200..<300).contains(response.status.code) {
                    return try JSONCoding.decode(Result.self, from: data)
                }
                let error =
                    (try? JSONCoding.decode(ErrorBody.self, from: data).error)
                    ?? LocalityError(.init(rawValue: "http_\(response.status.code)"), "the server answered \(response.status)")
                // A server fault or overload may pass; anything else is the server's final word.
                guard retrying, response.status.code >= 500 || response.status.code == 429, attempt < attempts else {
                    throw error
                }
            } catch let error as LocalityError {
                throw error
            } catch {
                guard retrying, attempt < attempts else {
                    throw LocalityError(.init(rawValue: "unreachable"), "cannot reach \(baseURL): \(describe(error))")
                }
            }
            if announcesRetries {
                FileHandle.standardError.write(Data("  the server did not answer; trying again in \(delay)s…\n".utf8))
            }
            try await Task.sleep(for: .seconds(delay))
            delay *= 2
        }
        throw LocalityError(.init(rawValue: "unreachable"), "cannot reach \(baseURL)")
    }

    private func describe(_ error: any Error) -> String {
        let text = "\(error)"
        return text.contains("connectionRefused") || text.contains("Connection refused") ? "connection refused" : text
    }
}
