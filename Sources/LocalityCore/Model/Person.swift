import Foundation
import GRDB

/// Someone who uses Locality: a councillor, an officer, a parish clerk…
public struct Person: SyncRecord, Hashable {
    public static let databaseTableName = "person"

    public var id: UUID
    public var username: String
    public var displayName: String

    public init(id: UUID, username: String, displayName: String) {
        self.id = id
        self.username = username
        self.displayName = displayName
    }

    /// Decoded by hand: the acting person is read on every mutation.
    public init(row: Row) throws {
        id = try UUID.column(row, "id")
        username = row["username"]
        displayName = row["display_name"]
    }
}

/// What a person may do, and where: a councillor for a ward, a member of an organisation…
public enum Role: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    /// A ward councillor (non-executive member), for the wards named in their assignments.
    case councillor
    /// A member of an organisation (a parish clerk, a group's secretary), for that organisation.
    case member
    /// An officer / commissioner of the authority.
    case officer
    /// An executive (cabinet) member.
    case executive
    /// Runs the sync server: accounts and devices, not commissioning decisions.
    case `operator`
    /// A resident of a locality (their assignment names it): votes on proposals for their area.
    case resident
    /// A finance officer: makes funds, allocates money to them, moves it between them (within the
    /// scheme of delegation) and closes the financial year.
    case finance
    /// The council's administrator: keeps the outcomes framework and the scheme of delegation.
    case administrator
}

public struct RoleAssignment: SyncRecord, Hashable {
    public static let databaseTableName = "role_assignment"

    public var id: UUID
    public var personId: UUID
    public var role: Role
    /// The ward, for a councillor; the place they live, for a resident.
    public var localityId: UUID?
    /// The organisation, for a member.
    public var organisationId: UUID?

    public init(id: UUID, personId: UUID, role: Role, localityId: UUID? = nil, organisationId: UUID? = nil) {
        self.id = id
        self.personId = personId
        self.role = role
        self.localityId = localityId
        self.organisationId = organisationId
    }

    public init(row: Row) throws {
        id = try UUID.column(row, "id")
        personId = try UUID.column(row, "person_id")
        guard let role = Role(rawValue: row["role"]) else { throw LocalityError.invalid("unknown role \(row["role"] ?? "")") }
        self.role = role
        localityId = try UUID.optionalColumn(row, "locality_id")
        organisationId = try UUID.optionalColumn(row, "organisation_id")
    }
}
