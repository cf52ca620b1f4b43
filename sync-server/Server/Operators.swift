import Foundation
import GRDB
import LocalityCore

/// An account as an operator sees it.
public struct AccountSummary: Codable, Sendable {
    public var id: UUID
    public var username: String
    public var displayName: String
    public var roles: [String]
    /// Whether its access has ended.
    public var disabled: Bool
    /// When its access ends (or ended): a councillor leaving office at the next election.
    public var accessEnds: Date?
    public var devices: Int
}

/// A device as an operator sees it.
public struct DeviceSummary: Codable, Sendable {
    public var id: UUID
    public var username: String
    public var name: String?
    public var createdAt: Date
    public var lastSeenAt: Date?
    public var revoked: Bool
    public var lastSequence: Int64
}

/// What an operator asks for when adding an account.
public struct NewAccount: Codable, Sendable {
    public var username: String
    public var displayName: String
    public var role: Role
    /// Wards (councillors) as references: id, slug or GSS code.
    public var localities: [String]
    /// Organisations (members) as references: id, slug or org-id.
    public var organisations: [String]
    public var passwordHash: String

    public init(
        username: String, displayName: String, role: Role, localities: [String], organisations: [String], passwordHash: String
    ) {
        self.username = username
        self.displayName = displayName
        self.role = role
        self.localities = localities
        self.organisations = organisations
        self.passwordHash = passwordHash
    }
}

extension SQLiteSyncStore {
    /// Adds a person, their role and their account in one transaction. The person and role reach
    /// devices with the next pull, like any other change.
    public func addAccount(_ account: NewAccount, now: Date, seed: UInt64 = .random(in: 0 ... UInt64(Int64.max))) throws -> AccountSummary {
        var ids = SeededGenerator(seed: seed)
        return try database.write { db in try Self.insertAccount(account, now: now, ids: &ids, db) }
    }

    /// The same, inside the caller's transaction (an import of many accounts, all or none).
    /// Ids come from `ids`, seeded by the caller: replaying the same operation makes the same ids.
    static func insertAccount(_ account: NewAccount, now: Date, ids: inout SeededGenerator, _ db: Database) throws -> AccountSummary {
        let username = account.username.trimmingCharacters(in: .whitespaces)
        guard !username.isEmpty, username.count <= 64,
            username.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else {
            throw LocalityError.invalidInput(
                "'\(TerminalText.safe(account.username))' is not a username: use letters a–z, digits, '-', '_' or '.', at most 64")
        }
        let displayName = account.displayName.trimmingCharacters(in: .whitespaces)
        guard displayName.count <= 200, !displayName.contains(where: \.isNewline), TerminalText.firstUnsafe(in: displayName) == nil else {
            throw LocalityError.invalidInput("a display name is one line of at most 200 characters, with no control characters")
        }
        try Self.requireScopes(account.role, localities: account.localities, organisations: account.organisations)
        if let existing = try String.fetchOne(db, sql: "SELECT username FROM person WHERE username = ? COLLATE NOCASE", arguments: [username]) {
            throw LocalityError.invalidInput(
                "there is already an account called '\(existing)' (usernames are the same whatever their capitals)")
        }
        let personId = UUID.v7(at: now, using: &ids)
        try Person(id: personId, username: username, displayName: displayName.isEmpty ? username : displayName)
            .insert(db)
        try Self.assign(account.role, localities: account.localities, organisations: account.organisations, to: personId, now: now, ids: &ids, db)
        try db.execute(
            sql: "INSERT INTO account (person_id, password_hash) VALUES (?, ?)", arguments: [personId.key, account.passwordHash])
        return try Self.summaries(db, username: username)[0]
    }

    /// Replaces an account's roles. Its devices learn at their next sync: they receive what the
    /// new roles let them see, and what the old roles let them see and the new do not leaves them.
    public func setRoles(
        _ username: String, role: Role, localities: [String], organisations: [String], now: Date, seed: UInt64 = .random(in: 0 ... UInt64(Int64.max))
    ) throws -> AccountSummary {
        try Self.requireScopes(role, localities: localities, organisations: organisations)
        var ids = SeededGenerator(seed: seed)
        return try database.write { db in
            guard let personId = try String.fetchOne(
                db, sql: "SELECT person.id FROM person JOIN account ON account.person_id = person.id WHERE username = ? COLLATE NOCASE",
                arguments: [username]
            ).flatMap(UUID.init(key:)) else {
                throw LocalityError.notFound("there is no account called '\(username)'")
            }
            try db.execute(sql: "DELETE FROM role_assignment WHERE person_id = ?", arguments: [personId.key])
            try Self.assign(role, localities: localities, organisations: organisations, to: personId, now: now, ids: &ids, db)
            return try Self.summaries(db, username: username)[0]
        }
    }

    private static func requireScopes(_ role: Role, localities: [String], organisations: [String]) throws {
        switch role {
        case .councillor where localities.isEmpty:
            throw LocalityError.invalidInput("a councillor needs at least one ward: give --locality")
        case .resident where localities.count != 1:
            throw LocalityError.invalidInput("a resident lives in one place: give --locality once (a parish, town or neighbourhood)")
        case .member where organisations.isEmpty:
            throw LocalityError.invalidInput("a member needs at least one organisation: give --org")
        default: break
        }
    }

