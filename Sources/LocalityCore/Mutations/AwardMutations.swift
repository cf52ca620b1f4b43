import Foundation
import GRDB

/// `award.create`: an officer (or executive member) turns an approval into an award — the
/// amount approved, milestones with dates, a payment schedule (instalments, or payment on an
/// outcome being evidenced) and indicators with targets.
public struct CreateAward: MutationCommand, Hashable {
    public static let name = MutationName.awardCreate

    public struct MilestoneInput: Codable, Sendable, Hashable {
        public var id: UUID
        public var title: String
        public var dueOn: String
        public init(id: UUID, title: String, dueOn: String) {
            self.id = id
            self.title = title
            self.dueOn = dueOn
        }
    }

    public struct InstalmentInput: Codable, Sendable, Hashable {
        public var id: UUID
        public var amount: Money
        public var dueOn: String?
        public var onOutcome: String?
        public init(id: UUID, amount: Money, dueOn: String? = nil, onOutcome: String? = nil) {
            self.id = id
            self.amount = amount
            self.dueOn = dueOn
            self.onOutcome = onOutcome
        }
    }

    public struct IndicatorInput: Codable, Sendable, Hashable {
        public var id: UUID
        public var name: String
        public var unit: String
        public var baseline: Double?
        public var target: Double
        public init(id: UUID, name: String, unit: String, baseline: Double? = nil, target: Double) {
            self.id = id
            self.name = name
            self.unit = unit
            self.baseline = baseline
            self.target = target
        }
    }

    public var awardId: UUID
    public var proposalId: UUID
    public var startsOn: String
    public var endsOn: String
    public var milestones: [MilestoneInput]
    public var instalments: [InstalmentInput]
    public var indicators: [IndicatorInput]

    public init(
        awardId: UUID, proposalId: UUID, startsOn: String, endsOn: String, milestones: [MilestoneInput] = [],
        instalments: [InstalmentInput] = [], indicators: [IndicatorInput] = []
    ) {
        self.awardId = awardId
        self.proposalId = proposalId
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.milestones = milestones
        self.instalments = instalments
        self.indicators = indicators
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        guard actor.has(.officer) || actor.has(.executive) else {
            throw LocalityError.forbidden(
                "awards are made by officers and executive members; \(actor.person.username) is \(try actor.describeRoles(in: db))")
        }
        let proposal = try Lookup.proposal(proposalId, db)
        guard proposal.status == .approved,
            let decision = try Decision.fetchOne(
                db, sql: "SELECT * FROM decision WHERE proposal_id = ? AND amount IS NOT NULL ORDER BY decided_at DESC LIMIT 1",
                arguments: [proposal.id.key]),
            let amount = decision.amount
        else {
            throw LocalityError(
                .invalidTransition,
                "proposal '\(proposal.title)' is \(proposal.status.rawValue): an award follows a recorded approval")
        }
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM award WHERE proposal_id = ?", arguments: [proposal.id.key]) == 0
        else { throw LocalityError(.invalidTransition, "proposal '\(proposal.title)' already has an award") }
        let startsOn = try Validate.day(startsOn, field: "start date")
        let endsOn = try Validate.day(endsOn, field: "end date")
        guard endsOn >= startsOn else { throw LocalityError.invalid("the award ends (\(endsOn)) before it starts (\(startsOn))") }
        let scheduled = instalments.reduce(Money.zero) { $0 + $1.amount }
        guard scheduled <= amount else {
            throw LocalityError.invalid("the payment schedule adds up to \(scheduled), more than the \(amount) approved")
        }
        try DuplicateKey.as(LocalityError.invalid("award \(awardId.key) already exists")) {
            try Award(
                id: awardId, proposalId: proposal.id, decisionId: decision.id, budgetId: proposal.budgetId,
                organisationId: proposal.organisationId, title: proposal.title, amount: amount, status: .active,
                startsOn: startsOn, endsOn: endsOn, createdBy: actor.person.id, createdAt: context.at
            ).insert(db)
            for milestone in milestones {
                let due = try Validate.day(milestone.dueOn, field: "milestone date")
                guard due >= startsOn else { throw LocalityError.invalid("milestone '\(milestone.title)' is due before the award starts") }
                try Milestone(
                    id: milestone.id, awardId: awardId, title: try Validate.title(milestone.title, field: "milestone"), dueOn: due,
                    status: .pending, metOn: nil
                ).insert(db)
            }
            for instalment in instalments {
                _ = try Validate.amount(instalment.amount)
                guard instalment.dueOn != nil || !(instalment.onOutcome ?? "").isEmpty else {
                    throw LocalityError.invalid("each instalment needs a date or an outcome to be evidenced before it is paid")
                }
                try Instalment(
                    id: instalment.id, awardId: awardId, amount: instalment.amount,
                    dueOn: try instalment.dueOn.map { try Validate.day($0, field: "instalment date") },
                    onOutcome: try instalment.onOutcome.map { try Validate.text($0, field: "outcome") }
                ).insert(db)
            }
            for indicator in indicators {
                guard indicator.target.isFinite, indicator.baseline?.isFinite ?? true else {
                    throw LocalityError.invalid("indicator '\(indicator.name)' needs a finite target")
                }
                try AwardIndicator(
                    id: indicator.id, awardId: awardId, name: try Validate.title(indicator.name, field: "indicator"),
                    unit: try Validate.text(indicator.unit, field: "unit"), baseline: indicator.baseline, target: indicator.target
                ).insert(db)
            }
        }
    }
}

