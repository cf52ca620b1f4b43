import Foundation
import GRDB
import LocalityCore

/// The council a server serves, as `council show` and the health check report it.
public struct CouncilSummary: Codable, Sendable {
    public var name: String
    public var orgId: String?
    public var gssCode: String?
    public var wards: Int
    public var parishes: Int
    public var areas: Int
    public var divisions: Int
    public var retired: Int
}

extension SQLiteSyncStore {
    /// Creates the council's own locality and record on an empty database.
    public func initialiseCouncil(name: String, orgId: String?, gss: String, now: Date) throws -> CouncilSummary {
        if let orgId {
            let parts = orgId.split(separator: "-", maxSplits: 2)
            guard parts.count == 3, parts[0].count == 2, parts[0].allSatisfy(\.isUppercase), parts[1].allSatisfy({ $0.isUppercase || $0.isNumber }),
                !parts[2].isEmpty, TerminalText.firstUnsafe(in: orgId) == nil
            else {
                throw LocalityError.invalidInput(
                    "'\(TerminalText.safe(orgId))' is not an org-id: a country, a register and an identifier, such as GB-LAE-SHR (org-id.guide)")
            }
        }
        return try database.write { db in
            let authority = try CouncilGeography.initialise(name: name, gss: gss, in: db)
            try db.execute(
                sql: "INSERT INTO council (id, name, org_id, gss_code, authority_id, created_at) VALUES (1, ?, ?, ?, ?, ?)",
                arguments: [authority.name, orgId, authority.gssCode, authority.id.key, Timestamps.format(now)])
            return try Self.council(db)!
        }
    }

    public func councilName() async throws -> String? {
        try await database.read { db in try CouncilGeography.authority(db)?.name }
    }

    /// The council this server serves, or nil when none is set up (an empty database).
    public func council() throws -> CouncilSummary? {
        try database.read { db in try Self.council(db) }
    }

    static func council(_ db: Database) throws -> CouncilSummary? {
        guard let authority = try CouncilGeography.authority(db) else { return nil }
        let row = try Row.fetchOne(db, sql: "SELECT org_id FROM council WHERE id = 1")
        func count(_ kind: String) throws -> Int {
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM locality WHERE kind = ? AND retired_on IS NULL", arguments: [kind]) ?? 0
        }
        return CouncilSummary(
            name: authority.name, orgId: row?["org_id"], gssCode: authority.gssCode, wards: try count("ward"), parishes: try count("parish"),
            areas: try count("area"), divisions: try count("division"), retired: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM locality WHERE retired_on IS NOT NULL") ?? 0)
    }

    /// Imports (or, dry, compares) ONS's parish–ward–district lookup. All or nothing.
    public func importLocalities(_ text: String, districts: Set<String>, dryRun: Bool, today: String) throws -> GeographyChanges {
        if ONSDivisionLookup.recognises(text) {
            let lookup: ONSDivisionLookup
            do { lookup = try ONSDivisionLookup.parse(text, districts: districts) } catch {
                throw LocalityError.invalidInput("\(error.description); nothing was imported")
            }
            return try database.write { db in try CouncilGeography.importDivisions(lookup, today: today, apply: !dryRun, db) }
        }
        let lookup: ONSParishLookup
        do { lookup = try ONSParishLookup.parse(text, districts: districts) } catch {
            throw LocalityError.invalidInput("\(error.description); nothing was imported")
        }
        return try database.write { db in
            try CouncilGeography.importLookup(lookup, today: today, apply: !dryRun, db)
        }
    }

    /// The council's grouping of its wards into areas. All or nothing.
    public func assignAreas(_ text: String, dryRun: Bool) throws -> (areas: [String], wardsMoved: Int) {
        try database.write { db in try CouncilGeography.assignAreas(text, apply: !dryRun, db) }
    }
}
