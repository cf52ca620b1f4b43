import Foundation
import GRDB

/// A body that proposes and delivers: a parish or town council, a community group, a charity…
public struct Organisation: SyncRecord, Hashable {
    public static let databaseTableName = "organisation"

    public var id: UUID
    public var name: String
    public var kind: Kind
    /// An org-id identifier: `GB-CHC-1099999` (Charity Commission), `GB-COH-09999999` (Companies
    /// House, leading zeros kept), or a publisher-local id for unregistered groups.
    public var orgIdentifier: String?
    public var slug: String
    /// How to reach it (a clerk's email, a phone number), kept current by its own members.
    public var contact: String
    public var updatedAt: Date?

    public init(
        id: UUID, name: String, kind: Kind, orgIdentifier: String? = nil, slug: String, contact: String = "", updatedAt: Date? = nil
    ) {
        self.contact = contact
        self.updatedAt = updatedAt
        self.id = id
        self.name = name
        self.kind = kind
        self.orgIdentifier = orgIdentifier
        self.slug = slug
    }

    public enum Kind: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case parishCouncil = "parish-council"
        case townCouncil = "town-council"
        case communityGroup = "community-group"
        case charity
        case socialEnterprise = "social-enterprise"
        case mutual
        case company
        case publicBody = "public-body"
        case inHouseTeam = "in-house-team"

        public var label: String { rawValue.replacingOccurrences(of: "-", with: " ") }
    }
}

extension Organisation {
    /// The localities this organisation serves, by name.
    public func servedLocalities(_ db: Database) throws -> [Locality] {
        try Locality.fetchAll(
            try db.cachedStatement(
                sql: """
                    SELECT locality.* FROM organisation_locality
                    JOIN locality ON locality.id = organisation_locality.locality_id
                    WHERE organisation_locality.organisation_id = ? ORDER BY locality.name
                    """),
            arguments: [id.key])
    }
}

/// Which localities an organisation serves.
struct OrganisationLocality: LocalityRecord {
    static let databaseTableName = "organisation_locality"

    var organisationId: UUID
    var localityId: UUID
}
