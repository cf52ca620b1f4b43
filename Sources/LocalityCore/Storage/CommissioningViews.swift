import Foundation
import GRDB

/// A decision as people read it: on which proposal, by whom, under what authority, and why.
public struct DecisionView: Codable, Sendable {
    public var id: UUID
    public var reference: String
    public var proposalId: UUID
    public var proposalReference: String
    public var proposalTitle: String
    public var organisation: String
    public var budget: String
    public var outcome: Decision.Outcome
    public var amount: Money?
    public var amountRequested: Money
    public var decidedBy: String
    public var authority: String
    public var reasons: String
    public var conditions: String
    public var decidedAt: Date
    /// Taken on this device and not yet confirmed by the server: it may still be refused (for
    /// instance if the money was committed elsewhere first).
    public var awaitingConfirmation: Bool
}

/// The position of a budget a councillor would want at a meeting.
public struct BudgetReport: Codable, Sendable {
    public var id: UUID
    public var name: String
    public var slug: String
    public var locality: String
    public var financialYear: FinancialYear
    public var allocated: Money
    public var committed: Money
    /// Paid out against awards, net of clawbacks (part of what is committed).
    public var paid: Money
    public var available: Money
    public var allocations: [Allocation]
    public var funded: [Funded]
    public var awaitingDecision: [Awaiting]
    public var needsAddressed: [NeedLine]
    public var needsOpen: [NeedLine]
    /// The awards it funds, with their outcomes against targets.
    public var awards: [LocalityReport.AwardLine] = []

    public struct Allocation: Codable, Sendable {
        public var source: String
        public var amount: Money
    }

    public struct Funded: Codable, Sendable {
        public var proposalReference: String
        public var title: String
        public var organisation: String
        public var amount: Money
        public var decidedAt: Date
        public var awaitingConfirmation: Bool
    }

    public struct Awaiting: Codable, Sendable {
        public var proposalReference: String
        public var title: String
        public var organisation: String
        public var amountRequested: Money
        public var status: Proposal.Status
    }

    public struct NeedLine: Codable, Sendable {
        public var reference: String
        public var title: String
        public var locality: String
        public var severity: Int
    }
}

extension Replica {
    /// Decisions, newest first; those on one budget's proposals when `budget` is given.
    public func decisions(budget ref: String? = nil) throws -> [DecisionView] {
        try read { db in
            let budgetId = try ref.map { try References.budget($0, db).id }
            let pending = try Self.unconfirmedDecisionIds(db)
            return try Decision.fetchAll(db, sql: "SELECT * FROM decision ORDER BY decided_at DESC, id DESC").compactMap {
                decision -> DecisionView? in
                let proposal = try Lookup.proposal(decision.proposalId, db)
                if let budgetId, proposal.budgetId != budgetId { return nil }
                return DecisionView(
                    id: decision.id, reference: decision.id.shortReference, proposalId: proposal.id,
                    proposalReference: proposal.id.shortReference, proposalTitle: proposal.title,
                    organisation: try Lookup.organisation(proposal.organisationId, db).name,
                    budget: try Lookup.budget(proposal.budgetId, db).name, outcome: decision.outcome, amount: decision.amount,
                    amountRequested: proposal.amountRequested,
                    decidedBy: try Person.find(db, id: decision.decidedBy)?.username ?? decision.decidedBy.shortReference,
                    authority: decision.authority, reasons: decision.reasons, conditions: decision.conditions,
                    decidedAt: decision.decidedAt, awaitingConfirmation: pending.contains(decision.id))
            }
        }
    }

    /// The ids of decisions made here that the server has not yet confirmed (still in the outbox).
    static func unconfirmedDecisionIds(_ db: Database) throws -> Set<UUID> {
        Set(
            try String.fetchAll(
                db,
                sql: "SELECT json_extract(arguments, '$.decisionId') FROM outbox WHERE name = ? AND state != 'rejected'",
                arguments: [MutationName.decisionRecord.rawValue]
            ).compactMap(UUID.init(key:)))
    }

