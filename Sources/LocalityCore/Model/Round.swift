import Foundation
import GRDB

/// A call for proposals against a budget: open between two dates, for the needs and outcomes it
/// targets, to the places and kinds of organisation it names, up to a maximum award, and
/// assessed against its weighted criteria.
public struct Round: SyncRecord, Hashable {
    public static let databaseTableName = "round"

    public var id: UUID
    public var budgetId: UUID
    public var title: String
    public var opensOn: String
    public var closesOn: String
    public var maxAward: Money?
    /// JSON arrays of ids / kinds; empty means no restriction beyond the budget's area.
    public var localityIds: String
    public var organisationKinds: String
    public var needIds: String
    public var outcomeIds: String
    /// Whether councillors (for the proposal's wards) may assess, as well as officers.
    public var councillorsAssess: Bool
    public var createdBy: UUID
    public var createdAt: Date

    /// Whether the round takes submissions on `day` (`2026-11-23`).
    public func isOpen(on day: String) -> Bool { opensOn <= day && day <= closesOn }

    public static func ids(_ text: String) -> [UUID] {
        guard case .array(let items)? = try? JSONParser.parse(text) else { return [] }
        return items.compactMap { if case .string(let key) = $0 { UUID(key: key) } else { nil } }
    }

    static func strings(_ text: String) -> [String] {
        guard case .array(let items)? = try? JSONParser.parse(text) else { return [] }
        return items.compactMap { if case .string(let value) = $0 { value } else { nil } }
    }

    /// The budget's round open on `day` that will take `proposal`: of several, the one closing
    /// soonest (then by id). Proposals are submitted into an open round only, so with none open
    /// this says so; with none that will take it, it gives the first round's reason.
    static func openRound(taking proposal: Proposal, on day: String, _ db: Database) throws -> Round {
        let open = try Round.fetchAll(
            db, sql: "SELECT * FROM round WHERE budget_id = ? AND opens_on <= ? AND closes_on >= ? ORDER BY closes_on, id",
            arguments: [proposal.budgetId.key, day, day])
        var firstRefusal: (any Error)?
        for round in open {
            do {
                try round.requireEligible(proposal, on: day, db)
                return round
            } catch {
                if firstRefusal == nil { firstRefusal = error }
            }
        }
        if let firstRefusal { throw firstRefusal }
        let budget = try Lookup.budget(proposal.budgetId, db)
        throw LocalityError(
            .invalidTransition,
            "\(budget.name) has no round open on \(day); proposals are submitted into an open round (an officer opens one with `round open`)")
    }

    /// Refuses a proposal the round does not take, saying why.
    func requireEligible(_ proposal: Proposal, on day: String, _ db: Database) throws {
        guard isOpen(on: day) else {
            throw LocalityError(
                .invalidTransition,
                "the round '\(title)' takes proposals from \(opensOn) to \(closesOn); it is \(day < opensOn ? "not open yet" : "closed")")
        }
        if let maxAward, proposal.amountRequested > maxAward {
            throw LocalityError.invalid("'\(title)' awards at most \(maxAward); '\(proposal.title)' asks for \(proposal.amountRequested)")
        }
        let places = Self.ids(localityIds)
        if !places.isEmpty {
            let ancestry = try Locality.ancestorIDs(of: proposal.localityId, in: db)
            guard places.contains(where: ancestry.contains) else {
                let names = try places.compactMap { try Locality.find(db, id: $0)?.name }.joined(separator: ", ")
                throw LocalityError.invalid("'\(title)' is open to proposals in \(names) only")
            }
        }
        let kinds = Self.strings(organisationKinds)
        if !kinds.isEmpty {
            let organisation = try Lookup.organisation(proposal.organisationId, db)
            guard kinds.contains(organisation.kind.rawValue) else {
                throw LocalityError.invalid(
                    "'\(title)' is open to \(kinds.joined(separator: ", ")) organisations; \(organisation.name) is a \(organisation.kind.rawValue)")
            }
        }
    }
}

/// One of a round's weighted assessment criteria, scored from 0 to `scaleMax`.
public struct Criterion: SyncRecord, Hashable {
    public static let databaseTableName = "round_criterion"

    public var id: UUID
    public var roundId: UUID
    public var name: String
    public var weight: Int
    public var scaleMax: Int
    public var guidance: String
    public var position: Int
}

/// One assessor's score of a proposal against one criterion.
public struct Assessment: SyncRecord, Hashable {
    public static let databaseTableName = "assessment"

    public var id: UUID
    public var proposalId: UUID
    public var criterionId: UUID
    public var assessorId: UUID
    public var score: Int
    public var comment: String
    public var scoredAt: Date
}

/// A moderation of a proposal's weighted total, in percentage points, with the reason.
public struct Moderation: SyncRecord, Hashable {
    public static let databaseTableName = "moderation"

    public var id: UUID
    public var proposalId: UUID
    public var adjustment: Double
    public var reason: String
    public var moderatedBy: UUID
    public var moderatedAt: Date
}
