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

    public static func load(_ db: Database, personId: UUID) throws -> Actor {
        guard let person = try Person.find(db, id: personId) else {
            throw LocalityError.notFound("no person with id \(personId.key)")
        }
        let roles = try RoleAssignment.fetchAll(
            db, sql: "SELECT * FROM role_assignment WHERE person_id = ? ORDER BY role, id", arguments: [personId.key])
        return Actor(person: person, roles: roles)
    }

    public func has(_ role: Role) -> Bool { roles.contains { $0.role == role } }

    /// The wards this person is a councillor for.
    public var wardIds: [UUID] { roles.filter { $0.role == .councillor }.compactMap(\.localityId) }

    /// The organisations this person is a member of.
    public var organisationIds: Set<UUID> { Set(roles.filter { $0.role == .member }.compactMap(\.organisationId)) }

    public func isMember(of organisationId: UUID) -> Bool { organisationIds.contains(organisationId) }

    /// Whether `localityId` lies within one of this person's wards.
    public func covers(_ localityId: UUID, in db: Database) throws -> Bool {
        let wards = Set(wardIds)
        guard !wards.isEmpty else { return false }
        return try Locality.ancestry(of: localityId, in: db).contains { wards.contains($0.id) }
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
            case .officer, .executive, .operator:
                return role.role.rawValue
            }
        }.joined(separator: "; ")
    }
}