    public func budgetReport(_ ref: String) throws -> BudgetReport {
        let today = Timestamps.day(environment.now())
        return try read { db in
            let budget = try References.budget(ref, db)
            let position = try BudgetPosition.of(budget: budget.id, in: db)
            let pending = try Self.unconfirmedDecisionIds(db)
            let allocations = try Row.fetchAll(
                db,
                sql: """
                    SELECT COALESCE(source, 'other') AS source, SUM(amount) AS amount FROM ledger_entry
                    WHERE budget_id = ? AND kind = 'allocation' GROUP BY source ORDER BY SUM(amount) DESC
                    """, arguments: [budget.id.key]
            ).map {
                BudgetReport.Allocation(
                    source: LedgerEntry.Source(rawValue: $0["source"])?.label ?? $0["source"], amount: Money(pence: $0["amount"]))
            }
            let proposals = try Proposal.fetchAll(
                db, sql: "SELECT * FROM proposal WHERE budget_id = ? ORDER BY submitted_at, created_at", arguments: [budget.id.key])
            var funded: [BudgetReport.Funded] = []
            var awaiting: [BudgetReport.Awaiting] = []
            var fundedProposalIds: [UUID] = []
            for proposal in proposals {
                let organisation = try Lookup.organisation(proposal.organisationId, db).name
                if proposal.status == .approved,
                    let decision = try Decision.fetchOne(
                        db, sql: "SELECT * FROM decision WHERE proposal_id = ? AND amount IS NOT NULL ORDER BY decided_at DESC LIMIT 1",
                        arguments: [proposal.id.key]),
                    let amount = decision.amount
                {
                    fundedProposalIds.append(proposal.id)
                    funded.append(
                        .init(
                            proposalReference: proposal.id.shortReference, title: proposal.title, organisation: organisation,
                            amount: amount, decidedAt: decision.decidedAt, awaitingConfirmation: pending.contains(decision.id)))
                } else if proposal.status.awaitsDecision {
                    awaiting.append(
                        .init(
                            proposalReference: proposal.id.shortReference, title: proposal.title, organisation: organisation,
                            amountRequested: proposal.amountRequested, status: proposal.status))
                }
            }
            let addressedIds = Set(
                try fundedProposalIds.flatMap { id in
                    try String.fetchAll(db, sql: "SELECT need_id FROM proposal_need WHERE proposal_id = ?", arguments: [id.key])
                }.compactMap(UUID.init(key:)))
            var addressed: [BudgetReport.NeedLine] = []
            var open: [BudgetReport.NeedLine] = []
            for need in try Need.fetchAll(db, sql: "SELECT * FROM need ORDER BY severity DESC, recorded_at") {
                guard try Locality.isWithin(need.localityId, budget.localityId, in: db) else { continue }
                let line = BudgetReport.NeedLine(
                    reference: need.id.shortReference, title: need.title,
                    locality: try Lookup.locality(need.localityId, db).name, severity: need.severity)
                if addressedIds.contains(need.id) {
                    addressed.append(line)
                } else if need.status == .open || need.status == .prioritised {
                    open.append(line)
                }
            }
            let awards = try Award.fetchAll(db, sql: "SELECT * FROM award WHERE budget_id = ? ORDER BY created_at", arguments: [budget.id.key])
                .map { try Self.awardLine(try Self.awardView($0, today: today, db)) }
            return BudgetReport(
                id: budget.id, name: budget.name, slug: budget.slug, locality: try Lookup.locality(budget.localityId, db).name,
                financialYear: budget.financialYear, allocated: position.allocated, committed: position.committed,
                paid: position.paid, available: position.available, allocations: allocations, funded: funded,
                awaitingDecision: awaiting, needsAddressed: addressed, needsOpen: open, awards: awards)
        }
    }
}

/// An award with what has been paid, what is due and what is overdue.
public struct AwardView: Codable, Sendable {
    public var id: UUID
    public var reference: String
    public var proposalId: UUID
    public var proposalReference: String
    public var title: String
    public var organisation: String
    public var budget: String
    public var amount: Money
    public var paid: Money
    /// Still committed for it: the award, less any commitment released since.
    public var committed: Money
    /// Released from its commitment by corrections.
    public var released: Money
    /// What can still be paid: what is committed, less what is paid.
    public var remaining: Money
    public var status: Award.Status
    public var startsOn: String
    public var endsOn: String
    public var milestones: [Milestone]
    public var instalments: [Instalment]
    /// Instalments that no longer fit in what is committed (after a release), counting in order.
    public var unpayableInstalments: [UUID]
    public var indicators: [AwardIndicator]
    public var reports: [MonitoringReport]
    public var reviews: [Review]
    /// Milestones past their date and not met.
    public var overdueMilestones: [String]
    /// Whether a quarterly monitoring report is overdue.
    public var reportOverdue: Bool

