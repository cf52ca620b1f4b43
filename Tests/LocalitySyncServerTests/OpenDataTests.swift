import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

/// What the council publishes as 360Giving: every award, money in pounds exactly, and nothing
/// personal, ever.
@Suite("Open data: 360Giving")
struct OpenDataTests {
    @Test func awardsArePublishedAndNothingPersonalIs() async throws {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let officer = try await SyncedDevice("officer", store: store)
        let clerk = try await SyncedDevice("clerk-north", store: store)
        for device in [officer, clerk] { try await device.sync() }
        // Private things, each with a marker that must never appear in what is published.
        var personal = RecordNeed(needId: officer.replica.newID(), localityId: UUID.stable("demo:locality:brockton"), title: "SECRET-NEED Mrs Jones, 4 Mill Lane")
        personal.holdsPersonalData = true
        personal.description = "SECRET-DESCRIPTION carer breakdown"
        try officer.replica.perform(personal)
        func draft(_ title: String, pence: Int64, summary: String) throws -> UUID {
            let id = clerk.replica.newID()
            var command = DraftProposal(
                proposalId: id, budgetId: UUID.stable("demo:budget:north-2026-27"),
                organisationId: UUID.stable("demo:organisation:whitmere-town-council"), localityId: UUID.stable("demo:locality:whitmere-town"),
                title: title, amountRequested: Money(pence: pence))
            command.summary = summary
            try clerk.replica.perform(command)
            return id
        }
        _ = try draft("SECRET-DRAFT never submitted", pence: 10_000, summary: "SECRET-DRAFT-SUMMARY")
        let withdrawn = try draft("SECRET-WITHDRAWN changed our minds", pence: 10_000, summary: "x")
        try clerk.replica.perform(SubmitProposal(proposalId: withdrawn))
        try clerk.replica.perform(WithdrawProposal(proposalId: withdrawn, reason: "SECRET-WITHDRAWAL-REASON"))
        let funded = try draft("Market-day minibus", pence: 123_45, summary: "A minibus to market, run by volunteers")
        try clerk.replica.perform(SubmitProposal(proposalId: funded))
        try await clerk.sync()
        try await officer.sync()
        try officer.replica.perform(DeclareInterest(declarationId: officer.replica.newID(), proposalId: withdrawn, interest: "SECRET-INTEREST my cousin"))
        try officer.replica.perform(
            RecordDecision(decisionId: officer.replica.newID(), proposalId: funded, outcome: .approved, ledgerEntryId: officer.replica.newID()))
        let award = officer.replica.newID()
        try officer.replica.perform(CreateAward(awardId: award, proposalId: funded, startsOn: "2026-12-01", endsOn: "2027-03-31"))
        try officer.replica.perform(RecordPayment(ledgerEntryId: officer.replica.newID(), awardId: award, amount: Money(pence: 50_05), note: "SECRET-BANK sort code 12-34-56"))
        try await officer.sync()
        #expect(try officer.replica.rejectedMutations().isEmpty)

        let package = try store.threeSixtyGiving(prefix: "360G-marcher", year: nil, now: Date())
        let text = package.jsonText
        #expect(!text.contains("SECRET"), "something private was published")
        // Nor on any public page or in any other published file, HTML or JSON.
        var resources: [PublicResource] = [.index, .decisions(page: 1), .awards(page: 1), .openData, .grants, .contracts]
        resources += DemoCouncil.localities.map { .place($0.slug) }
        for resource in resources {
            switch try await store.publicContent(resource) {
            case .page(let html, let json)?:
                #expect(!html.contains("SECRET") && !json.jsonText.contains("SECRET"), "\(resource) publishes something private")
            case .file(let bytes, _, _)?: #expect(!String(decoding: bytes, as: UTF8.self).contains("SECRET"), "\(resource)")
            case nil: Issue.record("\(resource) is not served")
            }
        }
        guard case .object(let members) = package, case .array(let grants)? = members["grants"] else { Issue.record("no grants"); return }
        #expect(grants.count == 3)  // the demo's lunch club and GP link, and this award
        guard let grant = grants.first(where: { $0.jsonText.contains("Market-day minibus") }), case .object(let fields) = grant else {
            Issue.record("the award is not published"); return
        }
        // Pounds, exactly.
        #expect(fields["amountAwarded"] == .double(123.45) && fields["amountDisbursed"] == .double(50.05))
        #expect(fields["id"] == .string("360G-marcher-\(award.key)") && fields["currency"] == "GBP")
        #expect(fields["recipientOrganization"] == [["id": "360G-marcher-org-whitmere-town-council", "name": "Whitmere Town Council"]])
        // Only awards from the year asked for.
        let later = try store.threeSixtyGiving(prefix: nil, year: FinancialYear(startYear: 2027), now: Date())
        guard case .object(let laterMembers) = later else { return }
        #expect(laterMembers["grants"] == [])
        // A prefix that is not one is refused.
        #expect(throws: LocalityError.self) { try store.threeSixtyGiving(prefix: "GB-MAR", year: nil, now: Date()) }
    }
}

@Suite("Public pages")
struct PublicPageTests {
    @Test func aPlacePageShowsWhatWasDecidedEscapedAndNothingPersonal() async throws {
        let server = try TestServer()
        let officer = try await SyncedDevice("officer", store: server.store)
        try await officer.sync()
        _ = try officer.recordNeed(in: "clunbury", title: "<script>alert('x')</script> & \"quotes\"")
        var personal = RecordNeed(needId: officer.replica.newID(), localityId: UUID.stable("demo:locality:clunbury"), title: "SECRET-NEED Mr Evans")
        personal.holdsPersonalData = true
        try officer.replica.perform(personal)
        try await officer.sync()
        try await server.run { client in
            let index = try await client.send(.get, "/", version: nil)
            #expect(index.status == .ok && String(buffer: index.body).contains("href=\"/places/south-area\""))
            let page = try await client.send(.get, "/places/south-area", version: nil)
            let html = String(buffer: page.body)
            #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(html.contains("lang=\"en-GB\"") && html.contains("Winter lunch club at the chapel") && html.contains("Highways will replace"))
            #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"))
            #expect(!html.contains("<script") && !html.contains("SECRET"))
            #expect(html.utf8.count < 50_000)
            let json = try await client.send(.get, "/places/south-area?format=json", version: nil)
            #expect(json.headers[.contentType] == "application/json; charset=utf-8" && !String(buffer: json.body).contains("SECRET"))
            // A refresh costs a 304.
            let tag = try #require(page.headers[.eTag])
            let again = try await client.send(.get, "/places/south-area", version: nil, headers: [.ifNoneMatch: tag])
            #expect(again.status == .notModified)
            let missing = try await client.send(.get, "/places/nowhere-at-all", version: nil)
            #expect(missing.status == .notFound)
            // The grants at their stable URL.
            let grants = try await client.send(.get, "/open-data/360giving.json", version: nil)
            #expect(grants.status == .ok && String(buffer: grants.body).contains("\"360G-marcher-"))
        }
    }
}