/// `payment.record`: an officer records a payment under an award. It appears on the budget's
/// ledger, and the total paid can never exceed what the award commits — checked on the device and
/// again by the server in the transaction that records it.
public struct RecordPayment: MutationCommand, Hashable {
    public static let name = MutationName.paymentRecord

    public var ledgerEntryId: UUID
    public var awardId: UUID
    public var amount: Money
    public var note: String

    public init(ledgerEntryId: UUID, awardId: UUID, amount: Money, note: String = "") {
        self.ledgerEntryId = ledgerEntryId
        self.awardId = awardId
        self.amount = amount
        self.note = note
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        guard actor.has(.officer) else {
            throw LocalityError.forbidden(
                "payments are recorded by officers; \(actor.person.username) is \(try actor.describeRoles(in: db))")
        }
        guard let award = try Award.find(db, id: awardId) else { throw LocalityError.notFound("no award with id \(awardId.key)") }
        guard award.status == .active else {
            throw LocalityError(.invalidTransition, "the award for '\(award.title)' is closed; no more payments can be made under it")
        }
        let amount = try Validate.amount(amount)
        try LedgerDates.check(context.at, budget: try Lookup.budget(award.budgetId, db), award: award, what: "a payment")
        let paid = try Award.paid(award.id, db)
        let limit = try Award.committed(award, db)
        guard paid + amount <= limit else {
            throw LocalityError(
                .exceedsCommitment,
                "paying \(amount) would take '\(award.title)' to \(paid + amount), past the \(limit) committed "
                    + "(\(paid) paid so far; at most \(limit - paid) more)")
        }
        try DuplicateKey.as(LocalityError.invalid("ledger entry \(ledgerEntryId.key) already exists")) {
            try LedgerEntry(
                id: ledgerEntryId, budgetId: award.budgetId, kind: .payment, amount: amount,
                note: note.isEmpty ? "Payment: \(award.title)" : try Validate.text(note, field: "note"), recordedAt: context.at,
                decisionId: award.decisionId, proposalId: award.proposalId, recordedBy: actor.person.id, awardId: award.id
            ).insert(db)
        }
    }
}

