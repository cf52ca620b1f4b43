import Foundation
import GRDB
import LocalityCore

/// One-time activation codes: an operator never invents or hands out passwords. An account made
/// by `user import` (or `user add --activation`) has a code instead, valid for a set time; the
/// person uses it once, on their own device, to choose their password.
public enum ActivationCodes {
    /// 16 characters from an alphabet without look-alikes, in four groups: `K7QF-2M9X-P3LD-8WQA`
    /// (80 bits).
    public static func make() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<16).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return stride(from: 0, to: 16, by: 4).map { String(characters[$0..<($0 + 4)]) }.joined(separator: "-")
    }

    /// What is stored of a code: its hash, as typed in any case or spacing.
    public static func hash(_ code: String) -> String { SQLiteSyncStore.hash(token: normalised(code)) }

    /// As typed: case, spaces and dashes do not matter.
    static func normalised(_ code: String) -> String {
        String(code.uppercased().filter { $0.isLetter || $0.isNumber })
    }
}

/// An account from a file, with the line it came from.
public struct AccountLine: Codable, Sendable {
    public var line: Int?
    public var account: NewAccount
    public init(line: Int?, account: NewAccount) {
        self.line = line
        self.account = account
    }
}

/// An account's activation code as issued: shown once, stored only as its hash.
public struct IssuedCode: Codable, Sendable {
    public init(username: String, code: String, expiresAt: Date) {
        self.username = username
        self.code = code
        self.expiresAt = expiresAt
    }

    public var username: String
    public var code: String
    public var expiresAt: Date
}

extension SQLiteSyncStore {
    /// A fresh code for an account (any earlier code stops working), valid for `days`.
    public func issueActivation(for username: String, days: Int, now: Date) throws -> IssuedCode {
        let code = ActivationCodes.make()
        var issued = try issueActivation(for: username, days: days, codeHash: ActivationCodes.hash(code), now: now)
        issued.code = code
        return issued
    }

    /// The same, given only the code's hash (the code itself is never written anywhere but to the
    /// operator): the answer's `code` is empty.
    public func issueActivation(for username: String, days: Int, codeHash: String, now: Date) throws -> IssuedCode {
        try database.write { db in try Self.issueActivation(for: username, days: days, codeHash: codeHash, now: now, db) }
    }

