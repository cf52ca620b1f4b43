import Foundation
import GRDB
import LocalityCore

/// An organisation as the operator adds it: from the command line or a row of a file.
public struct NewOrganisation: Codable, Sendable {
    public var name: String
    public var kind: String
    public var orgId: String?
    /// The places it serves: slugs, GSS codes or names.
    public var localities: [String]

    public init(name: String, kind: String, orgId: String?, localities: [String]) {
        self.name = name
        self.kind = kind
        self.orgId = orgId
        self.localities = localities
    }
}

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
        let records: [(line: Int, fields: [String])]
        do { records = try CSV.records(text) } catch { throw LocalityError.invalidInput(error.description) }
        guard let header = records.first else { throw LocalityError.invalidInput("the file is empty") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: "-") }
        func column(_ options: [String]) -> Int? { names.firstIndex { options.contains($0) } }
        guard let name = column(["name"]), let kind = column(["kind", "type"]) else {
            throw LocalityError.invalidInput("line \(header.line): the header must name the columns name, kind, org-id and localities")
        }
        let orgId = column(["org-id", "orgid", "org-identifier", "identifier"])
        let localities = column(["localities", "places", "locality", "serves"])
        let organisations = try records.dropFirst().map { record in
            guard record.fields.count == header.fields.count else {
                throw LocalityError.invalidInput("line \(record.line): \(record.fields.count) fields where the header has \(header.fields.count)")
            }
            let value = { (index: Int?) in index.map { record.fields[$0].trimmingCharacters(in: .whitespaces) } ?? "" }
            return (record.line, NewOrganisation(
                name: value(name), kind: value(kind), orgId: value(orgId).isEmpty ? nil : value(orgId),
                localities: value(localities).split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }))
        }
        guard !organisations.isEmpty else { throw LocalityError.invalidInput("the file has no organisations after its header") }
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
