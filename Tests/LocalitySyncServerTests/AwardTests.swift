import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

@Suite("Awards: milestones, payments bounded by the commitment, monitoring")
struct AwardTests {
    private static let northBudget = UUID.stable("demo:budget:north-2026-27")

    /// A £10,000 proposal from Whitmere Town Council, approved by the officer.
    private func approved() async throws -> (SQLiteSyncStore, clerk: SyncedDevice, officer: SyncedDevice, proposal: UUID) {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let clerk = try await SyncedDevice("clerk-north", store: store)
        try await clerk.sync()
        let proposal = clerk.replica.newID()
        var draft = DraftProposal(
            proposalId: proposal, budgetId: Self.northBudget, organisationId: UUID.stable("demo:organisation:whitmere-town-council"),
            localityId: UUID.stable("demo:locality:whitmere-town"), title: "Community minibus", amountRequested: Money(pence: 1_000_000))
        draft.summary = "Volunteer drivers"
        try clerk.replica.perform(draft)
        try clerk.replica.perform(SubmitProposal(proposalId: proposal))
        try await clerk.sync()
        let officer = try await SyncedDevice("officer", store: store)
        try await officer.sync()
        try officer.replica.perform(
            RecordDecision(decisionId: officer.replica.newID(), proposalId: proposal, outcome: .approved, ledgerEntryId: officer.replica.newID()))
        try await officer.sync()
        return (store, clerk, officer, proposal)
    }

    private func award(_ officer: SyncedDevice, _ proposal: UUID) throws -> (award: UUID, milestone: UUID, indicator: UUID) {
        let (award, milestone, indicator) = (officer.replica.newID(), officer.replica.newID(), officer.replica.newID())
        try officer.replica.perform(
            CreateAward(
                awardId: award, proposalId: proposal, startsOn: "2026-12-01", endsOn: "2027-11-30",
                milestones: [.init(id: milestone, title: "Minibus leased", dueOn: "2027-01-31")],
                instalments: [
                    .init(id: officer.replica.newID(), amount: Money(pence: 600_000), dueOn: "2026-12-01"),
                    .init(id: officer.replica.newID(), amount: Money(pence: 400_000), onOutcome: "500 journeys a month"),
                ],
                indicators: [.init(id: indicator, name: "Journeys a month", unit: "journeys", baseline: 320, target: 500)]))
        return (award, milestone, indicator)
    }

