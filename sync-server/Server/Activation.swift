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

    /// As typed: case, spaces and dashes do not matter.
    static func normalised(_ code: String) -> String {
        String(code.uppercased().filter { $0.isLetter || $0.isNumber })
    }
}

/// An account's activation code as issued: shown once, stored only as its hash.
public struct IssuedCode: Codable, Sendable {
    public var username: String
    public var code: String
    public var expiresAt: Date
}

extension SQLiteSyncStore {
    /// A fresh code for an account (any earlier code stops working), valid for `days`.
    public func issueActivation(for username: String, days: Int, now: Date) throws -> IssuedCode {
        try database.write { db in try Self.issueActivation(for: username, days: days, now: now, db) }
    }

    static func issueActivation(for username: String, days: Int, now: Date, _ db: Database) throws -> IssuedCode {
        guard (1...90).contains(days) else { throw LocalityError.invalidInput("an activation code is valid for 1 to 90 days, not \(days)") }
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT person.id, person.username FROM person JOIN account ON account.person_id = person.id WHERE username = ? COLLATE NOCASE",
                arguments: [username])
        else { throw LocalityError.notFound("there is no account called '\(TerminalText.safe(username))'") }
        let code = ActivationCodes.make()
        let expires = now.addingTimeInterval(Double(days) * 86_400)
        try db.execute(
            sql: "UPDATE account SET activation_hash = ?, activation_expires_at = ? WHERE person_id = ?",
            arguments: [hash(token: ActivationCodes.normalised(code)), Timestamps.format(expires), row["id"] as String])
        return IssuedCode(username: row["username"], code: code, expiresAt: expires)
    }

    /// Adds accounts without passwords, each with an activation code: all of them, or none.
    public func addAccountsForActivation(_ accounts: [(line: Int?, account: NewAccount)], days: Int, now: Date, dryRun: Bool) throws -> [IssuedCode] {
        do {
            return try database.write { db in
                var issued: [IssuedCode] = []
                for (line, account) in accounts {
                    do {
                        var account = account
                        account.passwordHash = ""  // no password until the person chooses one
                        _ = try Self.insertAccount(account, now: now, db)
                        issued.append(try Self.issueActivation(for: account.username, days: days, now: now, db))
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
        guard let account, let personId = UUID(key: account["id"]) else { return .failure(failures: 0) }
        let failures: Int = account["failed_logins"]
        let stored: String? = account["activation_hash"]
        let expires = (account["activation_expires_at"] as String?).flatMap(Timestamps.parse)
        let matches = stored.map { $0 == Self.hash(token: ActivationCodes.normalised(request.code)) } ?? false
        let ended = (account["disabled_at"] as String?).flatMap(Timestamps.parse).map { $0 <= now } ?? false
        guard matches, !ended else {
            return try await recordFailedLogin(personId, failures: failures, now: now)
        }
        guard let expires, expires > now else {
            throw LocalityError(
                .unauthenticated, "this activation code expired on \(Timestamps.day(expires ?? now)); ask the council for a new one")
        }
        // The password is hashed outside any transaction (bcrypt is slow on purpose); the code is
        // spent in the same transaction that sets it, so it works once.
        let hash = Passwords.hash(request.password)
        let spent = try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE account SET password_hash = ?, activation_hash = NULL, activation_expires_at = NULL, failed_logins = 0
                    WHERE person_id = ? AND activation_hash = ?
                    """, arguments: [hash, personId.key, stored])
            return db.changesCount == 1
        }
        guard spent else { return .failure(failures: failures + 1) }
        return try await login(
            LoginRequest(username: request.username, password: request.password, deviceId: request.deviceId, deviceName: request.deviceName),
            token: token, now: now)
    }
}
