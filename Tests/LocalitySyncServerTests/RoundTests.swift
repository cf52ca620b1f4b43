import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

@Suite("Rounds: open dates, eligibility, weighted assessment, interests, ranking and moderation")
struct RoundTests {
    private static let northBudget = UUID.stable("demo:budget:north-2026-27")

    private func day(_ offset: Int) -> String { Timestamps.day(Date().addingTimeInterval(Double(offset) * 86_400)) }

    private func draft(_ clerk: SyncedDevice, round: UUID, pence: Int64, title: String, place: String = "whitmere-town") throws -> UUID {
        var draft = DraftProposal(
            proposalId: clerk.replica.newID(), budgetId: Self.northBudget,
            organisationId: UUID.stable("demo:organisation:whitmere-town-council"), localityId: UUID.stable("demo:locality:" + place),
            title: title, amountRequested: Money(pence: pence))
        draft.summary = "For the town"
        draft.roundId = round
        try clerk.replica.perform(draft)
        return draft.proposalId
    }

    @Test func aRoundTakesEligibleProposalsWhileOpenAndRanksThemByWeightedScore() async throws {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let officer = try await SyncedDevice("officer", store: store)
        try await officer.sync()
        let (fit, value) = (officer.replica.newID(), officer.replica.newID())
        let open = officer.replica.newID()
        try officer.replica.perform(
            OpenRound(
                roundId: open, budgetId: Self.northBudget, title: "Small grants", opensOn: day(-10), closesOn: day(60),
                maxAward: Money(pence: 500_000), organisationKinds: [.townCouncil, .parishCouncil], councillorsAssess: true,
                criteria: [.init(id: fit, name: "Fit to priority needs", weight: 60), .init(id: value, name: "Value for money", weight: 40)]))
        let closed = officer.replica.newID()
        try officer.replica.perform(
            OpenRound(
                roundId: closed, budgetId: Self.northBudget, title: "Last year's round", opensOn: day(-400), closesOn: day(-30),
                criteria: [.init(id: officer.replica.newID(), name: "Fit", weight: 1)]))
        refused(.invalidInput, containing: "at least one assessment criterion") {
            try officer.replica.perform(
                OpenRound(roundId: UUID(), budgetId: Self.northBudget, title: "No criteria", opensOn: day(0), closesOn: day(1), criteria: []))
        }
        let cllr = try await SyncedDevice("cllr-north", store: store)
        try await cllr.sync()
        refused(.forbidden) {
            try cllr.replica.perform(
                OpenRound(roundId: UUID(), budgetId: Self.northBudget, title: "x", opensOn: day(0), closesOn: day(1), criteria: [.init(id: UUID(), name: "y", weight: 1)]))
        }
        try await officer.sync()

        let clerk = try await SyncedDevice("clerk-north", store: store)
        try await clerk.sync()
        let benches = try draft(clerk, round: open, pence: 300_000, title: "Benches")
        let hall = try draft(clerk, round: open, pence: 450_000, title: "Hall heating")
        let tooBig = try draft(clerk, round: open, pence: 600_000, title: "Skate park")
        let late = try draft(clerk, round: closed, pence: 100_000, title: "Late entry")
        try clerk.replica.perform(SubmitProposal(proposalId: benches))
        try clerk.replica.perform(SubmitProposal(proposalId: hall))
        refused(.invalidInput, containing: "awards at most £5,000.00") { try clerk.replica.perform(SubmitProposal(proposalId: tooBig)) }
        refused(.invalidTransition, containing: "it is closed") { try clerk.replica.perform(SubmitProposal(proposalId: late)) }
        try await clerk.sync()

        // Officers assess, and the ward's councillor because the round allows it; not another ward's.
        try await officer.sync()
        try await cllr.sync()
        let south = try await SyncedDevice("cllr-south", store: store)
        try await south.sync()
        func scores(_ device: SyncedDevice, _ fitScore: Int, _ valueScore: Int) -> [ScoreProposal.Score] {
            [.init(id: device.replica.newID(), criterionId: fit, score: fitScore), .init(id: device.replica.newID(), criterionId: value, score: valueScore)]
        }
        refused(.invalidInput, containing: "declare any interest first") {
            try officer.replica.perform(ScoreProposal(proposalId: benches, declaresNoInterest: false, scores: scores(officer, 5, 5)))
        }
        refused(.invalidInput, containing: "scored from 0 to 5") {
            try officer.replica.perform(ScoreProposal(proposalId: benches, declaresNoInterest: true, scores: scores(officer, 6, 5)))
        }
        refused(.forbidden, containing: "officers and the councillors for their wards") {
            try south.replica.perform(ScoreProposal(proposalId: benches, declaresNoInterest: true, scores: scores(south, 1, 1)))
        }
        try officer.replica.perform(ScoreProposal(proposalId: benches, declaresNoInterest: true, scores: scores(officer, 3, 5)))  // 76
        try officer.replica.perform(ScoreProposal(proposalId: hall, declaresNoInterest: true, scores: scores(officer, 5, 4)))  // 92
        try cllr.replica.perform(ScoreProposal(proposalId: benches, declaresNoInterest: true, scores: scores(cllr, 5, 5)))  // mean 88
        try cllr.replica.perform(
            DeclareInterest(declarationId: cllr.replica.newID(), proposalId: hall, interest: "I am a trustee of the hall"))
        refused(.forbidden, containing: "declared an interest") {
            try cllr.replica.perform(ScoreProposal(proposalId: hall, declaresNoInterest: true, scores: scores(cllr, 1, 1)))
        }
        try await officer.sync()
        try await cllr.sync()
        try await officer.sync()

        var round = try officer.replica.round(open.key)
        #expect(round.ranking.map(\.proposalId) == [hall, benches])
        #expect(round.ranking.map(\.weightedScore) == [92, 88])
        #expect(round.ranking[1].assessors == 2 && round.ranking.allSatisfy(\.complete))
        // Moderation can reorder, with a reason.
        refused(.invalidInput, containing: "needs its reason") {
            try officer.replica.perform(ModerateAssessment(moderationId: UUID(), proposalId: hall, adjustment: -10, reason: " "))
        }
        try officer.replica.perform(
            ModerateAssessment(moderationId: officer.replica.newID(), proposalId: hall, adjustment: -10, reason: "Heating quote expired"))
        round = try officer.replica.round(open.key)
        #expect(round.ranking.map(\.proposalId) == [benches, hall])
        #expect(round.ranking.map(\.total) == [88, 82])
        #expect(round.requested.pence == 750_000)
        try await officer.sync()
        #expect(try await store.database.read { try Moderation.fetchCount($0) } == 1)
    }