    @Test func anAwardIsPaidWithinItsCommitmentAndMonitoredByItsRecipient() async throws {
        let (store, clerk, officer, proposal) = try await approved()
        refused(.forbidden) {
            try clerk.replica.perform(CreateAward(awardId: UUID(), proposalId: proposal, startsOn: "2026-12-01", endsOn: "2027-11-30"))
        }
        refused(.invalidInput, containing: "more than the £10,000.00 approved") {
            try officer.replica.perform(
                CreateAward(
                    awardId: UUID(), proposalId: proposal, startsOn: "2026-12-01", endsOn: "2027-11-30",
                    instalments: [.init(id: UUID(), amount: Money(pence: 1_000_001), dueOn: "2026-12-01")]))
        }
        refused(.invalidInput, containing: "before it starts") {
            try officer.replica.perform(CreateAward(awardId: UUID(), proposalId: proposal, startsOn: "2027-12-01", endsOn: "2027-11-30"))
        }
        let (award, milestone, indicator) = try award(officer, proposal)
        refused(.invalidTransition, containing: "already has an award") {
            try officer.replica.perform(CreateAward(awardId: UUID(), proposalId: proposal, startsOn: "2026-12-01", endsOn: "2027-11-30"))
        }
        try officer.replica.perform(RecordPayment(ledgerEntryId: officer.replica.newID(), awardId: award, amount: Money(pence: 600_000)))
        refused(.exceedsCommitment, containing: "at most £4,000.00 more") {
            try officer.replica.perform(RecordPayment(ledgerEntryId: UUID(), awardId: award, amount: Money(pence: 400_001)))
        }
        try await officer.sync()
        try await clerk.sync()
        refused(.forbidden) { try clerk.replica.perform(RecordPayment(ledgerEntryId: UUID(), awardId: award, amount: Money(pence: 1))) }

        try clerk.replica.perform(
            SubmitMonitoringReport(
                reportId: clerk.replica.newID(), awardId: award, periodEnd: "2026-11-20", progress: "Minibus leased, drivers trained",
                spend: Money(pence: 550_000), measurements: [.init(indicatorId: indicator, value: 410)], milestonesMet: [milestone]))
        try await clerk.sync()
        let southClerk = try await SyncedDevice("clerk-south", store: store)
        try await southClerk.sync()
        refused(.forbidden, containing: "come from Whitmere Town Council") {
            try southClerk.replica.perform(
                SubmitMonitoringReport(reportId: UUID(), awardId: award, periodEnd: "2026-11-20", progress: "x", spend: .zero))
        }

        try await officer.sync()
        let view = try officer.replica.award(award.key)
        #expect(view.paid.pence == 600_000 && view.remaining.pence == 400_000)
        #expect(view.milestones.first?.status == .met)
        #expect(view.reports.count == 1)
        let position = try await store.database.read { try BudgetPosition.of(budget: Self.northBudget, in: $0) }
        #expect(position.paid.pence == 600_000 && position.committed.pence == 1_000_000)
        let actions = try await store.database.read { try String.fetchAll($0, sql: "SELECT action FROM audit_entry ORDER BY sequence") }
        #expect(Array(actions.suffix(2)) == ["award.create", "ledger.payment"])

        // Review: outcomes against targets, a verdict, and a lesson that raises a new need.
        refused(.forbidden) {
            try clerk.replica.perform(RecordReview(reviewId: UUID(), awardId: award, verdict: .complete, summary: "Done"))
        }
        let raised = officer.replica.newID()
        try officer.replica.perform(
            RecordReview(
                reviewId: officer.replica.newID(), awardId: award, verdict: .complete, summary: "410 journeys a month against 500",
                lessons: "Evening demand is unmet",
                newNeeds: [.init(needId: raised, localityId: UUID.stable("demo:locality:brockton"), title: "No evening transport")]))
        refused(.invalidTransition, containing: "closed") {
            try officer.replica.perform(RecordPayment(ledgerEntryId: UUID(), awardId: award, amount: Money(pence: 100)))
        }
        try await officer.sync()
        let reviewed = try officer.replica.award(award.key)
        #expect(reviewed.status == .closed && reviewed.reviews.first?.verdict == .complete)
        let achieved = try JSONParser.parse(try #require(reviewed.reviews.first).achieved)
        #expect(achieved == .array([.object([
            "indicator": .string("Journeys a month"), "unit": .string("journeys"), "target": .double(500), "baseline": .double(320),
            "latest": .double(410),
        ])]))
        #expect(try await store.database.read { try Need.find($0, id: raised) }?.title == "No evening transport")
        #expect(try await store.database.read { try Audit.verify($0) }.intact)
        #expect(try await store.database.read { try String.fetchAll($0, sql: "SELECT action FROM audit_entry ORDER BY sequence") }.last == "review.complete")
    }

    @Test func correctionsAreNewEntriesBoundedByWhatWasPaid() async throws {
        let (store, clerk, officer, proposal) = try await approved()
        let (award, _, _) = try award(officer, proposal)
        try officer.replica.perform(RecordPayment(ledgerEntryId: officer.replica.newID(), awardId: award, amount: Money(pence: 600_000)))
        let decision = try #require(try officer.replica.decisions().first { $0.proposalId == proposal }).id
        func correct(_ kind: LedgerEntry.Kind, _ pence: Int64, _ reason: String = "Underspend") throws {
            try officer.replica.perform(
                CorrectLedger(ledgerEntryId: officer.replica.newID(), decisionId: decision, kind: kind, amount: Money(pence: pence), reason: reason))
        }
        refused(.exceedsCommitment, containing: "below the £6,000.00 already paid") { try correct(.decommitment, 400_001) }
        refused(.exceedsCommitment, containing: "more than the £6,000.00 paid") { try correct(.clawback, 600_001) }
        refused(.invalidInput, containing: "needs its reason") { try correct(.clawback, 100, " ") }
        refused(.invalidInput) { try correct(.payment, 100) }
        refused(.forbidden) {
            try clerk.replica.perform(CorrectLedger(ledgerEntryId: UUID(), decisionId: decision, kind: .clawback, amount: Money(pence: 1), reason: "x"))
        }
        try correct(.decommitment, 400_000)
        try correct(.clawback, 50_000, "Minibus deposit returned")
        try await officer.sync()
        let position = try await store.database.read { try BudgetPosition.of(budget: Self.northBudget, in: $0) }
        #expect(position.committed.pence == 600_000 && position.paid.pence == 550_000)
        // Released money cannot then be paid: at most the £500 clawed back may go out again.
        refused(.exceedsCommitment, containing: "at most £500.00 more") {
            try officer.replica.perform(RecordPayment(ledgerEntryId: UUID(), awardId: award, amount: Money(pence: 50_001)))
        }
        #expect(try await store.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM ledger_entry WHERE decision_id = ?", arguments: [decision.key]) } == 4)
        // What the award offers follows the release: what can still be paid, and which instalments no longer fit.
        let view = try officer.replica.award(award.key)
        #expect(view.committed.pence == 600_000 && view.released.pence == 400_000)
        #expect(view.remaining.pence == 50_000)
        var scheduled: Int64 = 0
        let beyond = view.instalments.filter { scheduled += $0.amount.pence; return scheduled > 600_000 }.map(\.id)
        #expect(!beyond.isEmpty && view.unpayableInstalments == beyond)
    }

    @Test func twoOfflinePaymentsThatTogetherExceedTheAwardAreNotBothPaid() async throws {
        let (store, _, officer, proposal) = try await approved()
        let (award, _, _) = try award(officer, proposal)
        try await officer.sync()
        let second = try await SyncedDevice("officer", store: store)
        try await second.sync()
        try officer.replica.perform(RecordPayment(ledgerEntryId: officer.replica.newID(), awardId: award, amount: Money(pence: 600_000)))
        try second.replica.perform(RecordPayment(ledgerEntryId: second.replica.newID(), awardId: award, amount: Money(pence: 600_000)))
        try await officer.sync()
        let summary = try await second.sync()
        #expect(summary.rejected.map(\.code) == ["exceeds_commitment"])
        #expect(summary.rejected.first?.message.contains("at most £4,000.00 more") == true)
        let paid = try await store.database.read { try Award.paid(award, $0) }
        #expect(paid.pence == 600_000)
        #expect(try second.replica.award(award.key).paid.pence == 600_000)
    }

    @Test func overdueWorkReachesTheOfficerAndTheWardCouncillorsNotEveryone() async throws {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        // The demo lunch club (Hopton Cross, in Clunbury Ward, South Area): make a milestone late.
        try await store.database.write {
            try $0.execute(
                sql: "UPDATE award_milestone SET due_on = '2026-11-01' WHERE id = ?",
                arguments: [UUID.stable("demo:milestone:lunch-club:twenty").key])
        }
        var seen: [String: [String]] = [:]
        for username in ["officer", "cabinet", "cllr-south", "cllr-north", "clerk-south"] {
            let device = try await SyncedDevice(username, store: store)
            try await device.sync()
            seen[username] = try device.replica.overdueAwards().flatMap(\.overdueMilestones)
        }
        #expect(seen["officer"] == ["Twenty regular guests"])
        #expect(seen["cabinet"] == ["Twenty regular guests"])
        #expect(seen["cllr-south"] == ["Twenty regular guests"])
        #expect(seen["cllr-north"] == [])
        #expect(seen["clerk-south"] == [])
    }
}