extension Award {
    /// What is still committed for an award: the award, less any commitment released since.
    public static func committed(_ award: Award, _ db: Database) throws -> Money {
        let net = Money(
            pence: try Int64.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(CASE kind WHEN 'commitment' THEN amount WHEN 'decommitment' THEN -amount ELSE 0 END), 0)
                    FROM ledger_entry WHERE decision_id = ?
                    """, arguments: [award.decisionId.key]) ?? 0)
        return min(award.amount, net)
    }

    /// Paid under an award so far, net of clawbacks.
    public static func paid(_ awardId: UUID, _ db: Database) throws -> Money {
        Money(
            pence: try Int64.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(CASE kind WHEN 'payment' THEN amount WHEN 'clawback' THEN -amount ELSE 0 END), 0)
                    FROM ledger_entry WHERE award_id = ?
                    """, arguments: [awardId.key]) ?? 0)
    }
}

/// `monitoring.submit`: the recipient reports progress, indicator measurements, spend and
/// issues, and marks milestones met.
public struct SubmitMonitoringReport: MutationCommand, Hashable {
    public static let name = MutationName.monitoringSubmit

    public struct Measurement: Codable, Sendable, Hashable {
        public var indicatorId: UUID
        public var value: Double
        public init(indicatorId: UUID, value: Double) {
            self.indicatorId = indicatorId
            self.value = value
        }
    }

    public var reportId: UUID
    public var awardId: UUID
    public var periodEnd: String
    public var progress: String
    public var spend: Money
    public var issues: String
    public var measurements: [Measurement]
    public var milestonesMet: [UUID]

    public init(
        reportId: UUID, awardId: UUID, periodEnd: String, progress: String, spend: Money, issues: String = "",
        measurements: [Measurement] = [], milestonesMet: [UUID] = []
    ) {
        self.reportId = reportId
        self.awardId = awardId
        self.periodEnd = periodEnd
        self.progress = progress
        self.spend = spend
        self.issues = issues
        self.measurements = measurements
        self.milestonesMet = milestonesMet
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        guard let award = try Award.find(db, id: awardId) else { throw LocalityError.notFound("no award with id \(awardId.key)") }
        guard actor.isMember(of: award.organisationId) || actor.has(.officer) else {
            let organisation = try Lookup.organisation(award.organisationId, db)
            throw LocalityError.forbidden(
                "monitoring reports for '\(award.title)' come from \(organisation.name) (or an officer on its behalf)")
        }
        let progress = try Validate.text(progress, field: "progress")
        guard !progress.isEmpty else { throw LocalityError.invalid("say what progress has been made") }
        guard spend.pence >= 0, spend <= Money.maximum else { throw LocalityError.invalid("spend must be £0.00 or more") }
        let periodEnd = try Validate.day(periodEnd, notAfter: context.at)
        var values: [String: JSONValue] = [:]
        for measurement in measurements {
            guard
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM award_indicator WHERE id = ? AND award_id = ?",
                    arguments: [measurement.indicatorId.key, award.id.key]) == 1
            else { throw LocalityError.notFound("indicator \(measurement.indicatorId.key) is not one of this award's") }
            guard measurement.value.isFinite else { throw LocalityError.invalid("a measurement must be a number") }
            values[measurement.indicatorId.key] = .double(measurement.value)
        }
        for milestoneId in milestonesMet {
            guard var milestone = try Milestone.find(db, id: milestoneId), milestone.awardId == award.id else {
                throw LocalityError.notFound("milestone \(milestoneId.key) is not one of this award's")
            }
            milestone.status = .met
            milestone.metOn = periodEnd
            try milestone.update(db)
        }
        try DuplicateKey.as(LocalityError.invalid("report \(reportId.key) already exists")) {
            try MonitoringReport(
                id: reportId, awardId: award.id, periodEnd: periodEnd, progress: progress, spend: spend,
                issues: try Validate.text(issues, field: "issues"), measurements: JSONValue.object(values).jsonText,
                submittedBy: actor.person.id, submittedAt: context.at
            ).insert(db)
        }
    }
}

