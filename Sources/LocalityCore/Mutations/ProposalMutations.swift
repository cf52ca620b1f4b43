import Foundation
import GRDB

/// `proposal.draft`: a parish or community group starts a funding proposal against a budget.
public struct DraftProposal: MutationCommand, Hashable {
    public static let name = MutationName.proposalDraft

    public var proposalId: UUID
    public var budgetId: UUID
    public var organisationId: UUID
    public var localityId: UUID
    public var title: String
    public var summary: String = ""
    public var amountRequested: Money
    public var deliveryModel: Proposal.DeliveryModel?
    public var socialValue: String = ""
    public var needIds: [UUID] = []
    public var outcomeIds: [UUID] = []
    /// The funding round to enter it into, if any (it must be the round of the same budget).
    public var roundId: UUID?

    public init(
        proposalId: UUID, budgetId: UUID, organisationId: UUID, localityId: UUID, title: String, amountRequested: Money
    ) {
        self.proposalId = proposalId
        self.budgetId = budgetId
        self.organisationId = organisationId
        self.localityId = localityId
        self.title = title
        self.amountRequested = amountRequested
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let organisation = try Lookup.organisation(organisationId, db)
        try Policy.requireMember(context.actor, of: organisation, to: "draft proposals")
        guard try !Proposal.exists(db, id: proposalId) else {
            throw LocalityError.invalid("proposal \(proposalId.key) already exists")
        }
        let proposal = Proposal(
            id: proposalId, budgetId: budgetId, localityId: localityId, organisationId: organisationId,
            title: try Validate.title(title),
            summary: try Validate.text(summary, field: "summary"),
            amountRequested: try Validate.amount(amountRequested),
            deliveryModel: deliveryModel,
            socialValue: try Validate.text(socialValue, field: "social value statement"),
            status: .draft, statusReason: nil,
            createdBy: context.actor.person.id, createdAt: context.at, updatedAt: context.at, submittedAt: nil,
            roundId: roundId)
        if let roundId {
            let round = try Lookup.round(roundId, db)
            guard round.budgetId == budgetId else {
                throw LocalityError.invalid("the round '\(round.title)' is for another budget")
            }
        }
        try ProposalRules.check(proposal, needIds: needIds, outcomeIds: outcomeIds, db)
        try proposal.insert(db)
        try ProposalRules.link(proposal.id, needIds: needIds, outcomeIds: outcomeIds, replacing: false, db)
    }
}

/// `proposal.edit`: changes the given fields of a draft. Lists of needs and outcomes, when given,
/// replace the old lists.
public struct EditProposal: MutationCommand, Hashable {
    public static let name = MutationName.proposalEdit

    public var proposalId: UUID
    public var title: String?
    public var summary: String?
    public var amountRequested: Money?
    public var localityId: UUID?
    public var deliveryModel: Proposal.DeliveryModel?
    public var socialValue: String?
    public var needIds: [UUID]?
    public var outcomeIds: [UUID]?
    /// For each changed field, the clock of its last edit as this device knew it ("" for none):
    /// how the server tells a concurrent edit from a later one. Filled in by `Replica.perform`.
    public var seen: [String: String]?

    public init(proposalId: UUID) { self.proposalId = proposalId }

    public var changesSomething: Bool { !fields.isEmpty }

    /// The fields this edit changes, by the names conflicts use.
    public var fields: [String] {
        var fields: [String] = []
        if title != nil { fields.append("title") }
        if summary != nil { fields.append("summary") }
        if amountRequested != nil { fields.append("amountRequested") }
        if localityId != nil { fields.append("locality") }
        if deliveryModel != nil { fields.append("deliveryModel") }
        if socialValue != nil { fields.append("socialValue") }
        if needIds != nil { fields.append("needs") }
        if outcomeIds != nil { fields.append("outcomes") }
        return fields
    }

