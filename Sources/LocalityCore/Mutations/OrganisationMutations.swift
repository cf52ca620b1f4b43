import Foundation
import GRDB

/// `organisation.add`: an officer or administrator adds a body that proposes and delivers — a
/// parish council, a community group, a charity — with its org-id checked against the register
/// it names, and the places it serves. An org-id is held by one organisation only.
public struct AddOrganisation: MutationCommand, Hashable {
    public static let name = MutationName.organisationAdd

    public var organisationId: UUID
    public var name: String
    public var kind: Organisation.Kind
    public var orgIdentifier: String?
    public var localityIds: [UUID]
    public var contact: String
    /// How people refer to it; made from the name when absent.
    public var slug: String?

    public init(
        organisationId: UUID, name: String, kind: Organisation.Kind, orgIdentifier: String? = nil, localityIds: [UUID] = [],
        contact: String = "", slug: String? = nil
    ) {
        self.slug = slug
        self.organisationId = organisationId
        self.name = name
        self.kind = kind
        self.orgIdentifier = orgIdentifier
        self.localityIds = localityIds
        self.contact = contact
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        guard actor.has(.officer) || actor.has(.administrator) else {
            throw LocalityError.forbidden(
                "organisations are added by officers and administrators; \(actor.person.username) is \(try actor.describeRoles(in: db))")
        }
        let name = try Validate.title(name, field: "organisation's name")
        let orgId = try OrganisationRules.orgIdentifier(orgIdentifier, for: organisationId, db)
        let places = try OrganisationRules.places(localityIds, db)
        let slug = try slug.map { try Validate.slug($0) } ?? OrganisationRules.slug(for: name, orgId: orgId, places: places, db)
        try DuplicateKey.as(LocalityError.invalid("organisation \(organisationId.key) already exists")) {
            try Organisation(
                id: organisationId, name: name, kind: kind, orgIdentifier: orgId, slug: slug,
                contact: try Validate.text(contact, field: "contact"), updatedAt: context.at
            ).insert(db)
        }
        try OrganisationRules.serve(places, organisationId, db)
    }
}

/// `organisation.update`: an organisation's details kept current. Officers and administrators may
/// change anything; the organisation's own members may change its name, contact and the places it
/// serves (its kind and org-id are checked facts, changed by officers).
public struct UpdateOrganisation: MutationCommand, Hashable {
    public static let name = MutationName.organisationUpdate

    public var organisationId: UUID
    public var name: String?
    public var kind: Organisation.Kind?
    /// A new org-id; "" removes it.
    public var orgIdentifier: String?
    /// The places it serves, replacing the list.
    public var localityIds: [UUID]?
    public var contact: String?

    public init(organisationId: UUID) { self.organisationId = organisationId }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        var organisation = try Lookup.organisation(organisationId, db)
        let officer = actor.has(.officer) || actor.has(.administrator)
        guard officer || actor.isMember(of: organisation.id) else {
            throw LocalityError.forbidden(
                "\(actor.person.username) may not change \(organisation.name)'s details: only its members, officers and administrators may")
        }
        if !officer, kind != nil || orgIdentifier != nil {
            throw LocalityError.forbidden(
                "an organisation's kind and org-id are changed by officers, who check them; \(actor.person.username) may change its name, contact and places")
        }
        guard name != nil || kind != nil || orgIdentifier != nil || localityIds != nil || contact != nil else {
            throw LocalityError.invalid("nothing to change: give a new name, kind, org-id, contact or places")
        }
        if let name { organisation.name = try Validate.title(name, field: "organisation's name") }
        if let kind { organisation.kind = kind }
        if let orgIdentifier {
            organisation.orgIdentifier = orgIdentifier.trimmingWhitespace().isEmpty
                ? nil : try OrganisationRules.orgIdentifier(orgIdentifier, for: organisation.id, db)
        }
        if let contact { organisation.contact = try Validate.text(contact, field: "contact") }
        organisation.updatedAt = context.at
        try organisation.update(db)
        if let localityIds {
            let places = try OrganisationRules.places(localityIds, db)
            try db.execute(sql: "DELETE FROM organisation_locality WHERE organisation_id = ?", arguments: [organisation.id.key])
            try OrganisationRules.serve(places, organisation.id, db)
        }
    }
}

public enum OrganisationRules {
    /// The org-id in its written form, refused when malformed or already another organisation's.
    public static func orgIdentifier(_ text: String?, for organisationId: UUID, _ db: Database) throws -> String? {
        guard let text, !text.trimmingWhitespace().isEmpty else { return nil }
        let orgId = try OrgID.validate(text)
        if let holder = try Organisation.fetchOne(
            db, sql: "SELECT * FROM organisation WHERE org_identifier = ? COLLATE NOCASE AND id != ?",
            arguments: [orgId, organisationId.key])
        {
            throw LocalityError.invalid("\(orgId) is already \(holder.name)'s org-id; an organisation is added once")
        }
        return orgId
    }

    /// A slug from the name; when another organisation has it, told apart by the org-id or the first place served.
    public static func slug(for name: String, orgId: String?, places: [Locality], _ db: Database) throws -> String {
        func taken(_ slug: String) throws -> Bool {
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM organisation WHERE slug = ?)", arguments: [slug]) ?? false
        }
        let slug = CouncilGeography.slug(name)
        guard try taken(slug) else { return slug }
        guard let suffix = orgId?.split(separator: "-").last.map({ String($0).lowercased() }) ?? places.first?.slug else {
            throw LocalityError.invalid("there is already an organisation called '\(name)'; give this one an org-id or a place to tell them apart")
        }
        guard try !taken(slug + "-" + suffix) else { throw LocalityError.invalid("there is already an organisation called '\(name)' there") }
        return slug + "-" + suffix
    }

    static func places(_ ids: [UUID], _ db: Database) throws -> [Locality] {
        guard ids.count <= 500 else { throw LocalityError.invalid("an organisation serves at most 500 places, not \(ids.count)") }
        return try Set(ids).sorted { $0.key < $1.key }.map { try Lookup.locality($0, db) }
    }

    static func serve(_ places: [Locality], _ organisationId: UUID, _ db: Database) throws {
        for place in places {
            try OrganisationLocality(organisationId: organisationId, localityId: place.id).insert(db)
        }
    }
}
