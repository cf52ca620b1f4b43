import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

@Suite("Residents' votes: ballots online and on paper, one per voter, counted into decisions")
struct VoteTests {
    static let round = UUID.stable("demo:round:ledwyche-you-decide")
    static let proposals = DemoCouncil.youDecideProposals.map { UUID.stable("demo:proposal:" + $0.slug) }
    static let southBudget = UUID.stable("demo:budget:south-2026-27")

    private func today(_ offset: Int = 0) -> String { Timestamps.day(Date().addingTimeInterval(Double(offset) * 86_400)) }

    /// A demo server, and an officer's device with a vote open today on Ledwyche's four proposals.
    private func opened(
        rule: AllocationRule = .mes, ballot: Vote.BallotType = .approval, max: Int? = 3, amount: Int64 = 1_000_000,
        opens: Int = 0, closes: Int = 0, countLimit: CountLimit = .standard
    ) async throws -> (SQLiteSyncStore, officer: SyncedDevice, vote: UUID) {
        var store = try SQLiteSyncStore.inMemory()
        store.countLimit = countLimit
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let officer = try await SyncedDevice("officer", store: store)
        try await officer.sync()
        let vote = officer.replica.newID()
        try officer.replica.perform(
            OpenVote(
                voteId: vote, roundId: Self.round, title: "Ledwyche: You Decide", ballotType: ballot, maxChoices: max, rule: rule,
                amount: Money(pence: amount), opensOn: today(opens), closesOn: today(closes), proposalIds: Self.proposals))
        try await officer.sync()
        return (store, officer, vote)
    }

