import Foundation
import GRDB

/// `round.open`: an officer opens a funding round on a budget, with its dates, eligibility,
/// targets and weighted criteria (a short set for small grants is fine: proportionate).
public struct OpenRound: MutationCommand, Hashable {
    public static let name = MutationName.roundOpen

    public struct CriterionInput: Codable, Sendable, Hashable {
        public var id: UUID
        public var name: String
        public var weight: Int
        public var scaleMax: Int
        public var guidance: String
        public init(id: UUID, name: String, weight: Int, scaleMax: Int = 5, guidance: String = "") {
            self.id = id
            self.name = name
            self.weight = weight
            self.scaleMax = scaleMax
            self.guidance = guidance
        }
    }

    public var roundId: UUID
    public var budgetId: UUID
    public var title: String
    public var opensOn: String
    public var closesOn: String
    public var maxAward: Money?
    public var localityIds: [UUID]
    public var organisationKinds: [Organisation.Kind]
    public var needIds: [UUID]
    public var outcomeIds: [UUID]
    public var councillorsAssess: Bool
    public var criteria: [CriterionInput]

    public init(
        roundId: UUID, budgetId: UUID, title: String, opensOn: String, closesOn: String, maxAward: Money? = nil,
        localityIds: [UUID] = [], organisationKinds: [Organisation.Kind] = [], needIds: [UUID] = [], outcomeIds: [UUID] = [],
        councillorsAssess: Bool = false, criteria: [CriterionInput]
    ) {
        self.roundId = roundId
        self.budgetId = budgetId
        self.title = title
        self.opensOn = opensOn
        self.closesOn = closesOn
        self.maxAward = maxAward
        self.localityIds = localityIds
        self.organisationKinds = organisationKinds
        self.needIds = needIds
        self.outcomeIds = outcomeIds
        self.councillorsAssess = councillorsAssess
        self.criteria = criteria
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        guard actor.has(.officer) else {
            throw LocalityError.forbidden("rounds are opened by officers; \(actor.person.username) is \(try actor.describeRoles(in: db))")
        }
        let budget = try Lookup.budget(budgetId, db)
        let opensOn = try Validate.day(opensOn, field: "opening date")
        let closesOn = try Validate.day(closesOn, field: "closing date")
        guard closesOn >= opensOn else { throw LocalityError.invalid("the round closes (\(closesOn)) before it opens (\(opensOn))") }
        if let maxAward { _ = try Validate.amount(maxAward) }
        for localityId in localityIds {
            guard try Locality.isWithin(localityId, budget.localityId, in: db) else {
                throw LocalityError.invalid("\(try Lookup.locality(localityId, db).name) is outside \(budget.name)'s area")
            }
        }
        for needId in needIds { _ = try Lookup.need(needId, db) }
        for outcomeId in outcomeIds { _ = try Lookup.outcome(outcomeId, db) }
        guard !criteria.isEmpty else { throw LocalityError.invalid("a round needs at least one assessment criterion") }
        for criterion in criteria {
            guard (1...100).contains(criterion.weight) else {
                throw LocalityError.invalid("criterion '\(criterion.name)' needs a weight from 1 to 100, not \(criterion.weight)")
            }
            guard (1...10).contains(criterion.scaleMax) else {
                throw LocalityError.invalid("criterion '\(criterion.name)' needs a scale from 0 to between 1 and 10, not \(criterion.scaleMax)")
            }
        }
        func array(_ values: [String]) -> String { JSONValue.array(values.map(JSONValue.string)).jsonText }
        try DuplicateKey.as(LocalityError.invalid("round \(roundId.key) already exists")) {
            try Round(
                id: roundId, budgetId: budget.id, title: try Validate.title(title), opensOn: opensOn, closesOn: closesOn,
                maxAward: maxAward, localityIds: array(localityIds.map(\.key)),
                organisationKinds: array(organisationKinds.map(\.rawValue)), needIds: array(needIds.map(\.key)),
                outcomeIds: array(outcomeIds.map(\.key)), councillorsAssess: councillorsAssess, createdBy: actor.person.id,
                createdAt: context.at
            ).insert(db)
            for (position, criterion) in criteria.enumerated() {
                try Criterion(
                    id: criterion.id, roundId: roundId, name: try Validate.title(criterion.name, field: "criterion"),
                    weight: criterion.weight, scaleMax: criterion.scaleMax,
                    guidance: try Validate.text(criterion.guidance, field: "guidance"), position: position
                ).insert(db)
            }
        }
    }
}

/// `assessment.score`: an assessor scores a submitted proposal in a round against its criteria,
/// having declared that they have no interest in it (one with a declared interest may not).
public struct ScoreProposal: MutationCommand, Hashable {
    public static let name = MutationName.assessmentScore