/// `review.record`: an officer reviews an award — outcomes achieved against targets (taken from
/// the latest monitoring), the verdict, lessons learned, and any new needs the lessons raise.
public struct RecordReview: MutationCommand, Hashable {
    public static let name = MutationName.reviewRecord

    public struct NewNeed: Codable, Sendable, Hashable {
        public var needId: UUID
        public var localityId: UUID
        public var title: String
        public var description: String
        public init(needId: UUID, localityId: UUID, title: String, description: String = "") {
            self.needId = needId
            self.localityId = localityId
            self.title = title
            self.description = description
        }
    }

    public var reviewId: UUID
    public var awardId: UUID
    public var verdict: Review.Verdict
    public var summary: String
    public var lessons: String
    public var newNeeds: [NewNeed]

    public init(reviewId: UUID, awardId: UUID, verdict: Review.Verdict, summary: String, lessons: String = "", newNeeds: [NewNeed] = []) {
        self.reviewId = reviewId
        self.awardId = awardId
        self.verdict = verdict
        self.summary = summary
        self.lessons = lessons
        self.newNeeds = newNeeds
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        guard actor.has(.officer) || actor.has(.executive) else {
            throw LocalityError.forbidden("reviews are recorded by officers and executive members")
        }
        guard var award = try Award.find(db, id: awardId) else { throw LocalityError.notFound("no award with id \(awardId.key)") }
        guard award.status == .active else {
            throw LocalityError(.invalidTransition, "the award for '\(award.title)' has already been reviewed and closed")
        }
        let summary = try Validate.text(summary, field: "summary")
        guard !summary.isEmpty else { throw LocalityError.invalid("say what the award achieved against its targets") }
        // Outcomes against targets, from the latest measurement of each indicator.
        let reports = try MonitoringReport.fetchAll(
            db, sql: "SELECT * FROM monitoring_report WHERE award_id = ? ORDER BY period_end DESC", arguments: [award.id.key])
        var achieved: [JSONValue] = []
        for indicator in try AwardIndicator.fetchAll(
            db, sql: "SELECT * FROM award_indicator WHERE award_id = ? ORDER BY name", arguments: [award.id.key])
        {
            let latest = MonitoringReport.latest(of: indicator.id, in: reports)
            achieved.append(.object([
                "indicator": .string(indicator.name), "unit": .string(indicator.unit), "target": .double(indicator.target),
                "baseline": indicator.baseline.map(JSONValue.double) ?? .null, "latest": latest.map(JSONValue.double) ?? .null,
            ]))
        }
        // Lessons can raise needs: recorded through the same rules as any need.
        for need in newNeeds {
            try RecordNeed(needId: need.needId, localityId: need.localityId, title: need.title)
                .with(description: need.description)
                .apply(context, db)
        }
        try DuplicateKey.as(LocalityError.invalid("review \(reviewId.key) already exists")) {
            try Review(
                id: reviewId, awardId: award.id, verdict: verdict, achieved: JSONValue.array(achieved).jsonText, summary: summary,
                lessons: try Validate.text(lessons, field: "lessons"),
                raisedNeedIds: JSONValue.array(newNeeds.map { .string($0.needId.key) }).jsonText, reviewedBy: actor.person.id,
                reviewedAt: context.at
            ).insert(db)
        }
        if verdict.closesAward {
            award.status = .closed
            try award.update(db)
        }
    }
}

extension RecordNeed {
    func with(description: String) -> RecordNeed {
        var copy = self
        copy.description = description
        return copy
    }
}

/// `ledger.correct`: ledger entries are never edited or deleted; a correction is a new entry.
/// A de-commitment releases part of an approval's commitment (never below what has been paid
/// under it); a clawback records money recovered from the recipient (never more than was paid).
public struct CorrectLedger: MutationCommand, Hashable {
    public static let name = MutationName.ledgerCorrect