    public func prepared(_ db: Database) throws -> EditProposal {
        guard seen == nil, try Proposal.exists(db, id: proposalId) else { return self }
        var copy = self
        copy.seen = try FieldMerge.seen(table: "proposal", recordId: proposalId, fields: fields, db)
        return copy
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let proposal = try Lookup.proposal(proposalId, db)
        try Policy.requireCanEdit(context.actor, proposal, db)
        guard changesSomething else { throw LocalityError.invalid("nothing to change: give at least one field") }
        var current = try ProposalFields(proposal, db)
        var proposed = current
        if let title { proposed.proposal.title = try Validate.title(title) }
        if let summary { proposed.proposal.summary = try Validate.text(summary, field: "summary") }
        if let amountRequested { proposed.proposal.amountRequested = try Validate.amount(amountRequested) }
        if let localityId { proposed.proposal.localityId = localityId }
        if let deliveryModel { proposed.proposal.deliveryModel = deliveryModel }
        if let socialValue { proposed.proposal.socialValue = try Validate.text(socialValue, field: "social value statement") }
        if let needIds { proposed.needIds = Set(needIds).sorted { $0.key < $1.key } }
        if let outcomeIds { proposed.outcomeIds = Set(outcomeIds).sorted { $0.key < $1.key } }
        try ProposalRules.check(proposed.proposal, needIds: needIds ?? [], outcomeIds: outcomeIds ?? [], db)
        var merge = try FieldMerge(table: "proposal", recordId: proposalId, context: context, seen: seen, db)
        var linksChanged = false
        for field in fields
        where try merge.admit(field, current: current.fragment(field), incoming: proposed.fragment(field), db) {
            current.take(field, from: proposed)
            linksChanged = linksChanged || field == "needs" || field == "outcomes"
        }
        // What the merge kept must still make a valid proposal (a locality from one edit, an amount from another).
        try ProposalRules.check(current.proposal, needIds: [], outcomeIds: [], db)
        current.proposal.updatedAt = max(current.proposal.updatedAt, context.at)
        try current.proposal.update(db)
        try merge.save(db)
        if linksChanged {
            try ProposalRules.link(
                proposalId, needIds: current.needIds, outcomeIds: current.outcomeIds, replacing: true, db)
        }
    }
}

/// A proposal with its links: the fields an edit can change.
struct ProposalFields {
    var proposal: Proposal
    var needIds: [UUID]
    var outcomeIds: [UUID]

    init(_ proposal: Proposal, _ db: Database) throws {
        self.proposal = proposal
        needIds = try String.fetchAll(
            try db.cachedStatement(sql: "SELECT need_id FROM proposal_need WHERE proposal_id = ? ORDER BY need_id"),
            arguments: [proposal.id.key]
        ).compactMap(UUID.init(key:))
        outcomeIds = try String.fetchAll(
            try db.cachedStatement(sql: "SELECT outcome_id FROM proposal_outcome WHERE proposal_id = ? ORDER BY outcome_id"),
            arguments: [proposal.id.key]
        ).compactMap(UUID.init(key:))
    }

    /// A field's value as `proposal.edit` arguments: the form conflicts keep values in.
    func fragment(_ field: String) -> JSONValue {
        switch field {
        case "title": .object(["title": .string(proposal.title)])
        case "summary": .object(["summary": .string(proposal.summary)])
        case "amountRequested": .object(["amountRequested": .int(proposal.amountRequested.pence)])
        case "locality": .object(["localityId": .string(proposal.localityId.key)])
        case "deliveryModel": .object(["deliveryModel": proposal.deliveryModel.map { .string($0.rawValue) } ?? .null])
        case "socialValue": .object(["socialValue": .string(proposal.socialValue)])
        case "needs": .object(["needIds": .array(needIds.map { .string($0.key) })])
        case "outcomes": .object(["outcomeIds": .array(outcomeIds.map { .string($0.key) })])
        default: .null
        }
    }

    mutating func take(_ field: String, from other: ProposalFields) {
        switch field {
        case "title": proposal.title = other.proposal.title
        case "summary": proposal.summary = other.proposal.summary
        case "amountRequested": proposal.amountRequested = other.proposal.amountRequested
        case "locality": proposal.localityId = other.proposal.localityId
        case "deliveryModel": proposal.deliveryModel = other.proposal.deliveryModel
        case "socialValue": proposal.socialValue = other.proposal.socialValue
        case "needs": needIds = other.needIds
        case "outcomes": outcomeIds = other.outcomeIds
        default: break
        }
    }
}

/// `proposal.submit`: the drafting organisation puts its proposal forward for assessment.
public struct SubmitProposal: MutationCommand, Hashable {
    public static let name = MutationName.proposalSubmit

    public var proposalId: UUID
    /// The open round to submit it into, when it was not drafted into one. Without either, it goes
    /// into the budget's open round that closes soonest and will take it.
    public var roundId: UUID?