    static func issueActivation(for username: String, days: Int, codeHash: String, now: Date, _ db: Database) throws -> IssuedCode {
        guard (1...90).contains(days) else { throw LocalityError.invalidInput("an activation code is valid for 1 to 90 days, not \(days)") }
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT person.id, person.username FROM person JOIN account ON account.person_id = person.id WHERE username = ? COLLATE NOCASE",
                arguments: [username])
        else { throw LocalityError.notFound("there is no account called '\(TerminalText.safe(username))'") }
        let expires = now.addingTimeInterval(Double(days) * 86_400)
        try db.execute(
            sql: "UPDATE account SET activation_hash = ?, activation_expires_at = ? WHERE person_id = ?",
            arguments: [codeHash, Timestamps.format(expires), row["id"] as String])
        return IssuedCode(username: row["username"], code: "", expiresAt: expires)
    }

    /// Adds accounts without passwords, each with an activation code: all of them, or none.
    public func addAccountsForActivation(_ accounts: [(line: Int?, account: NewAccount)], days: Int, now: Date, dryRun: Bool) throws -> [IssuedCode] {
        let codes = accounts.map { _ in ActivationCodes.make() }
        let lines = accounts.map { AccountLine(line: $0.line, account: $0.account) }
        let issued = try addAccountsForActivation(
            lines, days: days, codeHashes: codes.map(ActivationCodes.hash), now: now, dryRun: dryRun, seed: .random(in: 0 ... UInt64(Int64.max)))
        return dryRun ? issued : zip(issued, codes).map { IssuedCode(username: $0.username, code: $1, expiresAt: $0.expiresAt) }
    }

    /// The same, given only the codes' hashes, one for each account, and the seed its ids come from:
    /// the answers' `code` is empty.
    public func addAccountsForActivation(
        _ accounts: [AccountLine], days: Int, codeHashes: [String], now: Date, dryRun: Bool, seed: UInt64
    ) throws -> [IssuedCode] {
        guard codeHashes.count == accounts.count else { throw LocalityError.invalidInput("one activation code is needed for each account") }
        var ids = SeededGenerator(seed: seed)
        do {
            return try database.write { db in
                var issued: [IssuedCode] = []
                for (entry, codeHash) in zip(accounts, codeHashes) {
                    let (line, account) = (entry.line, entry.account)
                    do {
                        var account = account
                        account.passwordHash = ""  // no password until the person chooses one
                        _ = try Self.insertAccount(account, now: now, ids: &ids, db)
                        issued.append(try Self.issueActivation(for: account.username, days: days, codeHash: codeHash, now: now, db))
                    } catch let error as LocalityError {
                        throw LocalityError(error.code, (line.map { "line \($0): " } ?? "") + error.message)
                    }
                }
                if dryRun { throw ActivationDryRun.done(issued) }
                return issued
            }
        } catch ActivationDryRun.done(let issued) {
            return issued.map { IssuedCode(username: $0.username, code: "(not issued: --dry-run)", expiresAt: $0.expiresAt) }
        }
    }

    private enum ActivationDryRun: Error { case done([IssuedCode]) }

    public func activate(_ request: ActivateRequest, token: String, now: Date) async throws -> LoginOutcome {
        switch try checkActivation(request, now: now) {
        case .unknown: return .failure(failures: 0)
        case .wrong(let personId, let failures): return try await recordFailedLogin(personId, failures: failures, now: now)
        case .right(let personId, let codeHash, let failures):
            // The password is hashed outside any transaction (bcrypt is slow on purpose); the code is
            // spent in the same transaction that sets it, so it works once.
            guard try spendActivation(personId, codeHash: codeHash, passwordHash: Passwords.hash(request.password)) else {
                return .failure(failures: failures + 1)
            }
            return try await login(request.login, token: token, now: now)
        }
    }

    /// What an activation code is, for an account: unknown account, wrong (or ended), or right.
    /// An expired code is refused here, naming the day.
    public enum ActivationCheck: Sendable {
        case unknown
        case wrong(personId: UUID, failures: Int)
        case right(personId: UUID, codeHash: String, failures: Int)
    }

    public func checkActivation(_ request: ActivateRequest, now: Date) throws -> ActivationCheck {
        guard request.password.count >= 10 else {
            throw LocalityError.invalidInput("choose a password of at least 10 characters")
        }
        let account = try database.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT person.id, account.activation_hash, account.activation_expires_at, account.failed_logins, account.disabled_at
                    FROM person JOIN account ON account.person_id = person.id WHERE person.username = ? COLLATE NOCASE
                    """, arguments: [request.username])
        }
        guard let account, let personId = UUID(key: account["id"]) else { return .unknown }
        let failures: Int = account["failed_logins"]
        let stored: String? = account["activation_hash"]
        let expires = (account["activation_expires_at"] as String?).flatMap(Timestamps.parse)
        let ended = (account["disabled_at"] as String?).flatMap(Timestamps.parse).map { $0 <= now } ?? false
        guard let stored, stored == ActivationCodes.hash(request.code), !ended else { return .wrong(personId: personId, failures: failures) }
        guard let expires, expires > now else {
            throw LocalityError(
                .unauthenticated, "this activation code expired on \(Timestamps.day(expires ?? now)); ask the council for a new one")
        }
        return .right(personId: personId, codeHash: stored, failures: failures)
    }

    /// Sets the chosen password and spends the code, if it is still the account's code: false when
    /// another device spent it first.
    public func spendActivation(_ personId: UUID, codeHash: String, passwordHash: String) throws -> Bool {
        try database.write { db in
            try db.execute(
                sql: """
                    UPDATE account SET password_hash = ?, activation_hash = NULL, activation_expires_at = NULL, failed_logins = 0
                    WHERE person_id = ? AND activation_hash = ?
                    """, arguments: [passwordHash, personId.key, codeHash])
            return db.changesCount == 1
        }
    }
}

extension ActivateRequest {
    /// The login that follows a spent code.
    var login: LoginRequest { LoginRequest(username: username, password: password, deviceId: deviceId, deviceName: deviceName) }
}