    /// Whether anything on the award is overdue: a report or a milestone.
    public var isOverdue: Bool { reportOverdue || !overdueMilestones.isEmpty }
}

extension Replica {
    public func awards() throws -> [AwardView] {
        let today = Timestamps.day(environment.now())
        return try read { db in
            try Award.fetchAll(db, sql: "SELECT * FROM award ORDER BY created_at DESC, id DESC").map {
                try Self.awardView($0, today: today, db)
            }
        }
    }

    /// The awards with an overdue report or milestone that are this device's person's to chase:
    /// every one for officers and executive members; for a ward councillor, those delivering in
    /// their wards; for a member of a group, their group's own.
    public func overdueAwards() throws -> [AwardView] {
        let today = Timestamps.day(environment.now())
        let personId = try whoami().id
        return try read { db in
            let actor = try Actor.load(db, personId: personId)
            let everyone = actor.has(.officer) || actor.has(.executive)
            return try Award.fetchAll(db, sql: "SELECT * FROM award WHERE status = 'active' ORDER BY ends_on, id")
                .filter { award in
                    if everyone || actor.isMember(of: award.organisationId) { return true }
                    let proposal = try Lookup.proposal(award.proposalId, db)
                    return try actor.covers(proposal.localityId, in: db)
                }
                .map { try Self.awardView($0, today: today, db) }
                .filter(\.isOverdue)
        }
    }

    public func award(_ ref: String) throws -> AwardView {
        let today = Timestamps.day(environment.now())
        return try read { db in try Self.awardView(try References.award(ref, db), today: today, db) }
    }

    static func awardView(_ award: Award, today: String, _ db: Database) throws -> AwardView {
        let milestones = try Milestone.fetchAll(
            db, sql: "SELECT * FROM award_milestone WHERE award_id = ? ORDER BY due_on, title", arguments: [award.id.key])
        let reports = try MonitoringReport.fetchAll(
            db, sql: "SELECT * FROM monitoring_report WHERE award_id = ? ORDER BY period_end DESC", arguments: [award.id.key])
        let paid = try Award.paid(award.id, db)
        let committed = try Award.committed(award, db)
        let instalments = try Instalment.fetchAll(
            db, sql: "SELECT * FROM award_instalment WHERE award_id = ? ORDER BY due_on, id", arguments: [award.id.key])
        var scheduled = Money.zero
        var unpayable: [UUID] = []
        for instalment in instalments {
            scheduled = scheduled + instalment.amount
            if scheduled > committed { unpayable.append(instalment.id) }
        }
        // Reports are due quarterly from the start: overdue when none covers the last 92 days.
        let quarterAgo = Timestamps.day(
            (Timestamps.parse(today + "T12:00:00.000Z") ?? Date()).addingTimeInterval(-92 * 86_400))
        let reportOverdue = award.status == .active && award.startsOn <= quarterAgo
            && !(reports.first.map { $0.periodEnd >= quarterAgo } ?? false)
        return AwardView(
            id: award.id, reference: award.id.shortReference, proposalId: award.proposalId,
            proposalReference: award.proposalId.shortReference, title: award.title,
            organisation: try Lookup.organisation(award.organisationId, db).name, budget: try Lookup.budget(award.budgetId, db).name,
            amount: award.amount, paid: paid, committed: committed, released: award.amount - committed,
            remaining: committed > paid ? committed - paid : .zero, status: award.status, startsOn: award.startsOn,
            endsOn: award.endsOn, milestones: milestones, instalments: instalments, unpayableInstalments: unpayable,
            indicators: try AwardIndicator.fetchAll(
                db, sql: "SELECT * FROM award_indicator WHERE award_id = ? ORDER BY name", arguments: [award.id.key]),
            reports: reports,
            reviews: try Review.fetchAll(
                db, sql: "SELECT * FROM review WHERE award_id = ? ORDER BY reviewed_at", arguments: [award.id.key]),
            overdueMilestones: milestones.filter { $0.status == .pending && $0.dueOn < today }.map(\.title),
            reportOverdue: reportOverdue)
    }
}