    @Test func residentsAndPaperBallotsAreCountedIntoDecisionsAndCommitments() async throws {
        let (store, officer, vote) = try await opened()
        let (skate, litter, ride, lights) = (Self.proposals[0], Self.proposals[1], Self.proposals[2], Self.proposals[3])
        let resident = try await SyncedDevice("resident-south", store: store)
        try await resident.sync()
        try resident.replica.perform(CastBallot(ballotId: resident.replica.newID(), voteId: vote, proposalIds: [ride, lights]))
        refused(.alreadyVoted, containing: "has already voted") {
            try resident.replica.perform(CastBallot(ballotId: resident.replica.newID(), voteId: vote, proposalIds: [skate]))
        }
        // A paper ballot needs a capturer: not a resident, not a clerk, not another area's councillor.
        refused(.forbidden, containing: "captured by officers and the area's councillors") {
            try resident.replica.perform(
                CastBallot(ballotId: UUID(), voteId: vote, proposalIds: [skate], paperSerial: "0001", voterCode: "AAAA"))
        }
        let north = try await SyncedDevice("cllr-north", store: store)
        try await north.sync()
        refused(.forbidden) {
            try north.replica.perform(CastBallot(ballotId: UUID(), voteId: vote, proposalIds: [skate], paperSerial: "0001", voterCode: "AAAA"))
        }
        // The ward councillor captures paper ballots at the village-hall event, offline.
        let councillor = try await SyncedDevice("cllr-south", store: store)
        try await councillor.sync()
        let papers: [[UUID]] = [[skate], [skate, litter], [skate, litter], [litter, ride], [ride], [skate, lights], [lights, litter]]
        for (index, choices) in papers.enumerated() {
            try councillor.replica.perform(
                CastBallot(
                    ballotId: councillor.replica.newID(), voteId: vote, proposalIds: choices, paperSerial: String(format: "%04d", index + 1),
                    voterCode: "CODE-\(index + 1)"))
        }
        #expect(try councillor.replica.pendingBallots().count == papers.count)
        #expect(try resident.replica.vote(vote.key).yourBallot == "waiting to sync")
        try await resident.sync()
        try await councillor.sync()
        // The resident's device remembers that its ballot was counted — not what it chose.
        #expect(try resident.replica.vote(vote.key).yourBallot?.hasPrefix("counted (cast ") == true)
        refused(.alreadyVoted, containing: "was counted") {
            try resident.replica.perform(CastBallot(ballotId: resident.replica.newID(), voteId: vote, proposalIds: [skate]))
        }
        #expect(try councillor.replica.vote(vote.key).yourBallot == nil)
        // Counted in, the ballots leave the capturing devices.
        #expect(try councillor.replica.pendingBallots().isEmpty && resident.replica.pendingBallots().isEmpty)
        #expect(try await store.database.read { try Ballot.fetchCount($0) } == papers.count + 1)

        try officer.replica.perform(CloseVote(voteId: vote))
        #expect(try officer.replica.vote(vote.key).status == .closing)
        try await officer.sync()
        let view = try officer.replica.vote(vote.key)
        #expect(view.status == .closed && view.ballotsCounted == papers.count + 1)

        // The count is the rule over the ballots, computed independently here.
        let ballots = (papers + [[ride, lights]]).map { $0.map { Self.proposals.firstIndex(of: $0)! } }
        let costs = DemoCouncil.youDecideProposals.map { Rational(Int($0.pence)) }
        let expected = try AllocationRules.allocate(
            PBElection(
                projects: zip(Self.proposals, costs).map { .init(id: $0.0.key, cost: $0.1) }, budget: Rational(1_000_000), ballots: ballots,
                unit: Rational(100)),
            rule: .mes)
        #expect(view.result?.funded.map(\.key) == expected.funded)
        #expect(view.result?.projects.count == 4 && view.result?.projects.allSatisfy { !$0.explanation.isEmpty } == true)

        // Funded proposals are approved with commitments; the rest rejected with the count's reason.
        let (decisions, commitments, position) = try await store.database.read { db in
            (
                try Decision.fetchAll(db, sql: "SELECT * FROM decision WHERE proposal_id IN (\(Self.proposals.map { "'\($0.key)'" }.joined(separator: ",")))"),
                try Int64.fetchOne(db, sql: "SELECT SUM(amount) FROM ledger_entry WHERE note LIKE 'Residents'' vote:%'") ?? 0,
                try BudgetPosition.of(budget: Self.southBudget, in: db)
            )
        }
        let funded = Set(expected.funded.compactMap(UUID.init(key:)))
        #expect(decisions.count == 4)
        #expect(Set(decisions.filter { $0.outcome == .approved }.map(\.proposalId)) == funded)
        #expect(decisions.filter { $0.outcome == .rejected }.allSatisfy { $0.reasons.contains("Not funded by the residents' vote") })
        let fundedCost = DemoCouncil.youDecideProposals.filter { funded.contains(UUID.stable("demo:proposal:" + $0.slug)) }.reduce(0) { $0 + $1.pence }
        #expect(commitments == fundedCost && commitments <= 1_000_000)
        #expect(position.committed <= position.allocated)
        // Counted once: closing again is refused, and so is a ballot that arrives after the count.
        refused(.invalidTransition, containing: "already closed") { try officer.replica.perform(CloseVote(voteId: vote)) }
        #expect(try await store.database.read { try Audit.verify($0) }.intact)
    }

    /// The README's vote, counted by Equal Shares with rising shares, when a proposal on the ballot
    /// has no votes and would still fit: the count ends (it used to spin for ever holding the write
    /// lock), and the proposal nobody chose is not funded, whatever the rule.
    @Test(arguments: AllocationRule.allCases)
    func aVoteEndsAndNeverFundsAProposalNobodyChose(rule: AllocationRule) async throws {
        let (store, officer, vote) = try await opened(rule: rule)
        let resident = try await SyncedDevice("resident-south", store: store)
        try await resident.sync()
        try resident.replica.perform(CastBallot(ballotId: resident.replica.newID(), voteId: vote, proposalIds: [Self.proposals[0]]))
        try await resident.sync()
        try officer.replica.perform(CloseVote(voteId: vote))
        let summary = try await officer.sync()
        #expect(summary.rejected.isEmpty)
        let view = try officer.replica.vote(vote.key)
        #expect(view.status == .closed)
        #expect(view.result?.funded.map(\.key) == [Self.proposals[0].key])
        let unchosen = view.result?.projects.filter { $0.id != Self.proposals[0] } ?? []
        #expect(unchosen.count == 3 && unchosen.allSatisfy { !$0.funded && $0.explanation == "nobody voted for it" })
    }