    public var ledgerEntryId: UUID
    public var decisionId: UUID
    public var kind: LedgerEntry.Kind
    public var amount: Money
    public var reason: String

    public init(ledgerEntryId: UUID, decisionId: UUID, kind: LedgerEntry.Kind, amount: Money, reason: String) {
        self.ledgerEntryId = ledgerEntryId
        self.decisionId = decisionId
        self.kind = kind
        self.amount = amount
        self.reason = reason
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        guard actor.has(.officer) else { throw LocalityError.forbidden("ledger corrections are made by officers") }
        guard kind == .decommitment || kind == .clawback else {
            throw LocalityError.invalid("a correction is a decommitment or a clawback, not a \(kind.rawValue)")
        }
        guard let decision = try Decision.find(db, id: decisionId), decision.amount != nil else {
            throw LocalityError.notFound("no approval with id \(decisionId.key) to correct")
        }
        let proposal = try Lookup.proposal(decision.proposalId, db)
        let amount = try Validate.amount(amount)
        let reason = try Validate.text(reason, field: "reason")
        guard !reason.isEmpty else { throw LocalityError.invalid("a correction needs its reason: it stays on the ledger for good") }
        let sums = try Row.fetchOne(
            db,
            sql: """
                SELECT
                    COALESCE(SUM(CASE kind WHEN 'commitment' THEN amount WHEN 'decommitment' THEN -amount ELSE 0 END), 0) AS committed,
                    COALESCE(SUM(CASE kind WHEN 'payment' THEN amount WHEN 'clawback' THEN -amount ELSE 0 END), 0) AS paid
                FROM ledger_entry WHERE decision_id = ?
                """, arguments: [decision.id.key])
        let committed = Money(pence: sums?["committed"] ?? 0)
        let paid = Money(pence: sums?["paid"] ?? 0)
        let award = try Award.fetchOne(db, sql: "SELECT * FROM award WHERE decision_id = ?", arguments: [decision.id.key])
        if kind == .clawback {
            try LedgerDates.check(context.at, budget: try Lookup.budget(proposal.budgetId, db), award: award, what: "a clawback")
        }
        switch kind {
        case .decommitment:
            guard committed - amount >= paid else {
                throw LocalityError(
                    .exceedsCommitment,
                    "releasing \(amount) would leave '\(proposal.title)' committed at \(committed - amount), below the \(paid) already paid")
            }
        default:
            guard amount <= paid else {
                throw LocalityError(.exceedsCommitment, "\(amount) is more than the \(paid) paid under '\(proposal.title)'")
            }
        }
        try DuplicateKey.as(LocalityError.invalid("ledger entry \(ledgerEntryId.key) already exists")) {
            try LedgerEntry(
                id: ledgerEntryId, budgetId: proposal.budgetId, kind: kind, amount: amount,
                note: "\(kind == .decommitment ? "Released" : "Clawed back"): \(proposal.title) — \(reason)", recordedAt: context.at,
                decisionId: decision.id, proposalId: proposal.id, recordedBy: actor.person.id, awardId: award?.id
            ).insert(db)
        }
    }
}

/// Money moves within its budget's financial year, and never before the award it is paid under was
/// made: a device whose clock ran a year behind must not put a payment on last year's ledger.
enum LedgerDates {
    static func check(_ at: Date, budget: Budget, award: Award?, what: String) throws {
        let day = Timestamps.day(at)
        guard budget.financialYear.contains(day: day) else {
            throw LocalityError.invalid(
                "\(what) dated \(day) is outside \(budget.name)'s financial year (\(budget.financialYear.firstDay) to "
                    + "\(budget.financialYear.lastDay)); check the device's date and time")
        }
        if let award, at < award.createdAt, Timestamps.day(at) < Timestamps.day(award.createdAt) {
            throw LocalityError.invalid(
                "\(what) dated \(day) is before the award for '\(award.title)' was made (\(Timestamps.day(award.createdAt))); "
                    + "check the device's date and time")
        }
    }
}
