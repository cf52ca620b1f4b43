import Foundation
import LocalityCore

/// An authenticated device: who it acts for.
public struct Session: Sendable, Hashable, Codable {
    public var deviceId: UUID
    public var personId: UUID
    public var username: String
}

/// The server's storage, behind a protocol (DESIGN principle 9): embedded SQLite first; a store
/// with several stateless server processes in front of it later. Nothing that keeps the data
/// correct may depend on there being one process: idempotency, the sequence gap check and the
/// change sequence all live in the store's transactions.
public protocol SyncStore: Sendable {
    /// Checks the password and binds a new token to the device. Returns nil for a wrong
    /// username or password (the caller cannot tell which) and the failures so far.
    func login(_ request: LoginRequest, token: String, now: Date) async throws -> LoginOutcome
    func authenticate(token: String, now: Date) async throws -> Session?
    func logout(_ session: Session) async throws
    func push(_ request: PushRequest, from session: Session, now: Date) async throws -> PushResponse
    func pull(after cursor: Int64, limit: Int, for session: Session) async throws -> PullResponse
    /// `authenticate` and then `pull`, which a store may do in one read; nil when the token does
    /// not authenticate.
    func pull(after cursor: Int64, limit: Int, token: String, now: Date) async throws -> (Session, PullResponse)?
    /// Fails when the store cannot serve requests.
    func checkHealth() async throws
    /// Why a token that does not authenticate is refused, when the store knows: its device was
    /// revoked, or its account disabled. Nil for a token it has never seen (or logged out).
    func refusal(token: String) async throws -> LocalityError?
    /// The name of the council this server serves, or nil when none is set up yet.
    func councilName() async throws -> String?
    /// A first login with a one-time activation code: the person's chosen password is set and the
    /// device logged in; a wrong, spent or expired code fails like a wrong password.
    func activate(_ request: ActivateRequest, token: String, now: Date) async throws -> LoginOutcome
    /// Sizes and counts for monitoring; nil when the store has none to give.
    func figures() async throws -> StoreFigures?
    /// The audit trail's hash chain, recomputed.
    func verifyAudit() async throws -> Audit.Verification?
    /// Why the store is not ready to serve (empty when it is).
    func readiness() async throws -> [String]
    /// The public pages and open-data files (nil: not served by this store, or no such thing).
    func publicContent(_ resource: PublicResource) async throws -> PublicContent?
}

extension SyncStore {
    public func pull(after cursor: Int64, limit: Int, token: String, now: Date) async throws -> (Session, PullResponse)? {
        guard let session = try await authenticate(token: token, now: now) else { return nil }
        return (session, try await pull(after: cursor, limit: limit, for: session))
    }
    public func refusal(token: String) async throws -> LocalityError? { nil }
    public func councilName() async throws -> String? { nil }
    public func figures() async throws -> StoreFigures? { nil }
    public func verifyAudit() async throws -> Audit.Verification? { nil }
    public func readiness() async throws -> [String] { [] }
    public func publicContent(_ resource: PublicResource) async throws -> PublicContent? { nil }
    public func activate(_ request: ActivateRequest, token: String, now: Date) async throws -> LoginOutcome {
        throw LocalityError.invalidInput("this server does not take activation codes")
    }
}

public enum LoginOutcome: Sendable {
    case success(LoginResponse)
    /// Wrong username or password, or a disabled account; `failures` counts recent failures
    /// for that username, to slow down guessing.
    case failure(failures: Int)
}
