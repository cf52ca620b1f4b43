import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

/// Every role against every mutation and every kind of record, judged as the server judges a
/// push: as the authenticated person, against the server's state. Each attempt is rolled back,
/// so every one meets the same state.
@Suite("Authorization: every role against every mutation")
struct AuthorizationTests {
    /// The records the attempts act on, made through the rules by the people entitled to.
    struct Fixtures {
        /// The server the devices talk to: the SQLite store, or a process on PostgreSQL.
        var server: any SyncStore
        /// Its state, where the attempts are made and rolled back.
        var store: SQLiteSyncStore
        var brocktonNeed: UUID  // in cllr-north's ward, recorded by the officer
        var personalNeed: UUID  // holds personal data, in cllr-north's ward
        var whitmereDraft: UUID  // Whitmere Town Council's draft
        var clunburySubmitted: UUID  // Clunbury Parish Council's submitted proposal
        var conflict: UUID  // between the officer and cllr-north, on the Brockton need's title
        var approved: UUID  // Whitmere's proposal, approved by the officer, not yet awarded
        var award: UUID  // an award on another approved Whitmere proposal
        var awardDecision: UUID
        var round: UUID  // a round on the North fund that ward councillors may assess
        var roundProposal: UUID  // Whitmere's proposal submitted into it
        var commission: UUID  // at stage 1 in Whitmere, with a need linked
        var vote: UUID  // Ledwyche's You Decide, open today only
    }

    static func fixtures(on kind: String = "sqlite") async throws -> Fixtures {
        let store = try await TestStores.demo(kind)
        let officer = try await SyncedDevice("officer", store: store)
        let north = try await SyncedDevice("cllr-north", store: store)
        let clerkNorth = try await SyncedDevice("clerk-north", store: store)
        let clerkSouth = try await SyncedDevice("clerk-south", store: store)
        for device in [officer, north, clerkNorth, clerkSouth] { try await device.sync() }

        let brocktonNeed = try officer.recordNeed(in: "brockton", title: "Ford floods")
        var personal = RecordNeed(needId: officer.replica.newID(), localityId: UUID.stable("demo:locality:brockton"), title: "Carer needs respite")
        personal.holdsPersonalData = true
        try officer.replica.perform(personal)
        try await officer.sync()

        let whitmereDraft = clerkNorth.replica.newID()
        try clerkNorth.replica.perform(Self.draft(whitmereDraft, organisation: "whitmere-town-council", place: "whitmere-town", budget: "north-2026-27"))
        try await clerkNorth.sync()
        let clunbury = clerkSouth.replica.newID()
        try clerkSouth.replica.perform(Self.draft(clunbury, organisation: "clunbury-parish-council", place: "clunbury", budget: "south-2026-27"))
        try clerkSouth.replica.perform(SubmitProposal(proposalId: clunbury))
        try await clerkSouth.sync()

        // A conflict: both edit the title offline; the later (cllr-north) stands.
        try await north.sync()
        var officerEdit = UpdateNeed(needId: brocktonNeed)
        officerEdit.title = "Ford floods (officer)"
        try officer.replica.perform(officerEdit)
        try await Task.sleep(for: .milliseconds(3))
        var northEdit = UpdateNeed(needId: brocktonNeed)
        northEdit.title = "Ford floods (councillor)"
        try north.replica.perform(northEdit)
        try await officer.sync()
        try await north.sync()
        let conflict = try #require(try north.replica.conflicts().first).id

        // The later stages of the cycle: approvals, an award, a round, a commission.
        func submitted(_ title: String, round: UUID? = nil) throws -> UUID {
            let id = clerkNorth.replica.newID()
            var draft = Self.draft(id, organisation: "whitmere-town-council", place: "whitmere-town", budget: "north-2026-27")
            draft.title = title
            draft.roundId = round
            try clerkNorth.replica.perform(draft)
            try clerkNorth.replica.perform(SubmitProposal(proposalId: id))
            return id
        }
        let round = officer.replica.newID()
        let today = Date()
        try officer.replica.perform(
            OpenRound(
                roundId: round, budgetId: UUID.stable("demo:budget:north-2026-27"), title: "Benches round",
                opensOn: Timestamps.day(today.addingTimeInterval(-86_400)), closesOn: Timestamps.day(today.addingTimeInterval(30 * 86_400)),
                councillorsAssess: true, criteria: [.init(id: UUID.stable("auth:criterion"), name: "Fit", weight: 1)]))
        try await officer.sync()
        try await clerkNorth.sync()
        let approved = try submitted("Approved benches")
        let awarded = try submitted("Awarded benches")
        let roundProposal = try submitted("Benches in the round", round: round)
        try await clerkNorth.sync()
        try await officer.sync()
        let awardDecision = officer.replica.newID()
        try officer.replica.perform(
            RecordDecision(decisionId: officer.replica.newID(), proposalId: approved, outcome: .approved, ledgerEntryId: officer.replica.newID()))
        try officer.replica.perform(
            RecordDecision(decisionId: awardDecision, proposalId: awarded, outcome: .approved, ledgerEntryId: officer.replica.newID()))
        let award = officer.replica.newID()
        try officer.replica.perform(
            CreateAward(
                awardId: award, proposalId: awarded, startsOn: "2026-12-01", endsOn: "2027-06-30",
                indicators: [.init(id: UUID.stable("auth:indicator"), name: "Benches installed", unit: "benches", target: 6)]))
        let commission = officer.replica.newID()
        try officer.replica.perform(
            StartCommission(
                commissionId: commission, title: "Places to sit", level: .town, localityId: UUID.stable("demo:locality:whitmere-town"),
                needIds: [brocktonNeed]))
        // Next year's North fund, for a year's close to carry money forward to.
        let finance = try await SyncedDevice("finance", store: store)
        try await finance.sync()
        try finance.replica.perform(
            CreateBudget(
                budgetId: UUID.stable("auth:north-2027-28"), name: "North Area Community Fund 2027/28",
                localityId: UUID.stable("demo:locality:north-area"), financialYear: FinancialYear(startYear: 2027)))
        try await finance.sync()
        let vote = officer.replica.newID()
        try officer.replica.perform(
            OpenVote(
                voteId: vote, roundId: UUID.stable("demo:round:ledwyche-you-decide"), title: "You Decide", rule: .mes,
                amount: Money(pence: 1_000_000), opensOn: Timestamps.day(today), closesOn: Timestamps.day(today),
                proposalIds: DemoCouncil.youDecideProposals.map { UUID.stable("demo:proposal:" + $0.slug) }))
        try await officer.sync()
        let state = try await TestStores.state(store)
        return Fixtures(
            server: store, store: state, brocktonNeed: brocktonNeed, personalNeed: personal.needId, whitmereDraft: whitmereDraft,
            clunburySubmitted: clunbury, conflict: conflict, approved: approved, award: award, awardDecision: awardDecision,
            round: round, roundProposal: roundProposal, commission: commission, vote: vote)
    }