    public init(proposalId: UUID, roundId: UUID? = nil) {
        self.proposalId = proposalId
        self.roundId = roundId
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        var proposal = try Lookup.proposal(proposalId, db)
        try Policy.requireMember(context.actor, of: try Lookup.organisation(proposal.organisationId, db), to: "submit this proposal")
        try ProposalRules.requireTransition(proposal, to: .submitted)
        guard !proposal.summary.isEmpty else {
            throw LocalityError.invalid(
                "proposal '\(proposal.title)' needs a summary before it can be submitted; add one with `proposal edit --summary`")
        }
        let day = Timestamps.day(context.at)
        if let chosen = roundId, let drafted = proposal.roundId, chosen != drafted {
            throw LocalityError.invalid("proposal '\(proposal.title)' was drafted into another round; submit it without --round")
        }
        if let roundId = proposal.roundId ?? roundId {
            let round = try Lookup.round(roundId, db)
            guard round.budgetId == proposal.budgetId else {
                throw LocalityError.invalid("the round '\(round.title)' is for another budget")
            }
            try round.requireEligible(proposal, on: day, db)
            proposal.roundId = round.id
        } else {
            proposal.roundId = try Round.openRound(taking: proposal, on: day, db).id
        }
        proposal.status = .submitted
        proposal.submittedAt = context.at
        proposal.updatedAt = context.at
        try proposal.update(db)
    }
}

/// `proposal.withdraw`: the drafting organisation takes its proposal back. Final.
public struct WithdrawProposal: MutationCommand, Hashable {
    public static let name = MutationName.proposalWithdraw

    public var proposalId: UUID
    public var reason: String?

    public init(proposalId: UUID, reason: String? = nil) {
        self.proposalId = proposalId
        self.reason = reason
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        var proposal = try Lookup.proposal(proposalId, db)
        try Policy.requireMember(context.actor, of: try Lookup.organisation(proposal.organisationId, db), to: "withdraw this proposal")
        try ProposalRules.requireTransition(proposal, to: .withdrawn)
        proposal.status = .withdrawn
        proposal.statusReason = try reason.map { try Validate.text($0, field: "reason") }.flatMap { $0.isEmpty ? nil : $0 }
        proposal.updatedAt = context.at
        try proposal.update(db)
    }
}

enum ProposalRules {
    static func requireTransition(_ proposal: Proposal, to next: Proposal.Status) throws {
        guard proposal.status.canMove(to: next) else {
            let verb = next == .submitted ? "submitted" : "withdrawn"
            throw LocalityError(
                .invalidTransition,
                proposal.status == next
                    ? "proposal '\(proposal.title)' is already \(next.rawValue)"
                    : "proposal '\(proposal.title)' is \(proposal.status.rawValue) and cannot be \(verb)")
        }
    }

    /// What must hold of any proposal, however it got there.
    static func check(_ proposal: Proposal, needIds: [UUID], outcomeIds: [UUID], _ db: Database) throws {
        let budget = try Lookup.budget(proposal.budgetId, db)
        let locality = try Lookup.locality(proposal.localityId, db)
        guard try Locality.isWithin(locality.id, budget.localityId, in: db) else {
            let area = try Locality.find(db, id: budget.localityId)?.name ?? "its area"
            throw LocalityError.invalid("\(locality.name) is not within \(area), which \(budget.name) covers")
        }
        let position = try BudgetPosition.of(budget: budget.id, in: db)
        guard proposal.amountRequested <= position.allocated else {
            throw LocalityError.invalid(
                "\(proposal.amountRequested) is more than the whole of \(budget.name) (\(position.allocated) allocated)")
        }
        for needId in needIds { _ = try Lookup.need(needId, db) }
        for outcomeId in outcomeIds { _ = try Lookup.outcome(outcomeId, db) }
    }

    static func link(_ proposalId: UUID, needIds: [UUID]?, outcomeIds: [UUID]?, replacing: Bool, _ db: Database) throws {
        if let needIds {
            if replacing { try db.execute(sql: "DELETE FROM proposal_need WHERE proposal_id = ?", arguments: [proposalId.key]) }
            for needId in Set(needIds) { try ProposalNeed(proposalId: proposalId, needId: needId).insert(db) }
        }
        if let outcomeIds {
            if replacing {
                try db.execute(sql: "DELETE FROM proposal_outcome WHERE proposal_id = ?", arguments: [proposalId.key])
            }
            for outcomeId in Set(outcomeIds) { try ProposalOutcome(proposalId: proposalId, outcomeId: outcomeId).insert(db) }
        }
    }
}
