import Foundation
import GRDB

/// The person a mutation is made by, with their roles: loaded from the replica on the device, and
/// from the authenticated account on the server — never from what a client claims.
public struct Actor: Sendable, Hashable {
    public let person: Person
    public let roles: [RoleAssignment]

    public init(person: Person, roles: [RoleAssignment]) {
        self.person = person
        self.roles = roles
    }

    /// The person and their roles, in one query: this runs for every mutation.
    public static func load(_ db: Database, personId: UUID) throws -> Actor {
        let rows = try Row.fetchAll(
            try db.cachedStatement(
                sql: """
                    SELECT person.id, person.username, person.display_name,
                        role_assignment.id AS role_id, role_assignment.role, role_assignment.locality_id,
                        role_assignment.organisation_id
                    FROM person LEFT JOIN role_assignment ON role_assignment.person_id = person.id
                    WHERE person.id = ? ORDER BY role_assignment.role, role_assignment.id
                    """),
            arguments: [personId.key])
        guard let first = rows.first else { throw LocalityError.notFound("no person with id \(personId.key)") }
        let person = try Person(row: first)
        let roles = try rows.compactMap { row -> RoleAssignment? in
            guard let roleId = try UUID.optionalColumn(row, "role_id") else { return nil }
            guard let role = Role(rawValue: row["role"]) else {
                throw LocalityError.invalid("unknown role '\(row["role"] ?? "")' for \(person.username)")
            }
            return RoleAssignment(
                id: roleId, personId: person.id, role: role, localityId: try UUID.optionalColumn(row, "locality_id"),
                organisationId: try UUID.optionalColumn(row, "organisation_id"))
        }
        return Actor(person: person, roles: roles)
    }

    public func has(_ role: Role) -> Bool { roles.contains { $0.role == role } }

    /// The wards this person is a councillor for.
    public var wardIds: [UUID] { roles.filter { $0.role == .councillor }.compactMap(\.localityId) }

    /// The places this person is a resident of.
    public var homeIds: [UUID] { roles.filter { $0.role == .resident }.compactMap(\.localityId) }

    /// The organisations this person is a member of.
    public var organisationIds: Set<UUID> { Set(roles.filter { $0.role == .member }.compactMap(\.organisationId)) }

    public func isMember(of organisationId: UUID) -> Bool { organisationIds.contains(organisationId) }

    /// Whether `localityId` lies within one of this person's wards.
    public func covers(_ localityId: UUID, in db: Database) throws -> Bool {
        guard roles.contains(where: { $0.role == .councillor }) else { return false }
        return covers(ancestry: try Locality.ancestorIDs(of: localityId, in: db))
    }

    /// Whether a locality with this ancestry (itself first, then everything above it) lies within
    /// one of this person's wards.
    public func covers(ancestry: [UUID]) -> Bool {
        let wards = wardIds
        return ancestry.contains { wards.contains($0) }
    }

    /// "councillor for Whitmere Ward; member of Whitmere Town Council" — for error messages.
    public func describeRoles(in db: Database) throws -> String {
        guard !roles.isEmpty else { return "no roles" }
        return try roles.map { role -> String in
            switch role.role {
            case .councillor:
                let ward = try role.localityId.flatMap { try Locality.find(db, id: $0) }?.name ?? "an unknown ward"
                return "councillor for \(ward)"
            case .member:
                let org = try role.organisationId.flatMap { try Organisation.find(db, id: $0) }?.name
                return "member of \(org ?? "an unknown organisation")"
            case .resident:
                let place = try role.localityId.flatMap { try Locality.find(db, id: $0) }?.name ?? "an unknown place"
                return "resident of \(place)"
            case .officer, .executive, .operator, .finance, .administrator:
                return role.role.rawValue
            }
        }.joined(separator: "; ")
    }
}