    public struct Score: Codable, Sendable, Hashable {
        public var id: UUID
        public var criterionId: UUID
        public var score: Int
        public var comment: String
        public init(id: UUID, criterionId: UUID, score: Int, comment: String = "") {
            self.id = id
            self.criterionId = criterionId
            self.score = score
            self.comment = comment
        }
    }

    public var proposalId: UUID
    /// The assessor's declaration that they have no interest in the proposal.
    public var declaresNoInterest: Bool
    public var scores: [Score]

    public init(proposalId: UUID, declaresNoInterest: Bool, scores: [Score]) {
        self.proposalId = proposalId
        self.declaresNoInterest = declaresNoInterest
        self.scores = scores
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        let proposal = try Lookup.proposal(proposalId, db)
        guard let roundId = proposal.roundId, let round = try Round.find(db, id: roundId) else {
            throw LocalityError.invalid("proposal '\(proposal.title)' is not in a funding round, so it has no criteria to score")
        }
        let wardCouncillor = round.councillorsAssess && actor.has(.councillor) ? try actor.covers(proposal.localityId, in: db) : false
        let mayAssess = actor.has(.officer) || wardCouncillor
        guard mayAssess else {
            throw LocalityError.forbidden(
                round.councillorsAssess
                    ? "proposals in '\(round.title)' are assessed by officers and the councillors for their wards"
                    : "proposals in '\(round.title)' are assessed by officers")
        }
        guard proposal.status.awaitsDecision else {
            throw LocalityError(.invalidTransition, "proposal '\(proposal.title)' is \(proposal.status.rawValue): there is nothing to assess")
        }
        if try InterestDeclaration.exists(person: actor.person.id, proposal: proposal.id, db) {
            throw LocalityError.forbidden("\(actor.person.username) has declared an interest in '\(proposal.title)' and may not assess it")
        }
        guard declaresNoInterest else {
            throw LocalityError.invalid("declare any interest first: confirm you have none, or record it with `locality interest declare`")
        }
        guard !scores.isEmpty else { throw LocalityError.invalid("give at least one score") }
        for score in scores {
            guard let criterion = try Criterion.find(db, id: score.criterionId), criterion.roundId == round.id else {
                throw LocalityError.notFound("criterion \(score.criterionId.key) is not one of '\(round.title)'s")
            }
            guard (0...criterion.scaleMax).contains(score.score) else {
                throw LocalityError.invalid("'\(criterion.name)' is scored from 0 to \(criterion.scaleMax), not \(score.score)")
            }
            try DuplicateKey.as(LocalityError.invalid("score \(score.id.key) already exists")) {
                try Assessment(
                    id: score.id, proposalId: proposal.id, criterionId: criterion.id, assessorId: actor.person.id, score: score.score,
                    comment: try Validate.text(score.comment, field: "comment"), scoredAt: context.at
                ).insert(db)
            }
        }
    }
}

/// `assessment.moderate`: an officer adjusts a proposal's weighted total, with a reason.
public struct ModerateAssessment: MutationCommand, Hashable {
    public static let name = MutationName.assessmentModerate

    public var moderationId: UUID
    public var proposalId: UUID
    /// Percentage points, from -100 to 100.
    public var adjustment: Double
    public var reason: String

    public init(moderationId: UUID, proposalId: UUID, adjustment: Double, reason: String) {
        self.moderationId = moderationId
        self.proposalId = proposalId
        self.adjustment = adjustment
        self.reason = reason
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        guard actor.has(.officer) else { throw LocalityError.forbidden("moderation is for officers") }
        let proposal = try Lookup.proposal(proposalId, db)
        guard proposal.roundId != nil else { throw LocalityError.invalid("proposal '\(proposal.title)' is not in a funding round") }
        guard adjustment.isFinite, (-100...100).contains(adjustment), adjustment != 0 else {
            throw LocalityError.invalid("a moderation moves the total by between -100 and 100 points, not \(adjustment)")
        }
        if try InterestDeclaration.exists(person: actor.person.id, proposal: proposal.id, db) {
            throw LocalityError.forbidden("\(actor.person.username) has declared an interest in '\(proposal.title)' and may not moderate it")
        }
        let reason = try Validate.text(reason, field: "reason")
        guard !reason.isEmpty else { throw LocalityError.invalid("a moderation needs its reason") }
        try DuplicateKey.as(LocalityError.invalid("moderation \(moderationId.key) already exists")) {
            try Moderation(
                id: moderationId, proposalId: proposal.id, adjustment: adjustment, reason: reason, moderatedBy: actor.person.id,
                moderatedAt: context.at
            ).insert(db)
        }
    }
}
