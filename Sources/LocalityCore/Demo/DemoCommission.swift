import Foundation
import GRDB

/// The demo's strategic commission: getting people without a car from Brockton to the GP. It goes
/// round the commissioning cycle through the same mutations a council's officers use — need,
/// priority, outcome, options appraisal and risk register, specification, two bids, a decision,
/// an award with a payment schedule, two payments and a monitoring report — and stops at stage 7
/// (monitor delivery), so the demo's OCDS export shows a process from planning to implementation.
extension DemoCouncil {
    /// The two bids the commission receives: who, where, what, how much.
    public static let commissionBids: [(slug: String, organisation: String, drafter: String, place: String, title: String, pence: Int64, summary: String)] = [
        ("gp-link", "marches-community-transport", "transport", "brockton", "Brockton GP link: a booked minibus on market days",
         1_800_000,
         "A wheelchair-accessible minibus, booked by phone the day before, from Brockton and the outlying lanes to the Whitmere surgery, "
            + "three days a week from September to March."),
        ("volunteer-cars", "whitmere-town-council", "clerk-north", "whitmere-town", "Whitmere volunteer car scheme",
         950_000, "Volunteer drivers paid mileage to take patients to the surgery and the hospital, coordinated by the town council."),
    ]

    static func loadCommission(_ db: Database) throws {
        let commission = id("commission:gp-transport")
        let budget = id("budget:gp-transport-2026-27")
        func on(_ day: String) -> Date { Timestamps.parse(day + "T10:00:00Z")! }
        func advance(from stage: Int, on day: String) throws {
            try run(AdvanceCommission(commissionId: commission, fromStage: stage), as: "officer", at: on(day), db)
        }

        // Its own fund, pooled with the health partnership, so the area funds keep their money for
        // the communities' own proposals.
        try run(
            CreateBudget(
                budgetId: budget, name: "Access to Primary Care Transport Fund 2026/27", localityId: id("locality:marcher"),
                financialYear: FinancialYear(startYear: 2026), slug: "gp-transport-2026-27"),
            as: "finance", at: on("2026-04-01"), db)
        for (index, (source, note)) in [(LedgerEntry.Source.council, "Cabinet, 2026/27 budget"),
                                        (.health, "Pooled with Marches Health Partnership for access to primary care")].enumerated() {
            try run(
                AllocateBudget(
                    ledgerEntryId: id("ledger:gp-transport-2026-27:\(index)"), budgetId: budget, source: source, amount: Money(pence: 1_500_000), note: note),
                as: "finance", at: on("2026-04-01"), db)
        }
        try run(
            StartCommission(
                commissionId: commission, title: "Getting to the GP from Brockton without a car", level: .area,
                localityId: id("locality:north-area"), needIds: [id("need:brockton-bus")]),
            as: "officer", at: on("2026-05-06"), db)
        try advance(from: 1, on: "2026-05-06")
        try run(
            RecordCommissionWork(
                commissionId: commission,
                priorityReason: "The North Area Board ranked it first of the area's needs on 20 May 2026: 180 residents affected, "
                    + "no alternative since the 14 bus was cut, and missed appointments reported by the surgery."),
            as: "officer", at: on("2026-05-20"), db)
        try advance(from: 2, on: "2026-05-20")
        try run(RecordCommissionWork(commissionId: commission, outcomeIds: [id("outcome:rural-transport")]), as: "officer", at: on("2026-06-03"), db)
        try advance(from: 3, on: "2026-06-03")
        let options: [(Proposal.DeliveryModel, Int, String, Bool)] = [
            (.inHouseReconfigured, 45, "Re-route the council's own school-transport fleet between runs: cheapest, but no capacity on market days.", false),
            (.socialEnterprise, 80, "Commission a community transport operator: local drivers, accessible vehicles, social value retained.", true),
            (.outsource, 55, "Tender a taxi contract: quick to start, dearer per journey, no volunteers or local jobs.", false),
        ]
        for (index, (model, score, notes, chosen)) in options.enumerated() {
            try run(
                AppraiseOption(
                    optionId: id("commission:gp-transport:option:\(index)"), commissionId: commission, deliveryModel: model, score: score,
                    notes: notes, chosen: chosen),
                as: "officer", at: on("2026-06-10"), db)
        }
        try run(
            RecordRisk(
                riskId: id("commission:gp-transport:risk:drivers"), commissionId: commission,
                description: "Not enough trained drivers for three days a week", likelihood: 3, impact: 4,
                owner: "Locality Commissioner", mitigation: "Fund driver training in the first instalment"),
            as: "officer", at: on("2026-06-10"), db)
        try run(
            RecordCommissionWork(
                commissionId: commission,
                specification: "A booked, accessible service from Brockton parish to the Whitmere surgery on at least three weekdays, "
                    + "September 2026 to March 2027, reporting journeys a month against the outcome's indicator. Providers may propose "
                    + "how: minibus, volunteer cars, or both."),
            as: "officer", at: on("2026-06-17"), db)
        try advance(from: 4, on: "2026-06-17")
        try run(
            OpenRound(
                roundId: id("round:gp-transport"), budgetId: budget, title: "Getting to the GP: bids against the specification",
                opensOn: "2026-06-17", closesOn: "2026-07-31", needIds: [id("need:brockton-bus")], outcomeIds: [id("outcome:rural-transport")],
                criteria: [.init(id: id("criterion:gp-transport:fit"), name: "Meets the specification", weight: 100)]),
            as: "officer", at: on("2026-06-17"), db)

        for bid in commissionBids {
            var draft = DraftProposal(
                proposalId: id("proposal:" + bid.slug), budgetId: budget, organisationId: id("organisation:" + bid.organisation),
                localityId: id("locality:" + bid.place), title: bid.title, amountRequested: Money(pence: bid.pence))
            draft.summary = bid.summary
            draft.deliveryModel = .socialEnterprise
            draft.needIds = [id("need:brockton-bus")]
            draft.outcomeIds = [id("outcome:rural-transport")]
            try run(draft, as: bid.drafter, at: on("2026-07-08"), db)
            try run(SubmitProposal(proposalId: id("proposal:" + bid.slug)), as: bid.drafter, at: on("2026-07-15"), db)
        }
        let bids = commissionBids.map { id("proposal:" + $0.slug) }
        try run(RecordCommissionWork(commissionId: commission, proposalIds: bids), as: "officer", at: on("2026-07-31"), db)
        try advance(from: 5, on: "2026-07-31")

        try run(
            RecordDecision(
                decisionId: id("decision:gp-link"), proposalId: bids[0], outcome: .approved,
                reasons: "Scored highest against the specification; covers all three market days with accessible vehicles",
                conditions: "Journeys a month reported quarterly", ledgerEntryId: id("ledger:gp-link:commitment")),
            as: "officer", at: on("2026-08-05"), db)
        try run(
            RecordDecision(
                decisionId: id("decision:volunteer-cars"), proposalId: bids[1], outcome: .rejected,
                reasons: "Does not reach Brockton's outlying lanes or wheelchair users; the town council is encouraged to apply to the open call for Whitmere",
                ledgerEntryId: id("ledger:volunteer-cars:commitment")),
            as: "officer", at: on("2026-08-05"), db)
        let award = id("award:gp-link")
        let journeys = id("award-indicator:gp-link:journeys")
        try run(
            CreateAward(
                awardId: award, proposalId: bids[0], startsOn: "2026-09-01", endsOn: "2027-03-31",
                milestones: [.init(id: id("milestone:gp-link:drivers"), title: "Six drivers trained", dueOn: "2026-09-30")],
                instalments: [
                    .init(id: id("instalment:gp-link:1"), amount: Money(pence: 600_000), dueOn: "2026-09-01"),
                    .init(id: id("instalment:gp-link:2"), amount: Money(pence: 600_000), dueOn: "2026-11-01"),
                    .init(id: id("instalment:gp-link:3"), amount: Money(pence: 600_000), onOutcome: "150 journeys a month by January"),
                ],
                indicators: [.init(id: journeys, name: "Journeys a month", unit: "journeys", baseline: 0, target: 150)]),
            as: "officer", at: on("2026-08-12"), db)
        try run(RecordCommissionWork(commissionId: commission, awardId: award), as: "officer", at: on("2026-08-12"), db)
        try advance(from: 6, on: "2026-08-12")
        for (index, day) in ["2026-09-01", "2026-11-02"].enumerated() {
            try run(
                RecordPayment(
                    ledgerEntryId: id("ledger:gp-link:payment:\(index + 1)"), awardId: award, amount: Money(pence: 600_000),
                    note: "Instalment \(index + 1) of 3"),
                as: "officer", at: on(day), db)
        }
        try run(
            SubmitMonitoringReport(
                reportId: id("report:gp-link:1"), awardId: award, periodEnd: "2026-10-31",
                progress: "Service running Tuesdays, Thursdays and Saturdays since 8 September; six drivers trained.",
                spend: Money(pence: 540_000), measurements: [.init(indicatorId: journeys, value: 96)],
                milestonesMet: [id("milestone:gp-link:drivers")]),
            as: "transport", at: on("2026-11-06"), db)
    }
}