    private static func assign(
        _ role: Role, localities: [String], organisations: [String], to personId: UUID, now: Date, ids: inout SeededGenerator, _ db: Database
    ) throws {
        var scopes: [(UUID?, UUID?)] = []
        for ref in localities {
            let locality = try References.locality(ref, db)
            guard role != .councillor || locality.kind == .ward || locality.kind == .division else {
                throw LocalityError.invalidInput(
                    "\(locality.name) is a \(locality.kind.label), not a ward or an electoral division: councillors are elected for those")
            }
            scopes.append((locality.id, nil))
        }
        for ref in organisations { scopes.append((nil, try References.organisation(ref, db).id)) }
        if scopes.isEmpty { scopes = [(nil, nil)] }
        for (locality, organisation) in scopes {
            try RoleAssignment(
                id: UUID.v7(at: now, using: &ids), personId: personId, role: role,
                localityId: role == .councillor || role == .resident ? locality : nil,
                organisationId: role == .member ? organisation : nil
            ).insert(db)
        }
    }

    public func accounts() throws -> [AccountSummary] {
        try database.read { db in try Self.summaries(db, username: nil) }
    }

    /// Disables an account: its tokens stop working at once.
    /// Ends an account's access at once, or from a day to come (`from`): a councillor who leaves
    /// office at an election keeps working until then, and their tokens stop at that moment.
    public func disableAccount(_ username: String, from: Date? = nil, now: Date) throws {
        let at = max(from ?? now, now)
        try database.write { db in
            try db.execute(
                sql: """
                    UPDATE account SET disabled_at = ? WHERE (disabled_at IS NULL OR disabled_at > ?)
                    AND person_id = (SELECT id FROM person WHERE username = ? COLLATE NOCASE)
                    """, arguments: [Timestamps.format(at), Timestamps.format(now), username])
            guard db.changesCount == 1 else {
                let exists = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM account JOIN person ON person.id = account.person_id WHERE username = ? COLLATE NOCASE",
                    arguments: [username]) ?? 0
                throw exists == 0
                    ? LocalityError.notFound("there is no account called '\(username)'")
                    : LocalityError.invalidInput("'\(username)' is already disabled")
            }
        }
    }

    public func devices() throws -> [DeviceSummary] {
        try database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT device.*, person.username FROM device JOIN person ON person.id = device.person_id
                    ORDER BY person.username, device.created_at
                    """
            ).map { row in
                DeviceSummary(
                    id: try UUID.column(row, "id"), username: row["username"], name: row["name"],
                    createdAt: Timestamps.parse(row["created_at"]) ?? Date(milliseconds: 0),
                    lastSeenAt: (row["last_seen_at"] as String?).flatMap(Timestamps.parse),
                    revoked: (row["revoked_at"] as String?) != nil, lastSequence: row["last_sequence"])
            }
        }
    }

    /// Revokes a device: its token stops working at once and it can never log in again.
    public func revokeDevice(_ ref: String, now: Date) throws -> DeviceSummary {
        let text = ref.trimmingCharacters(in: .whitespaces).lowercased()
        guard text.count >= 6 else { throw LocalityError.invalidInput("give the device's id (at least its last 6 characters)") }
        try database.write { db in
            let matches = try String.fetchAll(db, sql: "SELECT id FROM device WHERE id LIKE ?", arguments: ["%" + text])
            guard matches.count == 1 else {
                throw matches.isEmpty
                    ? LocalityError.notFound("there is no device '\(ref)'; `locality-sync device list` shows them")
                    : LocalityError(.ambiguous, "'\(ref)' matches \(matches.count) devices; give more of its id")
            }
            try db.execute(
                sql: "UPDATE device SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                arguments: [Timestamps.format(now), matches[0]])
        }
        return try devices().first { $0.id.key.hasSuffix(text) }!
    }

    private static func summaries(_ db: Database, username: String?) throws -> [AccountSummary] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT person.id, person.username, person.display_name, account.disabled_at,
                    (SELECT COUNT(*) FROM device WHERE device.person_id = person.id) AS devices
                FROM person JOIN account ON account.person_id = person.id
                WHERE ?1 IS NULL OR person.username = ?1 COLLATE NOCASE ORDER BY person.username
                """, arguments: [username]
        ).map { row in
            let personId = try UUID.column(row, "id")
            let actor = try Actor.load(db, personId: personId)
            return AccountSummary(
                id: personId, username: row["username"], displayName: row["display_name"],
                roles: try actor.describeRoles(in: db).components(separatedBy: "; "),
                disabled: ((row["disabled_at"] as String?).flatMap(Timestamps.parse).map { $0 <= Date() }) ?? false,
                accessEnds: (row["disabled_at"] as String?).flatMap(Timestamps.parse), devices: row["devices"])
        }
    }
}
