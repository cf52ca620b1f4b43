import Foundation
import GRDB

/// A round with its criteria and the ranking of its proposals by weighted score.
public struct RoundView: Codable, Sendable {
    public var id: UUID
    public var reference: String
    public var title: String
    public var budget: String
    public var opensOn: String
    public var closesOn: String
    public var isOpen: Bool
    public var maxAward: Money?
    public var councillorsAssess: Bool
    public var criteria: [Criterion]
    public var ranking: [Ranked]
    public var requested: Money
    public var approved: Money

    public struct Ranked: Codable, Sendable {
        public var rank: Int
        public var proposalId: UUID
        public var proposalReference: String
        public var title: String
        public var organisation: String
        public var amountRequested: Money
        public var status: Proposal.Status
        public var assessors: Int
        /// Weighted score out of 100 (each assessor's latest score per criterion, averaged).
        public var weightedScore: Double
        /// Moderation, in points, and the reasons given.
        public var moderation: Double
        public var moderationReasons: [String]
        public var total: Double
        /// Whether every criterion has been scored by someone.
        public var complete: Bool
    }
}

extension Replica {
    public func rounds() throws -> [RoundView] {
        let today = Timestamps.day(environment.now())
        return try read { db in
            try Round.fetchAll(db, sql: "SELECT * FROM round ORDER BY opens_on DESC, title").map { try Self.roundView($0, today: today, db) }
        }
    }

    public func round(_ ref: String) throws -> RoundView {
        let today = Timestamps.day(environment.now())
        return try read { db in try Self.roundView(try References.round(ref, db), today: today, db) }
    }

    static func roundView(_ round: Round, today: String, _ db: Database) throws -> RoundView {
        let criteria = try Criterion.fetchAll(
            db, sql: "SELECT * FROM round_criterion WHERE round_id = ? ORDER BY position", arguments: [round.id.key])
        let totalWeight = Double(criteria.reduce(0) { $0 + $1.weight })
        let proposals = try Proposal.fetchAll(
            db, sql: "SELECT * FROM proposal WHERE round_id = ? AND status != 'draft' ORDER BY id", arguments: [round.id.key])
        var ranked: [RoundView.Ranked] = []
        var requested = Money.zero
        var approved = Money.zero
        for proposal in proposals {
            requested = requested + proposal.amountRequested
            if proposal.status == .approved {
                approved = approved + (try Decision.fetchOne(
                    db, sql: "SELECT * FROM decision WHERE proposal_id = ? AND amount IS NOT NULL ORDER BY decided_at DESC LIMIT 1",
                    arguments: [proposal.id.key])?.amount ?? .zero)
            }
            // Each assessor's latest score per criterion.
            let scores = try Assessment.fetchAll(
                db, sql: "SELECT * FROM assessment WHERE proposal_id = ? ORDER BY scored_at, id", arguments: [proposal.id.key])
            var latest: [String: Assessment] = [:]
            for score in scores { latest["\(score.criterionId.key)/\(score.assessorId.key)"] = score }
            var weighted = 0.0
            var complete = true
            for criterion in criteria {
                let given = latest.values.filter { $0.criterionId == criterion.id }
                guard !given.isEmpty else {
                    complete = false
                    continue
                }
                let mean = Double(given.reduce(0) { $0 + $1.score }) / Double(given.count)
                weighted += mean / Double(criterion.scaleMax) * Double(criterion.weight)
            }
            let score = totalWeight > 0 ? weighted / totalWeight * 100 : 0
            let moderations = try Moderation.fetchAll(
                db, sql: "SELECT * FROM moderation WHERE proposal_id = ? ORDER BY moderated_at", arguments: [proposal.id.key])
            let moderation = moderations.reduce(0) { $0 + $1.adjustment }
            ranked.append(
                RoundView.Ranked(
                    rank: 0, proposalId: proposal.id, proposalReference: proposal.id.shortReference, title: proposal.title,
                    organisation: try Lookup.organisation(proposal.organisationId, db).name, amountRequested: proposal.amountRequested,
                    status: proposal.status, assessors: Set(latest.values.map(\.assessorId)).count,
                    weightedScore: (score * 10).rounded() / 10, moderation: moderation, moderationReasons: moderations.map(\.reason),
                    total: ((score + moderation) * 10).rounded() / 10, complete: complete && !scores.isEmpty))
        }
        ranked.sort { $0.total != $1.total ? $0.total > $1.total : $0.proposalReference < $1.proposalReference }
        for index in ranked.indices { ranked[index].rank = index + 1 }
        return RoundView(
            id: round.id, reference: round.id.shortReference, title: round.title, budget: try Lookup.budget(round.budgetId, db).name,
            opensOn: round.opensOn, closesOn: round.closesOn, isOpen: round.isOpen(on: today), maxAward: round.maxAward,
            councillorsAssess: round.councillorsAssess, criteria: criteria, ranking: ranked, requested: requested,
            approved: approved)
    }
}

/// A commission: where it stands in the cycle, what the stage needs before it can move on, its
/// options appraisal and its risk register.
public struct CommissionView: Codable, Sendable {
    public var id: UUID
    public var reference: String
    public var title: String
    public var level: Commission.Level
    public var locality: String
    public var stage: Int
    public var stageName: String
    public var cycle: String
    public var responsible: String
    public var status: Commission.Status
    /// What the current stage still has to produce, if anything.
    public var blockedBy: String?
    public var needIds: [UUID]
    public var outcomeIds: [UUID]
    public var proposalIds: [UUID]
    public var priorityReason: String
    public var specification: String
    public var awardId: UUID?
    public var options: [CommissionOption]
    public var risks: [CommissionRisk]
    /// The reviews of what the commission delivered (its award): outcomes against targets, verdict, lessons.
    public var reviews: [Review]
}

extension Replica {
    public func commissions() throws -> [CommissionView] {
        try read { db in
            try Commission.fetchAll(db, sql: "SELECT * FROM commission ORDER BY updated_at DESC, id").map { try Self.commissionView($0, db) }
        }
    }

    public func commission(_ ref: String) throws -> CommissionView {
        try read { db in try Self.commissionView(try References.commission(ref, db), db) }
    }

    static func commissionView(_ commission: Commission, _ db: Database) throws -> CommissionView {
        let stage = Commission.stages[commission.stage - 1]
        return CommissionView(
            id: commission.id, reference: commission.id.shortReference, title: commission.title, level: commission.level,
            locality: try Lookup.locality(commission.localityId, db).name, stage: commission.stage, stageName: stage.name,
            cycle: stage.cycle, responsible: stage.responsible, status: commission.status,
            blockedBy: commission.status == .active ? try CommissionRules.missing(for: commission, db) : nil,
            needIds: Round.ids(commission.needIds), outcomeIds: Round.ids(commission.outcomeIds),
            proposalIds: Round.ids(commission.proposalIds), priorityReason: commission.priorityReason,
            specification: commission.specification, awardId: commission.awardId,
            options: try CommissionOption.fetchAll(
                db, sql: "SELECT * FROM commission_option WHERE commission_id = ? ORDER BY score DESC", arguments: [commission.id.key]),
            risks: try CommissionRisk.fetchAll(
                db, sql: "SELECT * FROM commission_risk WHERE commission_id = ? ORDER BY likelihood * impact DESC",
                arguments: [commission.id.key]),
            reviews: try commission.awardId.map {
                try Review.fetchAll(db, sql: "SELECT * FROM review WHERE award_id = ? ORDER BY reviewed_at", arguments: [$0.key])
            } ?? [])
    }
}