    @Test func aProposalIsSubmittedIntoAnOpenRoundOnly() async throws {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let clerk = try await SyncedDevice("clerk-north", store: store)
        try await clerk.sync()
        func draft(_ title: String) throws -> UUID {
            var draft = DraftProposal(
                proposalId: clerk.replica.newID(), budgetId: Self.northBudget,
                organisationId: UUID.stable("demo:organisation:whitmere-town-council"),
                localityId: UUID.stable("demo:locality:whitmere-town"), title: title, amountRequested: Money(pence: 100_000))
            draft.summary = "For the town"
            try clerk.replica.perform(draft)
            return draft.proposalId
        }
        // Without a round named, it goes into its budget's open call.
        let planters = try draft("Planters")
        try clerk.replica.perform(SubmitProposal(proposalId: planters))
        let openCall = UUID.stable("demo:round:north-2026-27:open-call")
        #expect(try clerk.replica.read { try Proposal.find($0, id: planters)?.roundId } == openCall)
        // A round of another budget is refused by name.
        let southRound = UUID.stable("demo:round:south-small-grants")
        let mural = try draft("Mural")
        refused(.invalidInput, containing: "is for another budget") {
            try clerk.replica.perform(SubmitProposal(proposalId: mural, roundId: southRound))
        }
        try await clerk.sync()
        #expect(try await store.database.read { try Proposal.find($0, id: planters)?.roundId } == openCall)

        // With every round of the budget closed, nothing can be submitted — on the device or the server.
        try await store.database.write { try $0.execute(sql: "UPDATE round SET closes_on = '2026-01-31' WHERE budget_id = ?", arguments: [Self.northBudget.key]) }
        let late = try await SyncedDevice("clerk-north", store: store)
        try await late.sync()
        let bins = late.replica.newID()
        var binsDraft = DraftProposal(
            proposalId: bins, budgetId: Self.northBudget, organisationId: UUID.stable("demo:organisation:whitmere-town-council"),
            localityId: UUID.stable("demo:locality:whitmere-town"), title: "Bins", amountRequested: Money(pence: 50_000))
        binsDraft.summary = "Litter bins"
        try late.replica.perform(binsDraft)
        refused(.invalidTransition, containing: "has no round open") { try late.replica.perform(SubmitProposal(proposalId: bins)) }
        // The first device still thinks the open call is open; the server, the judge, refuses.
        try clerk.replica.perform(SubmitProposal(proposalId: mural))
        let summary = try await clerk.sync()
        #expect(summary.rejected.map(\.code) == ["invalid_transition"])
        #expect(summary.rejected.first?.message.contains("has no round open") == true)
        #expect(try await store.database.read { try Proposal.find($0, id: mural)?.status } == .draft)
    }
}
