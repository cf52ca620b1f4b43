import Foundation
import GRDB

/// Who may do what. The same checks run on the device, before a change is queued, and on the
/// server, against its authoritative state.
public enum Policy {
    /// Councillors record needs within their wards; officers anywhere in the authority.
    public static func requireCanRecordNeed(
        _ actor: Actor, in localityId: UUID, ancestry: [UUID]? = nil, _ db: Database
    ) throws {
        if actor.has(.officer) { return }
        if actor.has(.councillor) {
            let ancestry = try ancestry ?? Locality.ancestorIDs(of: localityId, in: db)
            if actor.covers(ancestry: ancestry) { return }
            let place = try Locality.find(db, id: localityId)?.name ?? "that locality"
            let wards = try actor.wardIds.compactMap { try Locality.find(db, id: $0)?.name }.joined(separator: ", ")
            throw LocalityError.forbidden(
                "\(actor.person.username) may not record needs in \(place): it is outside your wards (\(wards))")
        }
        throw LocalityError.forbidden(
            "recording needs is for councillors and officers; \(actor.person.username) is \(try actor.describeRoles(in: db))")
    }

    /// A need may be changed by whoever recorded it, a councillor for its ward, or an officer.
    public static func requireCanChangeNeed(_ actor: Actor, _ need: Need, _ db: Database) throws {
        if actor.has(.officer) || need.recordedBy == actor.person.id { return }
        if actor.has(.councillor), try actor.covers(need.localityId, in: db) { return }
        throw LocalityError.forbidden(
            "\(actor.person.username) may not change this need: only its recorder, the ward's councillors and officers may")
    }

    /// Proposals are drafted by members of the proposing organisation, for that organisation only.
    public static func requireMember(_ actor: Actor, of organisation: Organisation, to action: String) throws {
        guard actor.isMember(of: organisation.id) else {
            throw LocalityError.forbidden(
                "\(actor.person.username) may not \(action) for \(organisation.name): only its members may")
        }
    }

    /// Only the drafting organisation may edit its proposal, and only while its status allows.
    public static func requireCanEdit(_ actor: Actor, _ proposal: Proposal, _ db: Database) throws {
        let organisation = try Lookup.organisation(proposal.organisationId, db)
        try requireMember(actor, of: organisation, to: "edit this proposal")
        switch proposal.status.editableBy {
        case .draftingOrganisation: return
        case .nobody:
            throw LocalityError(
                .invalidTransition,
                "proposal '\(proposal.title)' is \(proposal.status.rawValue) and can no longer be edited"
                    + (proposal.status == .submitted ? "; withdraw it and draft a new one to change it" : ""))
        }
    }
}

/// Fetches by id that fail with a message naming what was missing.
enum Lookup {
    static func locality(_ id: UUID, _ db: Database) throws -> Locality {
        guard let value = try Locality.find(db, id: id) else { throw LocalityError.notFound("no locality with id \(id.key)") }
        return value
    }

    static func organisation(_ id: UUID, _ db: Database) throws -> Organisation {
        guard let value = try Organisation.find(db, id: id) else {
            throw LocalityError.notFound("no organisation with id \(id.key)")
        }
        return value
    }

    static func round(_ id: UUID, _ db: Database) throws -> Round {
        guard let value = try Round.find(db, id: id) else { throw LocalityError.notFound("no round with id \(id.key)") }
        return value
    }

    static func budget(_ id: UUID, _ db: Database) throws -> Budget {
        guard let value = try Budget.find(db, id: id) else { throw LocalityError.notFound("no budget with id \(id.key)") }
        return value
    }

    static func need(_ id: UUID, _ db: Database) throws -> Need {
        guard let value = try Need.find(db, id: id) else { throw LocalityError.notFound("no need with id \(id.key)") }
        return value
    }

    static func outcome(_ id: UUID, _ db: Database) throws -> Outcome {
        guard let value = try Outcome.find(db, id: id) else { throw LocalityError.notFound("no outcome with id \(id.key)") }
        return value
    }

    static func proposal(_ id: UUID, _ db: Database) throws -> Proposal {
        guard let value = try Proposal.find(db, id: id) else {
            throw LocalityError.notFound("no proposal with id \(id.key)")
        }
        return value
    }
}

/// Turns a primary-key violation into the error a person should read.
enum DuplicateKey {
    /// (The error is made only if it is thrown: a push records thousands of needs a second.)
    static func `as`(_ error: @autoclosure () -> LocalityError, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let databaseError as DatabaseError
            where databaseError.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
            || databaseError.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
        {
            throw error()
        }
    }
}