/// A place's position: the budgets that cover it, the needs recorded in it (funded or open), and
/// the awards delivering there with their outcomes against targets.
public struct LocalityReport: Codable, Sendable {
    public var id: UUID
    public var name: String
    public var kind: String
    public var budgets: [BudgetLine]
    public var needsAddressed: [BudgetReport.NeedLine]
    public var needsOpen: [BudgetReport.NeedLine]
    public var awards: [AwardLine]

    public struct BudgetLine: Codable, Sendable {
        public var slug: String
        public var name: String
        public var allocated: Money
        public var committed: Money
        public var paid: Money
        public var available: Money
    }

    public struct AwardLine: Codable, Sendable {
        public var reference: String
        public var title: String
        public var organisation: String
        public var amount: Money
        public var paid: Money
        public var outcomes: [OutcomeLine]
    }

    public struct OutcomeLine: Codable, Sendable {
        public var indicator: String
        public var unit: String
        public var baseline: Double?
        public var target: Double
        public var latest: Double?
    }
}

extension Replica {
    public func localityReport(_ ref: String) throws -> LocalityReport {
        let today = Timestamps.day(environment.now())
        return try read { db in
            let locality = try References.locality(ref, db)
            let ancestry = try Locality.ancestorIDs(of: locality.id, in: db)
            func within(_ id: UUID) throws -> Bool { try Locality.isWithin(id, locality.id, in: db) }
            // Budgets devolved to this place, to a place above it, or to a place within it.
            var budgets: [LocalityReport.BudgetLine] = []
            for budget in try Budget.fetchAll(db, sql: "SELECT * FROM budget ORDER BY name") {
                guard try ancestry.contains(budget.localityId) || within(budget.localityId) else { continue }
                let position = try BudgetPosition.of(budget: budget.id, in: db)
                budgets.append(.init(
                    slug: budget.slug, name: budget.name, allocated: position.allocated, committed: position.committed,
                    paid: position.paid, available: position.available))
            }
            let funded = Set(try String.fetchAll(
                db,
                sql: "SELECT proposal_need.need_id FROM proposal_need JOIN proposal ON proposal.id = proposal_need.proposal_id WHERE proposal.status = 'approved'"
            ).compactMap(UUID.init(key:)))
            var addressed: [BudgetReport.NeedLine] = []
            var open: [BudgetReport.NeedLine] = []
            for need in try Need.fetchAll(db, sql: "SELECT * FROM need ORDER BY severity DESC, recorded_at") where try within(need.localityId) {
                let line = BudgetReport.NeedLine(
                    reference: need.id.shortReference, title: need.title, locality: try Lookup.locality(need.localityId, db).name,
                    severity: need.severity)
                if funded.contains(need.id) { addressed.append(line) } else if need.status == .open || need.status == .prioritised { open.append(line) }
            }
            var awards: [LocalityReport.AwardLine] = []
            for award in try Award.fetchAll(db, sql: "SELECT * FROM award ORDER BY created_at") {
                let proposal = try Lookup.proposal(award.proposalId, db)
                guard try within(proposal.localityId) else { continue }
                awards.append(try Self.awardLine(try Self.awardView(award, today: today, db)))
            }
            return LocalityReport(
                id: locality.id, name: locality.name, kind: locality.kind.rawValue, budgets: budgets, needsAddressed: addressed,
                needsOpen: open, awards: awards)
        }
    }
}

extension Replica {
    /// An award's money and its outcomes against targets, from the latest measurement of each indicator.
    static func awardLine(_ view: AwardView) throws -> LocalityReport.AwardLine {
        let outcomes = view.indicators.map { indicator in
            LocalityReport.OutcomeLine(
                indicator: indicator.name, unit: indicator.unit, baseline: indicator.baseline, target: indicator.target,
                latest: MonitoringReport.latest(of: indicator.id, in: view.reports))
        }
        return LocalityReport.AwardLine(
            reference: view.reference, title: view.title, organisation: view.organisation, amount: view.amount, paid: view.paid,
            outcomes: outcomes)
    }
}