    /// A count past the server's bound is refused with a reason, changing nothing; the vote stays
    /// open and the other devices' pushes go through.
    @Test func aCountPastTheBoundIsRefusedWithAReasonAndChangesNothing() async throws {
        let (store, officer, vote) = try await opened(rule: .mesAdd1Greedy, countLimit: CountLimit(steps: 10))
        let resident = try await SyncedDevice("resident-south", store: store)
        try await resident.sync()
        try resident.replica.perform(CastBallot(ballotId: resident.replica.newID(), voteId: vote, proposalIds: [Self.proposals[0], Self.proposals[2]]))
        try await resident.sync()
        let decisionsBefore = try await store.database.read { try Decision.fetchCount($0) }
        try officer.replica.perform(CloseVote(voteId: vote))
        let summary = try await officer.sync()
        #expect(summary.rejected.map(\.code) == ["count_limit"])
        #expect(try officer.replica.rejectedMutations().first?.message.contains("cannot be counted") == true)
        #expect(try officer.replica.vote(vote.key).status == .open)
        #expect(try await store.database.read { try Decision.fetchCount($0) } == decisionsBefore)
        #expect(try await store.database.read { try Vote.fetchOne($0, key: vote.key)?.status } == .open)
    }

    /// A vote's days are still to come; and while it runs, its proposals are decided by its count only.
    @Test func aVoteIsForDaysToComeAndItsCountAloneDecidesItsProposals() async throws {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let officer = try await SyncedDevice("officer", store: store)
        try await officer.sync()
        refused(.invalidInput, containing: "which has passed") {
            try officer.replica.perform(
                OpenVote(
                    voteId: officer.replica.newID(), roundId: Self.round, title: "Too late", maxChoices: 3, rule: .mes,
                    amount: Money(pence: 1_000_000), opensOn: today(-3), closesOn: today(-1), proposalIds: Self.proposals))
        }
        let (_, openOfficer, _) = try await opened(closes: 2)
        refused(.invalidTransition, containing: "the vote's count decides it") {
            try openOfficer.replica.perform(
                RecordDecision(
                    decisionId: openOfficer.replica.newID(), proposalId: Self.proposals[0], outcome: .approved,
                    ledgerEntryId: openOfficer.replica.newID()))
        }
    }

    @Test func aDuplicateVoterAcrossTwoCaptureDevicesIsRejectedAndShownToWhoeverCapturedIt() async throws {
        let (store, officer, vote) = try await opened()
        let councillor = try await SyncedDevice("cllr-south", store: store)
        try await councillor.sync()
        // The same poll card used twice, at two events, offline.
        try officer.replica.perform(
            CastBallot(ballotId: officer.replica.newID(), voteId: vote, proposalIds: [Self.proposals[0]], paperSerial: "A-1", voterCode: "k7qf"))
        try councillor.replica.perform(
            CastBallot(ballotId: councillor.replica.newID(), voteId: vote, proposalIds: [Self.proposals[1]], paperSerial: "B-9", voterCode: "K7QF"))
        // The same paper captured twice on one device is caught there and then.
        refused(.alreadyVoted, containing: "ballot paper B-9 has already been captured") {
            try councillor.replica.perform(
                CastBallot(ballotId: UUID(), voteId: vote, proposalIds: [Self.proposals[1]], paperSerial: "B-9", voterCode: "ZZZZ"))
        }
        try await officer.sync()
        let summary = try await councillor.sync()
        #expect(summary.rejected.map(\.code) == ["already_voted"])
        let shown = try councillor.replica.rejectedMutations()
        #expect(shown.count == 1 && shown[0].summary == "ballot paper B-9" && shown[0].message.contains("voting code K7QF has already voted"))
        #expect(try councillor.replica.pendingBallots().isEmpty)
        #expect(try await store.database.read { try Ballot.fetchCount($0) } == 1)
    }

