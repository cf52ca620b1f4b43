import Foundation
import GRDB
import LocalityCore

public struct OrganisationSummary: Codable, Sendable {
    public var id: UUID
    public var name: String
    public var kind: String
    public var orgId: String?
    public var slug: String
    public var localities: [String]
}

extension SQLiteSyncStore {
    /// Adds one organisation; its org-id checked against the register it names, and unique.
    public func addOrganisation(_ organisation: NewOrganisation) throws -> OrganisationSummary {
        try database.write { db in try Self.insert(organisation, line: nil, db) }
    }

    /// Adds every organisation in a file (`name,kind,org-id,localities`, a header row first;
    /// localities separated by `;`), or none: a bad row is refused with its line.
    public func importOrganisations(_ text: String, dryRun: Bool) throws -> [OrganisationSummary] {
        let organisations = try OrganisationFile.parse(text)
        do {
            return try database.write { db in
                let added = try organisations.map { line, organisation in try Self.insert(organisation, line: line, db) }
                if dryRun { throw DryRun.done(added) }  // checked in full, then rolled back
                return added
            }
        } catch DryRun.done(let added) {
            return added
        }
    }

    private enum DryRun: Error { case done([OrganisationSummary]) }

    static func insert(_ input: NewOrganisation, line: Int?, _ db: Database) throws -> OrganisationSummary {
        let at = line.map { "line \($0): " } ?? ""
        func refuse(_ message: String) -> LocalityError { LocalityError.invalidInput(at + message) }
        let name = input.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 200, TerminalText.firstUnsafe(in: name) == nil, !name.contains(where: \.isNewline) else {
            throw refuse("an organisation needs a name: one line of at most 200 characters, no control characters")
        }
        let kindText = input.kind.lowercased().replacingOccurrences(of: " ", with: "-").replacingOccurrences(of: "_", with: "-")
        guard let kind = Organisation.Kind(rawValue: kindText) else {
            throw refuse("'\(TerminalText.safe(input.kind))' is not a kind of organisation; use one of: \(Organisation.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var places: [Locality] = []
        let orgId: String?
        let slug: String
        do {
            // The same rules as an officer's `organisation.add`.
            orgId = try OrganisationRules.orgIdentifier(input.orgId, for: UUID.stable("organisation:new"), db)
            for reference in input.localities { places.append(try References.locality(reference, db)) }
            slug = try OrganisationRules.slug(for: name, orgId: orgId, places: places, db)
        } catch let error as LocalityError {
            throw refuse(error.message)
        }
        let organisation = Organisation(
            id: UUID.stable("organisation:" + (orgId ?? "slug:" + slug)), name: name, kind: kind, orgIdentifier: orgId, slug: slug)
        try organisation.insert(db)
        for place in places {
            try db.execute(
                sql: "INSERT OR IGNORE INTO organisation_locality (organisation_id, locality_id) VALUES (?, ?)",
                arguments: [organisation.id.key, place.id.key])
        }
        return OrganisationSummary(
            id: organisation.id, name: name, kind: kind.rawValue, orgId: orgId, slug: slug, localities: places.map(\.name))
    }
}
