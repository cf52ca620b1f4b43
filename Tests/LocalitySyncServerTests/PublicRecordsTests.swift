import Foundation
import GRDB
import Hummingbird
import LocalityCore
import LocalitySyncServer
import Testing

/// OCDS, published votes, and the council-wide public pages.
@Suite("Open data: OCDS, votes and the public record")
struct PublicRecordsTests {
    static let commission = UUID.stable("demo:commission:gp-transport")

    static func releases(_ package: JSONValue) -> [[String: JSONValue]] {
        guard case .object(let members) = package, case .array(let items)? = members["releases"] else { return [] }
        return items.compactMap { if case .object(let fields) = $0 { fields } else { nil } }
    }

    @Test func theDemoCommissionIsOneProcessFromPlanningToPaymentsWithNothingPrivate() async throws {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let officer = try await SyncedDevice("officer", store: store)
        let transport = try await SyncedDevice("transport", store: store)
        for device in [officer, transport] { try await device.sync() }
        // Private things linked to the commission, each marked so that it must never be published.
        try officer.replica.perform(
            RecordRisk(riskId: officer.replica.newID(), commissionId: Self.commission, description: "SECRET-RISK the operator's finances",
                       likelihood: 2, impact: 5, owner: "SECRET-OWNER"))
        let draft = transport.replica.newID()
        var command = DraftProposal(
            proposalId: draft, budgetId: UUID.stable("demo:budget:north-2026-27"),
            organisationId: UUID.stable("demo:organisation:marches-community-transport"), localityId: UUID.stable("demo:locality:brockton"),
            title: "SECRET-DRAFT a second minibus", amountRequested: Money(pence: 100_000))
        command.summary = "SECRET-DRAFT-SUMMARY"
        try transport.replica.perform(command)
        try await transport.sync()
        try await officer.sync()
        try await officer.sync()
        #expect(try officer.replica.rejectedMutations().isEmpty)

        let package = try store.openContracting(prefix: nil, now: Date())
        #expect(!package.jsonText.contains("SECRET"), "something private was published")
        let releases = Self.releases(package)
        #expect(Set(releases.map { $0["ocid"] }) == [.string("ocds-marchr-\(Self.commission.key)")])
        // A release per change of stage, then one per payment, in time order.
        #expect(releases.map { $0["tag"] } == [
            ["planning"], ["planningUpdate"], ["planningUpdate"], ["planningUpdate"], ["tender"], ["tenderUpdate"], ["award", "contract"],
            ["implementation"], ["implementationUpdate"],
        ])
        let dates = releases.compactMap { if case .string(let date)? = $0["date"] { date } else { nil } }
        #expect(dates == dates.sorted() && dates.first == "2026-05-06T10:00:00.000Z")
        #expect(Set(releases.compactMap { $0["id"] }).count == releases.count)
        // The planning release knows neither bids nor the award; the last knows both payments.
        #expect(releases[0]["tender"] == nil && releases[0]["awards"] == nil)
        guard let last = releases.last, case .array(let contracts)? = last["contracts"], case .object(let contract)? = contracts.first,
            case .object(let implementation)? = contract["implementation"], case .array(let transactions)? = implementation["transactions"]
        else { Issue.record("the last release has no contract with payments"); return }
        #expect(transactions.count == 2 && contract["value"] == ["amount": .int(18000), "currency": "GBP"] && contract["status"] == "active")
        guard case .object(let tender)? = last["tender"] else { Issue.record("no tender"); return }
        #expect(tender["numberOfTenderers"] == .int(2))
        guard case .object(let planning)? = last["planning"], case .array(let options)? = planning["optionsAppraisal"] else {
            Issue.record("no options appraisal"); return
        }
        #expect(options.count == 3)
        // Parties by org-id where there is one, with their roles.
        guard case .array(let parties)? = last["parties"] else { Issue.record("no parties"); return }
        #expect(parties.contains { $0.jsonText.contains("\"GB-COH-09900001\"") && $0.jsonText.contains("\"supplier\"") })
        #expect(parties.contains { $0.jsonText.contains("\"GB-LAE-MAR\"") && $0.jsonText.contains("\"buyer\"") })
        // A prefix that is not an OCID prefix is refused.
        #expect(throws: LocalityError.self) { try store.openContracting(prefix: "360G-marcher", now: Date()) }
        let given = Self.releases(try store.openContracting(prefix: "ocds-abc123", now: Date()))
        #expect(given.first?["ocid"] == .string("ocds-abc123-\(Self.commission.key)"))
    }

    @Test func aClosedVoteIsPublishedWithItsResultAndAnonymousBallots() async throws {
        let server = try TestServer()
        let officer = try await SyncedDevice("officer", store: server.store)
        try await officer.sync()
        let proposals = DemoCouncil.youDecideProposals.map { UUID.stable("demo:proposal:" + $0.slug) }
        let today = Timestamps.day(Date())
        let vote = officer.replica.newID()
        try officer.replica.perform(
            OpenVote(
                voteId: vote, roundId: UUID.stable("demo:round:ledwyche-you-decide"), title: "Ledwyche <b>You</b> Decide",
                ballotType: .approval, maxChoices: 3, rule: .mes, amount: Money(pence: 1_000_000), opensOn: today, closesOn: today,
                proposalIds: proposals))
        try await officer.sync()
        let councillor = try await SyncedDevice("cllr-south", store: server.store)
        try await councillor.sync()
        for (index, choices) in [[0], [0, 1], [1, 2], [2], [0, 3]].enumerated() {
            try councillor.replica.perform(
                CastBallot(
                    ballotId: councillor.replica.newID(), voteId: vote, proposalIds: choices.map { proposals[$0] },
                    paperSerial: "SERIAL\(index)", voterCode: "CODE\(index)"))
        }
        try await councillor.sync()
        try await server.run { client in
            // Open: no running totals, no file.
            let open = String(buffer: try await client.send(.get, "/votes/\(vote.key)", version: nil).body)
            #expect(open.contains("no running totals") && !open.contains("<b>You</b>") && open.contains("&lt;b&gt;You&lt;/b&gt;"))
            #expect(try await client.send(.get, "/open-data/votes/\(vote.key).pb", version: nil).status == .notFound)
        }
        try officer.replica.perform(CloseVote(voteId: vote))
        try await officer.sync()
        #expect(try officer.replica.rejectedMutations().isEmpty)
        try await server.run { client in
            let page = try await client.send(.get, "/votes/\(vote.key)", version: nil)
            let html = String(buffer: page.body)
            #expect(page.status == .ok && html.contains("5 ballots were counted") && html.contains("£6,000.00") && html.contains("Funded") && html.contains("Not funded"))
            #expect(html.contains("Skate ramps on Ledwyche East rec") && html.contains("/open-data/votes/\(vote.key).pb"))
            let json = String(buffer: try await client.send(.get, "/votes/\(vote.key)?format=json", version: nil).body)
            #expect(json.contains("\"explanation\"") && json.contains("\"ballotsCounted\":5"))
            // The same bytes on every fetch, and nothing that links a ballot to anyone.
            let first = try await client.send(.get, "/open-data/votes/\(vote.key).pb", version: nil)
            let second = try await client.send(.get, "/open-data/votes/\(vote.key).pb", version: nil)
            let file = String(buffer: first.body)
            #expect(first.status == .ok && file == String(buffer: second.body) && file.contains("num_votes;5"))
            for secret in ["SERIAL", "CODE", "cllr-south", DemoCouncil.personID("cllr-south").key] { #expect(!file.contains(secret), "\(secret)") }
            let listed = String(buffer: try await client.send(.get, "/open-data", version: nil).body)
            #expect(listed.contains("/open-data/votes/\(vote.key).pb") && listed.contains("/open-data/ocds.json") && listed.contains("creativecommons.org"))
            let place = String(buffer: try await client.send(.get, "/places/ledwyche-town", version: nil).body)
            #expect(place.contains("Residents' votes") && place.contains("/votes/\(vote.key)"))
            #expect(try await client.send(.get, "/votes/\(UUID().key)", version: nil).status == .notFound)
            #expect(try await client.send(.get, "/votes/not-a-vote", version: nil).status == .notFound)
        }
    }

    @Test func theCouncilWideListsAreEscapedPagedAndServedWithTheirJSON() async throws {
        let server = try TestServer()
        let officer = try await SyncedDevice("officer", store: server.store)
        let clerk = try await SyncedDevice("clerk-north", store: server.store)
        for device in [officer, clerk] { try await device.sync() }
        let hostile = "<script>alert(1)</script> \"Bob's\" fund"
        let proposal = clerk.replica.newID()
        var draft = DraftProposal(
            proposalId: proposal, budgetId: UUID.stable("demo:budget:north-2026-27"),
            organisationId: UUID.stable("demo:organisation:whitmere-town-council"), localityId: UUID.stable("demo:locality:whitmere-town"),
            title: hostile, amountRequested: Money(pence: 20_000))
        draft.summary = hostile
        try clerk.replica.perform(draft)
        try clerk.replica.perform(SubmitProposal(proposalId: proposal))
        try await clerk.sync()
        try await officer.sync()
        try officer.replica.perform(
            RecordDecision(decisionId: officer.replica.newID(), proposalId: proposal, outcome: .approved, reasons: hostile, ledgerEntryId: officer.replica.newID()))
        try officer.replica.perform(CreateAward(awardId: officer.replica.newID(), proposalId: proposal, startsOn: "2026-12-01", endsOn: "2027-03-31"))
        try await officer.sync()
        #expect(try officer.replica.rejectedMutations().isEmpty)
        try await server.run { client in
            for path in ["/decisions", "/awards", "/places/whitmere-town", "/open-data", "/"] {
                let response = try await client.send(.get, path, version: nil)
                let html = String(buffer: response.body)
                #expect(response.status == .ok && html.contains("lang=\"en-GB\""), "\(path)")
                #expect(!html.contains("<script"), "\(path) lets markup through")
                #expect(html.utf8.count < 50_000, "\(path)")
                let json = try await client.send(.get, path + "?format=json", version: nil)
                #expect(json.status == .ok && json.headers[.contentType] == "application/json; charset=utf-8", "\(path)")
            }
            let decisions = String(buffer: try await client.send(.get, "/decisions", version: nil).body)
            #expect(decisions.contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;Bob&#39;s&quot;") && decisions.contains("Authority: officer"))
            let awards = String(buffer: try await client.send(.get, "/awards", version: nil).body)
            #expect(awards.contains("Journeys a month: 96 against a target of 150") && awards.contains("&lt;script&gt;"))
            #expect(try await client.send(.get, "/decisions?page=0", version: nil).status == .badRequest)
            #expect(try await client.send(.get, "/decisions?page=x", version: nil).status == .badRequest)
            let beyond = String(buffer: try await client.send(.get, "/decisions?page=99", version: nil).body)
            #expect(beyond.contains("No decisions yet") && beyond.contains("rel=\"prev\""))
            let contracts = try await client.send(.get, "/open-data/ocds.json", version: nil)
            #expect(contracts.status == .ok && String(buffer: contracts.body).contains("\"ocds-marchr-"))
            let tag = try #require(contracts.headers[.eTag])
            #expect(try await client.send(.get, "/open-data/ocds.json", version: nil, headers: [.ifNoneMatch: tag]).status == .notModified)
        }
    }
}