    @Test func ballotsOutsideThePeriodOffTheBallotOrBreakingTheLimitsAreRefused() async throws {
        let (store, officer, vote) = try await opened(max: 2)
        let resident = try await SyncedDevice("resident-south", store: store)
        try await resident.sync()
        func cast(_ choices: [UUID]) throws {
            try resident.replica.perform(CastBallot(ballotId: resident.replica.newID(), voteId: vote, proposalIds: choices))
        }
        refused(.invalidInput, containing: "at most 2") { try cast(Array(Self.proposals.prefix(3))) }
        refused(.invalidInput, containing: "at least one") { try cast([]) }
        refused(.invalidInput, containing: "chosen twice") { try cast([Self.proposals[0], Self.proposals[0]]) }
        let lunch = UUID.stable("demo:proposal:lunch-club")
        refused(.invalidInput, containing: "is not on the ballot") { try cast([lunch]) }

        // A knapsack ballot is limited by cost: £6,000 + £4,000 fits £10,000; adding £1,500 does not.
        let (knapStore, _, knapsack) = try await opened(ballot: .knapsack, max: nil)
        let voter = try await SyncedDevice("resident-south", store: knapStore)
        try await voter.sync()
        refused(.invalidInput, containing: "more than the £10,000.00") {
            try voter.replica.perform(
                CastBallot(ballotId: UUID(), voteId: knapsack, proposalIds: [Self.proposals[0], Self.proposals[2], Self.proposals[1]]))
        }
        try voter.replica.perform(CastBallot(ballotId: voter.replica.newID(), voteId: knapsack, proposalIds: [Self.proposals[0], Self.proposals[2]]))

        // A vote that opens next week takes no ballot today.
        let (futureStore, _, future) = try await opened(opens: 7, closes: 14)
        let early = try await SyncedDevice("resident-south", store: futureStore)
        try await early.sync()
        refused(.invalidTransition, containing: "takes ballots from") {
            try early.replica.perform(CastBallot(ballotId: UUID(), voteId: future, proposalIds: [Self.proposals[0]]))
        }
        // A proposal goes on one ballot at a time.
        let later = officer.replica.newID()
        refused(.invalidInput, containing: "already on the ballot") {
            try officer.replica.perform(
                OpenVote(
                    voteId: later, roundId: Self.round, title: "Again", rule: .greedy, amount: Money(pence: 100_000), opensOn: today(7),
                    closesOn: today(14), proposalIds: [Self.proposals[0]]))
        }
        // Closing before the last day is refused; a ballot captured offline arrives after the count.
        let (lateStore, lateOfficer, lateVote) = try await opened(closes: 0)
        let councillor = try await SyncedDevice("cllr-south", store: lateStore)
        try await councillor.sync()
        try councillor.replica.perform(
            CastBallot(ballotId: councillor.replica.newID(), voteId: lateVote, proposalIds: [Self.proposals[0]], paperSerial: "77", voterCode: "LATE"))
        try lateOfficer.replica.perform(CloseVote(voteId: lateVote))
        try await lateOfficer.sync()
        let summary = try await councillor.sync()
        #expect(summary.rejected.first?.message.contains("arrived too late to count") == true)
        let (_, soon, soonVote) = try await opened(closes: 3)
        refused(.invalidTransition, containing: "it can be closed from that day") { try soon.replica.perform(CloseVote(voteId: soonVote)) }
    }

