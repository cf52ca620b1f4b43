import Foundation
import GRDB

/// `decision.record`: a decision on a submitted (or deferred) proposal, under the scheme of
/// delegation. Approving commits the amount on the budget's ledger in the same step, and only if
/// the budget has it available: on the server, decisions are applied one at a time inside the
/// transaction that records them, so committed can never exceed allocated. A decision taken
/// offline is checked against the device's copy first, and again, finally, by the server; if the
/// money has gone meanwhile it is refused with the shortfall and the proposal awaits a decision again.
public struct RecordDecision: MutationCommand, Hashable {
    public static let name = MutationName.decisionRecord

    public var decisionId: UUID
    public var proposalId: UUID
    public var outcome: Decision.Outcome
    /// For an approval: the amount to commit; the amount requested when absent. Less than
    /// requested makes the decision a part-funding.
    public var amount: Money?
    public var reasons: String
    public var conditions: String
    /// The commitment's ledger entry, made on the device like every id.
    public var ledgerEntryId: UUID

    public init(
        decisionId: UUID, proposalId: UUID, outcome: Decision.Outcome, amount: Money? = nil, reasons: String = "",
        conditions: String = "", ledgerEntryId: UUID
    ) {
        self.decisionId = decisionId
        self.proposalId = proposalId
        self.outcome = outcome
        self.amount = amount
        self.reasons = reasons
        self.conditions = conditions
        self.ledgerEntryId = ledgerEntryId
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        var proposal = try Lookup.proposal(proposalId, db)
        if let vote = try VoteRules.deciding(proposalId, db) {
            throw LocalityError(
                .invalidTransition,
                "'\(proposal.title)' is on the ballot of the residents' vote '\(vote.title)' (\(vote.status.rawValue) until \(vote.closesOn)); "
                    + "the vote's count decides it")
        }
        guard proposal.status.awaitsDecision else {
            let why: String =
                switch proposal.status {
                case .draft: "proposal '\(proposal.title)' is a draft: it can be decided once its organisation submits it"
                case .withdrawn: "proposal '\(proposal.title)' was withdrawn; there is nothing to decide"
                default: "proposal '\(proposal.title)' has already been decided (\(proposal.status.rawValue))"
                }
            throw LocalityError(.invalidTransition, why)
        }
        if try InterestDeclaration.exists(person: actor.person.id, proposal: proposalId, db) {
            throw LocalityError.forbidden(
                "\(actor.person.username) has declared an interest in proposal '\(proposal.title)' and may not decide it")
        }
        let reasons = try Validate.text(reasons, field: "reasons")
        let conditions = try Validate.text(conditions, field: "conditions")
        var outcome = outcome
        var committed: Money?
        switch outcome {
        case .approved, .partFunded:
            let amount = amount ?? proposal.amountRequested
            guard amount > .zero else { throw LocalityError.invalid("an approval must commit more than £0.00") }
            guard amount <= proposal.amountRequested else {
                throw LocalityError.invalid(
                    "\(amount) is more than proposal '\(proposal.title)' asks for (\(proposal.amountRequested))")
            }
            outcome = amount < proposal.amountRequested ? .partFunded : .approved
            committed = amount
        case .rejected, .deferred:
            guard amount == nil else {
                throw LocalityError.invalid("an amount goes with an approval, not with a decision to \(outcome == .rejected ? "reject" : "defer")")
            }
        }
        if reasons.isEmpty, outcome == .rejected || outcome == .partFunded {
            throw LocalityError.invalid(
                outcome == .rejected
                    ? "reasons are required to reject a proposal: the applicant and residents see them"
                    : "reasons are required to approve less than was asked for (\(committed!) of \(proposal.amountRequested))")
        }
        // Authority is judged on what is at stake: the amount committed, or the amount asked for.
        let delegation = try Delegation.authority(
            for: actor, deciding: committed ?? proposal.amountRequested, in: proposal.localityId, db)
        if let committed {
            let budget = try Lookup.budget(proposal.budgetId, db)
            try BudgetRules.requireOpen(budget, for: "approving '\(proposal.title)'")
            let position = try BudgetPosition.of(budget: budget.id, in: db)
            guard committed <= position.available else {
                throw LocalityError(
                    .insufficientFunds,
                    "\(budget.name) is \(committed - position.available) short: \(position.available) is available and "
                        + "approving '\(proposal.title)' would commit \(committed); the proposal still awaits a decision")
            }
            try DuplicateKey.as(LocalityError.invalid("ledger entry \(ledgerEntryId.key) already exists")) {
                try LedgerEntry(
                    id: ledgerEntryId, budgetId: budget.id, kind: .commitment, amount: committed,
                    note: "\(outcome == .partFunded ? "Part-funded" : "Approved"): \(proposal.title)", recordedAt: context.at,
                    decisionId: decisionId, proposalId: proposal.id, recordedBy: actor.person.id
                ).insert(db)
            }
        }
        try DuplicateKey.as(LocalityError.invalid("decision \(decisionId.key) already exists")) {
            try Decision(
                id: decisionId, proposalId: proposal.id, outcome: outcome, amount: committed, decidedBy: actor.person.id,
                authority: delegation.basis, delegationId: delegation.id, reasons: reasons, conditions: conditions,
                decidedAt: context.at, schemeVersion: delegation.schemeVersion
            ).insert(db)
        }
        try ProposalRules.requireTransition(proposal, to: outcome.proposalStatus)
        proposal.status = outcome.proposalStatus
        proposal.statusReason = reasons.isEmpty ? nil : reasons
        proposal.updatedAt = context.at
        try proposal.update(db)
    }
}

/// `interest.declare`: an assessor or decision-maker declares an interest in a proposal (a
/// family member on the applicant's committee, a business link). From then on they may not
/// assess or decide it. Declarations are kept for the record; they are never withdrawn.
public struct DeclareInterest: MutationCommand, Hashable {
    public static let name = MutationName.interestDeclare

    public var declarationId: UUID
    public var proposalId: UUID
    public var interest: String

    public init(declarationId: UUID, proposalId: UUID, interest: String) {
        self.declarationId = declarationId
        self.proposalId = proposalId
        self.interest = interest
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        guard actor.has(.officer) || actor.has(.councillor) || actor.has(.executive) else {
            throw LocalityError.forbidden(
                "declarations of interest are for officers and members who assess or decide; \(actor.person.username) is "
                    + (try actor.describeRoles(in: db)))
        }
        let proposal = try Lookup.proposal(proposalId, db)
        guard proposal.status != .draft else {
            throw LocalityError.invalid("proposal '\(proposal.title)' is still a draft; interests are declared once it is submitted")
        }
        let interest = try Validate.text(interest, field: "interest")
        guard !interest.isEmpty else { throw LocalityError.invalid("say what the interest is: it is kept on the record") }
        try DuplicateKey.as(LocalityError.invalid("declaration \(declarationId.key) already exists")) {
            try InterestDeclaration(
                id: declarationId, proposalId: proposal.id, personId: actor.person.id, interest: interest,
                declaredAt: context.at
            ).insert(db)
        }
    }
}
