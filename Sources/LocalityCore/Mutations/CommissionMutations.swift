import Foundation
import GRDB

enum CommissionRules {
    /// Stages 1–2 (analyse) are for the councillors of the place and officers; the rest for
    /// officers. Executive members may act at any stage.
    static func requireMayWork(on commission: Commission, atStage stage: Int, _ actor: Actor, _ db: Database) throws {
        if actor.has(.officer) || actor.has(.executive) { return }
        if stage <= 2, actor.has(.councillor), try actor.covers(commission.localityId, in: db) { return }
        let who = Commission.stages[stage - 1].responsible
        throw LocalityError.forbidden(
            "stage \(stage) (\(Commission.stages[stage - 1].name)) of '\(commission.title)' is for \(who); "
                + "\(actor.person.username) is \(try actor.describeRoles(in: db))")
    }

    static func find(_ id: UUID, _ db: Database) throws -> Commission {
        guard let commission = try Commission.find(db, id: id) else { throw LocalityError.notFound("no commission with id \(id.key)") }
        return commission
    }

    static func array(_ ids: [UUID]) -> String { JSONValue.array(ids.map { .string($0.key) }).jsonText }

    /// What the current stage must have produced before the next may start; nil when it has.
    static func missing(for commission: Commission, _ db: Database) throws -> String? {
        switch commission.stage {
        case 1:
            return Round.ids(commission.needIds).isEmpty ? "no needs are linked yet: link the needs it answers" : nil
        case 2:
            return commission.priorityReason.isEmpty ? "no prioritisation decision is recorded: record why these needs come first" : nil
        case 3:
            let outcomes = Round.ids(commission.outcomeIds)
            guard !outcomes.isEmpty else { return "no outcomes are defined yet: there can be no specification before outcomes" }
            for outcome in outcomes {
                let measured = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM indicator WHERE outcome_id = ? AND target IS NOT NULL", arguments: [outcome.key]) ?? 0
                if measured == 0 {
                    return "outcome '\(try Lookup.outcome(outcome, db).title)' has no indicator with a target: say how it will be measured"
                }
            }
            return nil
        case 4:
            return commission.specification.isEmpty ? "there is no specification yet" : nil
        case 5:
            return Round.ids(commission.proposalIds).isEmpty ? "no proposals or bids have been received yet" : nil
        case 6:
            return commission.awardId == nil ? "there is no award yet: an award needs a recorded decision and a commitment" : nil
        case 7:
            guard let awardId = commission.awardId else { return "there is no award to monitor" }
            let reports = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM monitoring_report WHERE award_id = ?", arguments: [awardId.key]) ?? 0
            return reports == 0 ? "no monitoring report has been received on the award yet" : nil
        default:
            guard let awardId = commission.awardId else { return "there is no award to review" }
            let reviews = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM review WHERE award_id = ?", arguments: [awardId.key]) ?? 0
            return reviews == 0 ? "the award has not been reviewed yet" : nil
        }
    }
}

/// `commission.start`: a piece of commissioning at a level, starting at stage 1.
public struct StartCommission: MutationCommand, Hashable {
    public static let name = MutationName.commissionStart

    public var commissionId: UUID
    public var title: String
    public var level: Commission.Level
    public var localityId: UUID
    public var needIds: [UUID]

    public init(commissionId: UUID, title: String, level: Commission.Level, localityId: UUID, needIds: [UUID] = []) {
        self.commissionId = commissionId
        self.title = title
        self.level = level
        self.localityId = localityId
        self.needIds = needIds
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        _ = try Lookup.locality(localityId, db)
        for needId in needIds { _ = try Lookup.need(needId, db) }
        let commission = Commission(
            id: commissionId, title: try Validate.title(title), level: level, localityId: localityId, stage: 1, status: .active,
            needIds: CommissionRules.array(needIds), outcomeIds: "[]", proposalIds: "[]", priorityReason: "", specification: "",
            awardId: nil, createdBy: context.actor.person.id, createdAt: context.at, updatedAt: context.at)
        try CommissionRules.requireMayWork(on: commission, atStage: 1, context.actor, db)
        try DuplicateKey.as(LocalityError.invalid("commission \(commissionId.key) already exists")) { try commission.insert(db) }
    }
}