    @Test func theRuleAndTheMoneyAreFixedOnceAVoteOpens() async throws {
        let (store, officer, vote) = try await opened()
        await #expect(throws: (any Error).self) {
            try await store.database.write { try $0.execute(sql: "UPDATE vote SET rule = 'greedy' WHERE id = ?", arguments: [vote.key]) }
        }
        // No more than the round's budget has available.
        refused(.insufficientFunds, containing: "is available") {
            try officer.replica.perform(
                OpenVote(
                    voteId: UUID(), roundId: Self.round, title: "Too much", rule: .mes, amount: Money(pence: 100_000_000), opensOn: today(),
                    closesOn: today(), proposalIds: [UUID.stable("demo:proposal:youth-evenings")]))
        }
        // Votes are opened by officers only.
        let councillor = try await SyncedDevice("cllr-south", store: store)
        try await councillor.sync()
        refused(.forbidden, containing: "opened by officers") {
            try councillor.replica.perform(
                OpenVote(
                    voteId: UUID(), roundId: Self.round, title: "Mine", rule: .mes, amount: Money(pence: 100), opensOn: today(), closesOn: today(),
                    proposalIds: [UUID.stable("demo:proposal:youth-evenings")]))
        }    }

    @Test func anExportNumbersVotersAfreshAndNamesNoOne() async throws {
        let (store, officer, vote) = try await opened()
        for index in 0..<12 {
            try officer.replica.perform(
                CastBallot(
                    ballotId: officer.replica.newID(), voteId: vote, proposalIds: [Self.proposals[index % 4], Self.proposals[(index + 1) % 4]],
                    paperSerial: "S\(index)", voterCode: "SECRET\(index)"))
        }
        let resident = try await SyncedDevice("resident-south", store: store)
        try await resident.sync()
        try resident.replica.perform(CastBallot(ballotId: resident.replica.newID(), voteId: vote, proposalIds: [Self.proposals[3]]))
        try await officer.sync()
        try await resident.sync()
        let text = try await store.database.read { try Pabulib.export(vote: vote, $0) }
        for secret in ["SECRET", "resident", "S11", DemoCouncil.personID("resident-south").key, DemoCouncil.personID("officer").key] {
            #expect(!text.contains(secret), "the export holds '\(secret)'")
        }
        let instance = try Pabulib.parse(text)
        #expect(instance.voters.count == 13 && Set(instance.voters.map(\.id)) == Set((1...13).map(String.init)))
        #expect(instance.projects.map(\.id) == Self.proposals.map(\.key))
        #expect(try instance.budget == Rational(10_000))
        // Counting the file gives the vote's own result.
        let fromFile = try AllocationRules.allocate(try instance.election(), rule: .mes).funded
        try officer.replica.perform(CloseVote(voteId: vote))
        try await officer.sync()
        #expect(try officer.replica.vote(vote.key).result?.funded.map(\.key) == fromFile)
    }

    @Test func aPabulibFileOfBallotsIsImportedWhollyOrNotAtAll() async throws {
        let (store, _, vote) = try await opened()
        let officer = DemoCouncil.personID("officer")
        let ids = Self.proposals.map(\.key)
        func file(_ votes: [String]) throws -> PBInstance {
            try Pabulib.parse(
                "META\nkey;value\nbudget;10000\nvote_type;approval\nPROJECTS\nproject_id;cost;name\n"
                    + ids.enumerated().map { "\($0.element);1;P\($0.offset)\n" }.joined()
                    + "VOTES\nvoter_id;vote\n" + votes.enumerated().map { "v\($0.offset);\"\($0.element)\"\n" }.joined())
        }
        let good = try file([ids[0], "\(ids[1]),\(ids[2])", ids[3]])
        let imported = try await store.database.write { try Pabulib.importBallots(good, into: vote, source: "hall.pb", importedBy: officer, at: Date(), $0) }
        #expect(imported == 3)
        // The same file again: refused, and nothing more counted.
        await #expect(throws: LocalityError.self) {
            try await store.database.write { try Pabulib.importBallots(good, into: vote, source: "hall.pb", importedBy: officer, at: Date(), $0) }
        }
        // A file whose fourth voter breaks the limit of three: none of it is imported.
        let over = try file([ids[0], ids[1], ids[2], ids.joined(separator: ",")])
        do {
            _ = try await store.database.write { try Pabulib.importBallots(over, into: vote, source: "fete.pb", importedBy: officer, at: Date(), $0) }
            Issue.record("imported a ballot with four choices")
        } catch let error as LocalityError {
            #expect(error.message.contains("voter 'v3'") && error.message.contains("at most 3"))
        }
        #expect(try await store.database.read { try Ballot.fetchCount($0) } == 3)
    }
}