    static func draft(_ id: UUID, organisation: String, place: String, budget: String) -> DraftProposal {
        var draft = DraftProposal(
            proposalId: id, budgetId: UUID.stable("demo:budget:" + budget),
            organisationId: UUID.stable("demo:organisation:" + organisation), localityId: UUID.stable("demo:locality:" + place),
            title: "Benches", amountRequested: Money(pence: 250_000))
        draft.summary = "Six benches on the green"
        return draft
    }

    /// One kind of attempt: the mutation, and who may make it. Everyone else must be refused as forbidden.
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var allowed: Set<String>
        /// Someone allowed by role who is refused by the record's state, with that code.
        var refusedByState: [String: String] = [:]
        var make: @Sendable (Fixtures) throws -> any MutationCommand
    }

    static let cases: [Case] = [
        Case(description: "need.record in a ward", allowed: ["officer", "cllr-north"]) { _ in
            RecordNeed(needId: UUID(), localityId: UUID.stable("demo:locality:brockton"), title: "Potholes")
        },
        Case(description: "need.record at county level", allowed: ["officer"]) { _ in
            RecordNeed(needId: UUID(), localityId: UUID.stable("demo:locality:marcher"), title: "Bus cuts")
        },
        Case(description: "need.update", allowed: ["officer", "cllr-north"]) { fixtures in
            var update = UpdateNeed(needId: fixtures.brocktonNeed)
            update.severity = 5
            return update
        },
        Case(description: "need.update of a need holding personal data", allowed: ["officer", "cllr-north"]) { fixtures in
            var update = UpdateNeed(needId: fixtures.personalNeed)
            update.description = "More detail"
            return update
        },
        Case(description: "need.addEvidence", allowed: ["officer", "cllr-north"]) { fixtures in
            AddNeedEvidence(
                needId: fixtures.brocktonNeed,
                evidence: EvidenceInput(id: UUID(), kind: .petition, note: "120 signatures", observedOn: "2026-11-01"))
        },
        Case(description: "need.setStatus", allowed: ["officer", "cllr-north"]) { fixtures in
            SetNeedStatus(needId: fixtures.brocktonNeed, status: .prioritised)
        },
        Case(description: "need.close", allowed: ["officer", "cllr-north"]) { fixtures in
            CloseNeed(needId: fixtures.brocktonNeed, reason: "Fixed by highways")
        },
        Case(description: "proposal.draft for an organisation", allowed: ["clerk-north"]) { _ in
            Self.draft(UUID(), organisation: "whitmere-town-council", place: "whitmere-town", budget: "north-2026-27")
        },
        Case(description: "proposal.edit of a draft", allowed: ["clerk-north"]) { fixtures in
            var edit = EditProposal(proposalId: fixtures.whitmereDraft)
            edit.amountRequested = Money(pence: 300_000)
            return edit
        },
        Case(description: "proposal.submit", allowed: ["clerk-north"]) { fixtures in
            SubmitProposal(proposalId: fixtures.whitmereDraft)
        },
        Case(description: "proposal.withdraw", allowed: ["clerk-north"]) { fixtures in
            WithdrawProposal(proposalId: fixtures.whitmereDraft, reason: "Funded elsewhere")
        },
        Case(
            description: "proposal.edit of a submitted proposal", allowed: [],
            refusedByState: ["clerk-south": "invalid_transition"]
        ) { fixtures in
            var edit = EditProposal(proposalId: fixtures.clunburySubmitted)
            edit.title = "Changed after submission"
            return edit
        },
        Case(description: "conflict.resolve keeping the overwritten value", allowed: ["officer", "cllr-north"]) { fixtures in
            ResolveConflict(conflictId: fixtures.conflict, keep: .lost)
        },
        // £2,500 in Clunbury: within a ward councillor's delegation, for Clunbury's councillor only.
        Case(description: "decision.record approving", allowed: ["officer", "cabinet", "cllr-south"]) { fixtures in
            RecordDecision(decisionId: UUID(), proposalId: fixtures.clunburySubmitted, outcome: .approved, ledgerEntryId: UUID())
        },
        Case(description: "decision.record rejecting", allowed: ["officer", "cabinet", "cllr-south"]) { fixtures in
            RecordDecision(
                decisionId: UUID(), proposalId: fixtures.clunburySubmitted, outcome: .rejected, reasons: "Outside the fund's outcomes",
                ledgerEntryId: UUID())
        },
        Case(description: "interest.declare", allowed: ["officer", "cabinet", "cllr-north", "cllr-south"]) { fixtures in
            DeclareInterest(declarationId: UUID(), proposalId: fixtures.clunburySubmitted, interest: "A neighbour of the applicant")
        },
        Case(description: "award.create", allowed: ["officer", "cabinet"]) { fixtures in
            CreateAward(awardId: UUID(), proposalId: fixtures.approved, startsOn: "2026-12-01", endsOn: "2027-06-30")
        },
        Case(description: "payment.record", allowed: ["officer"]) { fixtures in
            RecordPayment(ledgerEntryId: UUID(), awardId: fixtures.award, amount: Money(pence: 100_000))
        },
        Case(description: "monitoring.submit", allowed: ["officer", "clerk-north"]) { fixtures in
            SubmitMonitoringReport(
                reportId: UUID(), awardId: fixtures.award, periodEnd: "2026-11-20", progress: "Two benches in", spend: Money(pence: 40_000),
                measurements: [.init(indicatorId: UUID.stable("auth:indicator"), value: 2)])
        },
        Case(description: "review.record", allowed: ["officer", "cabinet"]) { fixtures in
            RecordReview(reviewId: UUID(), awardId: fixtures.award, verdict: .complete, summary: "Six benches installed")
        },
        Case(description: "ledger.correct releasing part of a commitment", allowed: ["officer"]) { fixtures in
            CorrectLedger(ledgerEntryId: UUID(), decisionId: fixtures.awardDecision, kind: .decommitment, amount: Money(pence: 100), reason: "Cheaper benches")
        },
        Case(description: "round.open", allowed: ["officer"]) { _ in
            OpenRound(
                roundId: UUID(), budgetId: UUID.stable("demo:budget:north-2026-27"), title: "Another round", opensOn: "2027-01-01",
                closesOn: "2027-02-01", criteria: [.init(id: UUID(), name: "Fit", weight: 1)])
        },
        Case(description: "assessment.score where ward councillors may assess", allowed: ["officer", "cllr-north"]) { fixtures in
            ScoreProposal(
                proposalId: fixtures.roundProposal, declaresNoInterest: true,
                scores: [.init(id: UUID(), criterionId: UUID.stable("auth:criterion"), score: 4)])
        },
        Case(description: "assessment.moderate", allowed: ["officer"]) { fixtures in
            ModerateAssessment(moderationId: UUID(), proposalId: fixtures.roundProposal, adjustment: 5, reason: "Site visit")
        },
        Case(description: "commission.start in a councillor's ward", allowed: ["officer", "cabinet", "cllr-north"]) { _ in
            StartCommission(commissionId: UUID(), title: "Bus links", level: .town, localityId: UUID.stable("demo:locality:whitmere-town"))
        },
        Case(description: "commission.advance from stage 1", allowed: ["officer", "cabinet", "cllr-north"]) { fixtures in
            AdvanceCommission(commissionId: fixtures.commission, fromStage: 1)
        },
        Case(description: "commission.option (an appraisal, for officers)", allowed: ["officer", "cabinet"]) { fixtures in
            AppraiseOption(optionId: UUID(), commissionId: fixtures.commission, deliveryModel: .parishLed, score: 60)
        },
        Case(description: "commission.risk", allowed: ["officer", "cabinet", "cllr-north"]) { fixtures in
            RecordRisk(riskId: UUID(), commissionId: fixtures.commission, description: "Vandalism", likelihood: 2, impact: 2, owner: "Town clerk")
        },
        Case(description: "vote.open on a round's submitted proposal", allowed: ["officer"]) { fixtures in
            let today = Timestamps.day(Date())
            return OpenVote(
                voteId: UUID(), roundId: fixtures.round, title: "Benches vote", rule: .greedy, amount: Money(pence: 300_000), opensOn: today,
                closesOn: today, proposalIds: [fixtures.roundProposal])
        },
        Case(description: "ballot.cast from a resident's own account", allowed: ["resident-south"]) { fixtures in
            CastBallot(ballotId: UUID(), voteId: fixtures.vote, proposalIds: [UUID.stable("demo:proposal:skate-ramps")])
        },
        Case(description: "ballot.cast capturing a paper ballot in Ledwyche", allowed: ["officer", "cllr-south"]) { fixtures in
            CastBallot(
                ballotId: UUID(), voteId: fixtures.vote, proposalIds: [UUID.stable("demo:proposal:litter-kit")], paperSerial: "0001",
                voterCode: "AUTH-1")
        },
        Case(description: "vote.close on its last day", allowed: ["officer"]) { fixtures in
            CloseVote(voteId: fixtures.vote)
        },
        Case(description: "budget.create", allowed: ["finance"]) { _ in
            CreateBudget(
                budgetId: UUID(), name: "South Area Community Fund 2027/28", localityId: UUID.stable("demo:locality:south-area"),
                financialYear: FinancialYear(startYear: 2027))
        },
        Case(description: "budget.allocate", allowed: ["finance"]) { _ in
            AllocateBudget(
                ledgerEntryId: UUID(), budgetId: UUID.stable("demo:budget:north-2026-27"), source: .section106, amount: Money(pence: 500_000),
                note: "S106 agreement 24/0113/FUL, play area contribution")
        },
        // Within the finance officer's £10,000 virement limit; above it, only the executive member.
        Case(description: "budget.transfer within the finance officer's limit", allowed: ["finance", "cabinet"]) { _ in
            TransferBudget(
                fromBudgetId: UUID.stable("demo:budget:north-2026-27"), toBudgetId: UUID.stable("demo:budget:south-2026-27"),
                amount: Money(pence: 500_000), reason: "South's youth round oversubscribed", outEntryId: UUID(), inEntryId: UUID())
        },
        Case(description: "budget.transfer above the finance officer's limit", allowed: ["cabinet"]) { _ in
            TransferBudget(
                fromBudgetId: UUID.stable("demo:budget:north-2026-27"), toBudgetId: UUID.stable("demo:budget:south-2026-27"),
                amount: Money(pence: 2_000_000), reason: "Rebalancing the areas", outEntryId: UUID(), inEntryId: UUID())
        },
        Case(description: "budget.closeYear carrying forward", allowed: ["finance"]) { _ in
            CloseBudgetYear(
                budgetId: UUID.stable("demo:budget:north-2026-27"), carryForwardTo: UUID.stable("auth:north-2027-28"), early: true,
                outEntryId: UUID(), inEntryId: UUID())
        },
        Case(description: "outcome.add", allowed: ["admin"]) { _ in
            AddOutcome(outcomeId: UUID(), title: "Streets are clean and safe", level: .strategic)
        },
        Case(description: "indicator.add", allowed: ["admin"]) { _ in
            AddIndicator(
                indicatorId: UUID(), outcomeId: UUID.stable("demo:outcome:rural-transport"), name: "Villages with a daily bus", unit: "villages",
                direction: .higherIsBetter, baseline: 12, target: 20, source: "Bus timetables")
        },
        Case(description: "indicator.measure", allowed: ["officer", "admin"]) { _ in
            RecordMeasurement(
                measurementId: UUID(), indicatorId: UUID.stable("demo:indicator:rural-transport:Community transport journeys a month"),
                value: 355, measuredOn: "2026-10-31")
        },
        Case(description: "delegation.adopt", allowed: ["admin"]) { _ in
            AdoptScheme(
                basedOnVersion: 1,
                lines: [.init(id: UUID(), role: .executive, scope: .authority, maxAmount: nil, description: "The Cabinet Member")],
                note: "Council, 14 May 2027, minute 9")
        },
        Case(description: "organisation.add", allowed: ["officer", "admin"]) { _ in
            AddOrganisation(
                organisationId: UUID(), name: "Brockton Allotment Society", kind: .communityGroup,
                localityIds: [UUID.stable("demo:locality:brockton")])
        },
        Case(description: "organisation.update of its contact", allowed: ["officer", "admin", "clerk-north"]) { _ in
            var update = UpdateOrganisation(organisationId: UUID.stable("demo:organisation:whitmere-town-council"))
            update.contact = "clerk@whitmere-tc.example"
            return update
        },
        Case(description: "organisation.update of its org-id", allowed: ["officer", "admin"]) { _ in
            var update = UpdateOrganisation(organisationId: UUID.stable("demo:organisation:whitmere-town-council"))
            update.orgIdentifier = "GB-CHC-1188123"
            return update
        },
    ]

    @Test(arguments: TestStores.kinds) func everyRoleAgainstEveryMutation(on kind: String) async throws {
        let fixtures = try await Self.fixtures(on: kind)
        var checked = 0
        for testCase in Self.cases {
            for username in DemoCouncil.usernames {
                let command = try testCase.make(fixtures)
                let outcome: String = try await fixtures.store.database.write { db in
                    var outcome = "applied"
                    try db.inSavepoint {
                        let mutation = Mutation(
                            id: UUID(), deviceId: UUID(), sequence: 1, hlc: HLCTimestamp(wallMillis: 9_000_000_000_000, counter: 0, node: "x"),
                            name: type(of: command).name, actorId: DemoCouncil.personID(username), createdAt: Date(),
                            arguments: try JSONValue(encoding: command))
                        do {
                            try mutation.apply(as: DemoCouncil.personID(username), db)
                        } catch let error as LocalityError {
                            outcome = error.code.rawValue
                        }
                        return .rollback
                    }
                    return outcome
                }
                let expected = testCase.allowed.contains(username) ? "applied" : testCase.refusedByState[username] ?? "forbidden"
                #expect(outcome == expected, "\(username): \(testCase)")
                checked += 1
            }
        }
        #expect(checked == Self.cases.count * DemoCouncil.usernames.count)
    }

    /// Reads, by kind of record: what each role's device receives.
    @Test(arguments: TestStores.kinds) func everyRoleReceivesOnlyWhatItMaySee(on kind: String) async throws {
        let fixtures = try await Self.fixtures(on: kind)
        let expectations: [(String, needs: Set<String>, proposals: Int)] = [
            ("admin", ["Ford floods (councillor)"], 1),
            ("officer", ["Ford floods (councillor)", "Carer needs respite"], 1),
            ("cabinet", ["Ford floods (councillor)"], 1),
            ("cllr-north", ["Ford floods (councillor)", "Carer needs respite"], 1),
            ("cllr-south", [], 1),
            ("clerk-north", ["Ford floods (councillor)"], 2),
            ("clerk-south", ["Ford floods (councillor)"], 1),
        ]
        for (username, needs, proposals) in expectations {
            let device = try await SyncedDevice(username, store: fixtures.server)
            try await device.sync()
            let titles = try device.needTitles().filter { $0.hasPrefix("Ford") || $0.hasPrefix("Carer") }
            #expect(titles == needs, "\(username)")
            // Besides the drafts and the Clunbury submission, the fixtures' three submitted benches proposals are public.
            #expect(try device.replica.proposals().filter { !DemoCouncil.cycleProposalTitles.contains($0.proposal.title) }.count == proposals + 3, "\(username)")
            let conflicts = try device.replica.conflicts().count
            #expect(conflicts == (needs.contains("Ford floods (councillor)") ? 1 : 0), "\(username) conflicts")
        }
    }
}