/// `commission.record`: the work of the current stage — linked needs, the prioritisation
/// decision, outcomes, the specification, proposals received, the award. Only what the current
/// stage (or an earlier one) produces may be recorded: no specification before outcomes are defined.
public struct RecordCommissionWork: MutationCommand, Hashable {
    public static let name = MutationName.commissionRecord

    public var commissionId: UUID
    public var needIds: [UUID]?
    public var priorityReason: String?
    public var outcomeIds: [UUID]?
    public var specification: String?
    public var proposalIds: [UUID]?
    public var awardId: UUID?

    public init(
        commissionId: UUID, needIds: [UUID]? = nil, priorityReason: String? = nil, outcomeIds: [UUID]? = nil,
        specification: String? = nil, proposalIds: [UUID]? = nil, awardId: UUID? = nil
    ) {
        self.commissionId = commissionId
        self.needIds = needIds
        self.priorityReason = priorityReason
        self.outcomeIds = outcomeIds
        self.specification = specification
        self.proposalIds = proposalIds
        self.awardId = awardId
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        var commission = try CommissionRules.find(commissionId, db)
        guard commission.status == .active else { throw LocalityError(.invalidTransition, "'\(commission.title)' is closed") }
        try CommissionRules.requireMayWork(on: commission, atStage: commission.stage, context.actor, db)
        func requireStage(_ stage: Int, for what: String) throws {
            guard commission.stage >= stage else {
                throw LocalityError(
                    .invalidTransition,
                    "'\(commission.title)' is at stage \(commission.stage) (\(commission.stageName)); \(what) belongs to stage \(stage) "
                        + "(\(Commission.stages[stage - 1].name)): \(try CommissionRules.missing(for: commission, db) ?? "advance it first")")
            }
        }
        if let needIds {
            for needId in needIds { _ = try Lookup.need(needId, db) }
            commission.needIds = CommissionRules.array(needIds)
        }
        if let priorityReason {
            try requireStage(2, for: "the prioritisation decision")
            commission.priorityReason = try Validate.text(priorityReason, field: "prioritisation")
        }
        if let outcomeIds {
            try requireStage(3, for: "defining outcomes")
            for outcomeId in outcomeIds { _ = try Lookup.outcome(outcomeId, db) }
            commission.outcomeIds = CommissionRules.array(outcomeIds)
        }
        if let specification {
            try requireStage(4, for: "the specification")
            commission.specification = try Validate.text(specification, field: "specification")
        }
        if let proposalIds {
            try requireStage(5, for: "recording proposals received")
            for proposalId in proposalIds { _ = try Lookup.proposal(proposalId, db) }
            commission.proposalIds = CommissionRules.array(proposalIds)
        }
        if let awardId {
            try requireStage(6, for: "the award")
            guard let award = try Award.find(db, id: awardId) else { throw LocalityError.notFound("no award with id \(awardId.key)") }
            guard Round.ids(commission.proposalIds).contains(award.proposalId) else {
                throw LocalityError.invalid("award \(awardId.shortReference) is not for one of the proposals this commission received")
            }
            commission.awardId = awardId
        }
        commission.updatedAt = context.at
        try commission.update(db)
    }
}

/// `commission.advance`: moves a commission to its next stage once the current one has produced
/// what it must; after stage 8, closes it.
public struct AdvanceCommission: MutationCommand, Hashable {
    public static let name = MutationName.commissionAdvance

    public var commissionId: UUID
    /// The stage it moves from, so a stale or repeated request cannot skip a stage.
    public var fromStage: Int

    public init(commissionId: UUID, fromStage: Int) {
        self.commissionId = commissionId
        self.fromStage = fromStage
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        var commission = try CommissionRules.find(commissionId, db)
        guard commission.status == .active else { throw LocalityError(.invalidTransition, "'\(commission.title)' is closed") }
        guard commission.stage == fromStage else {
            throw LocalityError(
                .invalidTransition, "'\(commission.title)' is at stage \(commission.stage), not \(fromStage): someone has moved it already")
        }
        // Whoever works on the current stage may ask; only those responsible for the next may move it on.
        try CommissionRules.requireMayWork(on: commission, atStage: commission.stage, context.actor, db)
        if let missing = try CommissionRules.missing(for: commission, db) {
            throw LocalityError(
                .invalidTransition,
                "'\(commission.title)' cannot leave stage \(commission.stage) (\(commission.stageName)): \(missing)")
        }
        try CommissionRules.requireMayWork(on: commission, atStage: min(commission.stage + 1, 8), context.actor, db)
        if commission.stage == 8 {
            commission.status = .closed
        } else {
            commission.stage += 1
        }
        commission.updatedAt = context.at
        try commission.update(db)
    }
}

/// `commission.option`: a delivery model considered in the options appraisal, scored 0–100.
public struct AppraiseOption: MutationCommand, Hashable {
    public static let name = MutationName.commissionOption

    public var optionId: UUID
    public var commissionId: UUID
    public var deliveryModel: Proposal.DeliveryModel
    public var score: Int
    public var notes: String
    public var chosen: Bool

    public init(optionId: UUID, commissionId: UUID, deliveryModel: Proposal.DeliveryModel, score: Int, notes: String = "", chosen: Bool = false) {
        self.optionId = optionId
        self.commissionId = commissionId
        self.deliveryModel = deliveryModel
        self.score = score
        self.notes = notes
        self.chosen = chosen
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let commission = try CommissionRules.find(commissionId, db)
        try CommissionRules.requireMayWork(on: commission, atStage: max(commission.stage, 3), context.actor, db)
        guard (0...100).contains(score) else { throw LocalityError.invalid("an option is scored from 0 to 100, not \(score)") }
        try DuplicateKey.as(LocalityError.invalid("option \(optionId.key) already exists")) {
            try CommissionOption(
                id: optionId, commissionId: commission.id, deliveryModel: deliveryModel, score: score,
                notes: try Validate.text(notes, field: "notes"), chosen: chosen, recordedBy: context.actor.person.id, recordedAt: context.at
            ).insert(db)
        }
    }
}

/// `commission.risk`: a line of the risk register.
public struct RecordRisk: MutationCommand, Hashable {
    public static let name = MutationName.commissionRisk

    public var riskId: UUID
    public var commissionId: UUID
    public var description: String
    public var likelihood: Int
    public var impact: Int
    public var owner: String
    public var mitigation: String

    public init(riskId: UUID, commissionId: UUID, description: String, likelihood: Int, impact: Int, owner: String, mitigation: String = "") {
        self.riskId = riskId
        self.commissionId = commissionId
        self.description = description
        self.likelihood = likelihood
        self.impact = impact
        self.owner = owner
        self.mitigation = mitigation
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let commission = try CommissionRules.find(commissionId, db)
        try CommissionRules.requireMayWork(on: commission, atStage: commission.stage, context.actor, db)
        guard (1...5).contains(likelihood), (1...5).contains(impact) else {
            throw LocalityError.invalid("likelihood and impact are each scored from 1 to 5")
        }
        let owner = try Validate.title(owner, field: "risk owner")
        try DuplicateKey.as(LocalityError.invalid("risk \(riskId.key) already exists")) {
            try CommissionRisk(
                id: riskId, commissionId: commission.id, description: try Validate.title(description, field: "risk"),
                likelihood: likelihood, impact: impact, owner: owner, mitigation: try Validate.text(mitigation, field: "mitigation"),
                recordedBy: context.actor.person.id, recordedAt: context.at
            ).insert(db)
        }
    }
}
