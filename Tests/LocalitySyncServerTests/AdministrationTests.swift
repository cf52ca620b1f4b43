import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

/// The council maintained from devices: funds, virements and year ends racing offline approvals,
/// the scheme of delegation's versions, the outcomes framework, organisations.
@Suite("Administration through the protocol")
struct AdministrationTests {
    private static let north = UUID.stable("demo:budget:north-2026-27")
    private static let south = UUID.stable("demo:budget:south-2026-27")

    private func store() throws -> SQLiteSyncStore {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        return store
    }

    private func submitted(_ clerk: SyncedDevice, pence: Int64, title: String) async throws -> UUID {
        try await clerk.sync()
        let id = clerk.replica.newID()
        var draft = DraftProposal(
            proposalId: id, budgetId: Self.north, organisationId: UUID.stable("demo:organisation:whitmere-town-council"),
            localityId: UUID.stable("demo:locality:whitmere-town"), title: title, amountRequested: Money(pence: pence))
        draft.summary = "Volunteers run it"
        try clerk.replica.perform(draft)
        try clerk.replica.perform(SubmitProposal(proposalId: id))
        try await clerk.sync()
        return id
    }

    private func approve(_ device: SyncedDevice, _ proposalId: UUID) throws -> UUID {
        let id = device.replica.newID()
        try device.replica.perform(
            RecordDecision(decisionId: id, proposalId: proposalId, outcome: .approved, ledgerEntryId: device.replica.newID()))
        return id
    }

    private func position(_ store: SQLiteSyncStore, _ budget: UUID) async throws -> BudgetPosition {
        try await store.database.read { try BudgetPosition.of(budget: budget, in: $0) }
    }

    private func virement(_ pence: Int64, _ device: SyncedDevice) -> TransferBudget {
        TransferBudget(
            fromBudgetId: Self.north, toBudgetId: Self.south, amount: Money(pence: pence), reason: "Rebalancing",
            outEntryId: device.replica.newID(), inEntryId: device.replica.newID())
    }

    @Test func aVirementThatReachesTheServerFirstLeavesTheOfflineApprovalRefusedWithTheShortfall() async throws {
        let store = try store()
        let clerk = try await SyncedDevice("clerk-north", store: store)
        let minibus = try await submitted(clerk, pence: 1_000_000, title: "Community minibus")
        let officer = try await SyncedDevice("officer", store: store)
        let finance = try await SyncedDevice("finance", store: store)
        let cabinet = try await SyncedDevice("cabinet", store: store)
        for device in [officer, finance, cabinet] { try await device.sync() }
        // North holds £75,000. Offline, the officer approves £10,000; the cabinet member moves £60,000
        // and the finance officer £8,000 to South. Each is within what its device sees.
        let approval = try approve(officer, minibus)
        try cabinet.replica.perform(virement(6_000_000, cabinet))
        try finance.replica.perform(virement(800_000, finance))
        try await cabinet.sync()
        try await finance.sync()
        let summary = try await officer.sync()
        #expect(summary.rejected.count == 1)
        let rejection = try #require(try officer.replica.rejectedMutations().first)
        #expect(rejection.code == LocalityError.Code.insufficientFunds.rawValue)
        #expect(rejection.message.contains("£3,000.00 short"), "\(rejection.message)")
        let north = try await position(store, Self.north)
        #expect(north.allocated == Money(pence: 700_000) && north.committed == .zero)
        #expect(try await position(store, Self.south).allocated == Money(pence: 6_000_000 + 6_800_000))
        #expect(try await store.database.read { try Decision.exists($0, id: approval) } == false)
        // The proposal still awaits a decision, on the server and, after the pull, on the device.
        #expect(try officer.replica.proposals().first { $0.proposal.id == minibus }?.proposal.status == .submitted)
    }

    @Test func anApprovalThatReachesTheServerFirstLeavesTheVirementRefused() async throws {
        let store = try store()
        let clerk = try await SyncedDevice("clerk-north", store: store)
        let minibus = try await submitted(clerk, pence: 2_000_000, title: "Community minibus")
        let officer = try await SyncedDevice("officer", store: store)
        let cabinet = try await SyncedDevice("cabinet", store: store)
        for device in [officer, cabinet] { try await device.sync() }
        _ = try approve(officer, minibus)
        try cabinet.replica.perform(virement(6_000_000, cabinet))
        try await officer.sync()
        #expect(try await cabinet.sync().rejected.count == 1)
        let rejection = try #require(try cabinet.replica.rejectedMutations().first)
        #expect(rejection.code == LocalityError.Code.insufficientFunds.rawValue && rejection.message.contains("£5,000.00 short"))
        let north = try await position(store, Self.north)
        #expect(north.committed == Money(pence: 2_000_000) && north.allocated == Money(pence: 7_500_000))
    }

    @Test func aClosedYearCarriesItsUncommittedMoneyForwardAndCommitsNothingMore() async throws {
        let store = try store()
        let clerk = try await SyncedDevice("clerk-north", store: store)
        let minibus = try await submitted(clerk, pence: 1_000_000, title: "Community minibus")
        let hall = try await submitted(clerk, pence: 500_000, title: "Hall roof")
        let officer = try await SyncedDevice("officer", store: store)
        let finance = try await SyncedDevice("finance", store: store)
        for device in [officer, finance] { try await device.sync() }
        _ = try approve(officer, minibus)
        try await officer.sync()
        // The hall roof is approved offline; meanwhile the year is closed.
        _ = try approve(officer, hall)
        let next = finance.replica.newID()
        try finance.replica.perform(
            CreateBudget(budgetId: next, name: "North 2027/28", localityId: UUID.stable("demo:locality:north-area"), financialYear: FinancialYear(startYear: 2027)))
        refused(.invalidTransition, containing: "runs until 2027-03-31") {
            try finance.replica.perform(CloseBudgetYear(budgetId: Self.north, carryForwardTo: next, outEntryId: UUID(), inEntryId: UUID()))
        }
        refused(.invalidInput, containing: "for 2027/28") {
            try finance.replica.perform(CloseBudgetYear(budgetId: Self.north, carryForwardTo: Self.south, early: true, outEntryId: UUID(), inEntryId: UUID()))
        }
        try finance.replica.perform(CloseBudgetYear(budgetId: Self.north, carryForwardTo: next, early: true, outEntryId: UUID(), inEntryId: UUID()))
        try await finance.sync()
        try await officer.sync()
        let rejection = try #require(try officer.replica.rejectedMutations().first)
        #expect(rejection.code == LocalityError.Code.invalidTransition.rawValue && rejection.message.contains("was closed on"))
        let closed = try await position(store, Self.north)
        #expect(closed.committed == Money(pence: 1_000_000) && closed.allocated == Money(pence: 1_000_000) && closed.available == .zero)
        #expect(try await position(store, next).allocated == Money(pence: 6_500_000))
        // Closed stays closed; the device agrees with the server.
        refused(.invalidTransition) {
            try finance.replica.perform(CloseBudgetYear(budgetId: Self.north, carryForwardTo: next, early: true, outEntryId: UUID(), inEntryId: UUID()))
        }
        #expect(try officer.replica.budget("north-2026-27").closedAt != nil)
        // Every step of the fund's life is in the audit trail.
        let actions = try await store.database.read { try String.fetchAll($0, sql: "SELECT action FROM audit_entry") }
        #expect(actions.contains("budget.created") && actions.contains("budget.closed") && actions.contains("ledger.transfer-out"))
    }

    @Test func aNewSchemeGovernsNewDecisionsAndLeavesPastOnesTheirAuthority() async throws {
        let store = try store()
        let clerk = try await SyncedDevice("clerk-north", store: store)
        let shelter = try await submitted(clerk, pence: 300_000, title: "Bus shelter")
        let benches = try await submitted(clerk, pence: 300_000, title: "Benches")
        let councillor = try await SyncedDevice("cllr-north", store: store)
        let admin = try await SyncedDevice("admin", store: store)
        let otherAdmin = try await SyncedDevice("admin", store: store)
        for device in [councillor, admin, otherAdmin] { try await device.sync() }
        let first = try approve(councillor, shelter)
        try await councillor.sync()
        // The council lowers ward councillors' limit to £1,000.
        let lines: [AdoptScheme.Line] = [
            .init(id: UUID(), role: .councillor, scope: .ownWards, maxAmount: Money(pence: 100_000), description: "Ward councillors"),
            .init(id: UUID(), role: .officer, scope: .authority, maxAmount: Money(pence: 2_500_000), description: "The Locality Commissioner"),
            .init(id: UUID(), role: .executive, scope: .authority, maxAmount: nil, description: "The Cabinet Member"),
        ]
        refused(.invalidInput, containing: "say what adopted") { try admin.replica.perform(AdoptScheme(basedOnVersion: 1, lines: lines, note: "")) }
        try admin.replica.perform(AdoptScheme(basedOnVersion: 1, lines: lines, note: "Council, 14 May 2027, minute 23"))
        // A second administrator, offline, drafted against version 1 too: refused, never merged.
        try otherAdmin.replica.perform(AdoptScheme(basedOnVersion: 1, lines: Array(lines.suffix(1)).map {
            var line = $0
            line.id = UUID()
            return line
        }, note: "Draft"))
        try await admin.sync()
        #expect(try await otherAdmin.sync().rejected.count == 1)
        #expect(try otherAdmin.replica.rejectedMutations().first?.message.contains("version 2 is in force (adopted by admin") == true)
        try await councillor.sync()
        refused(.forbidden, containing: "£1,000.00 as councillor") { _ = try approve(councillor, benches) }
        let decisions = try await store.database.read { try Decision.fetchAll($0) }
        let past = try #require(decisions.first { $0.id == first })
        #expect(past.schemeVersion == 1 && past.authority.contains("up to £5,000.00"))
        #expect(try await store.database.read { try Delegation.scheme($0).count } == 3)
        #expect(try await store.database.read { try Delegation.history($0).count } == 3 + DemoCouncil.delegation.count + DemoCouncil.virements.count)
        // The new scheme delegates no virements: nobody may move money until one does.
        let cabinet = try await SyncedDevice("cabinet", store: store)
        try await cabinet.sync()
        refused(.forbidden, containing: "delegates no virements") { try cabinet.replica.perform(virement(100, cabinet)) }
    }

    @Test func outcomesIndicatorsAndMeasurementsReachEveryDevice() async throws {
        let store = try store()
        let admin = try await SyncedDevice("admin", store: store)
        let officer = try await SyncedDevice("officer", store: store)
        let resident = try await SyncedDevice("resident-south", store: store)
        for device in [admin, officer, resident] { try await device.sync() }
        let outcome = admin.replica.newID()
        try admin.replica.perform(AddOutcome(outcomeId: outcome, title: "Streets are clean and safe", level: .strategic))
        refused(.invalidInput, containing: "cannot sit beneath") {
            try admin.replica.perform(AddOutcome(outcomeId: UUID(), title: "Everything", level: .strategic, parentId: outcome))
        }
        refused(.invalidInput, containing: "no improvement") {
            try admin.replica.perform(
                AddIndicator(indicatorId: UUID(), outcomeId: outcome, name: "Litter", unit: "%", direction: .lowerIsBetter, baseline: 10, target: 20))
        }
        let indicator = admin.replica.newID()
        try admin.replica.perform(
            AddIndicator(indicatorId: indicator, outcomeId: outcome, name: "Streets graded B or better", unit: "%", direction: .higherIsBetter,
                         baseline: 72, target: 90, source: "Keep Britain Tidy"))
        try await admin.sync()
        try await officer.sync()
        refused(.invalidInput, containing: "in the future") {
            try officer.replica.perform(RecordMeasurement(measurementId: UUID(), indicatorId: indicator, value: 80, measuredOn: "2099-01-01"))
        }
        try officer.replica.perform(
            RecordMeasurement(measurementId: UUID(), indicatorId: indicator, value: 75, measuredOn: "2026-10-31", localityId: UUID.stable("demo:locality:ledwyche-town")))
        try await officer.sync()
        try await resident.sync()
        let seen = try #require(try resident.replica.outcomes().first { $0.id == outcome })
        #expect(seen.indicators.map(\.source) == ["Keep Britain Tidy"] && seen.measurements.map(\.value) == [75])
    }

    @Test func officersAddOrganisationsAndMembersKeepTheirOwnDetailsCurrent() async throws {
        let store = try store()
        let officer = try await SyncedDevice("officer", store: store)
        let clerk = try await SyncedDevice("clerk-north", store: store)
        let otherClerk = try await SyncedDevice("clerk-south", store: store)
        for device in [officer, clerk, otherClerk] { try await device.sync() }
        refused(.invalidInput, containing: "8 characters") {
            try officer.replica.perform(AddOrganisation(organisationId: UUID(), name: "Food Bank", kind: .company, orgIdentifier: "GB-COH-123"))
        }
        refused(.invalidInput, containing: "already Brockton Village Hall Trust's") {
            try officer.replica.perform(AddOrganisation(organisationId: UUID(), name: "Food Bank", kind: .charity, orgIdentifier: "gb-chc-1099901"))
        }
        let bank = officer.replica.newID()
        try officer.replica.perform(
            AddOrganisation(organisationId: bank, name: "Marches Food Bank", kind: .charity, orgIdentifier: "gb-chc-1164323",
                            localityIds: [UUID.stable("demo:locality:north-area")]))
        try await officer.sync()
        var update = UpdateOrganisation(organisationId: UUID.stable("demo:organisation:whitmere-town-council"))
        update.contact = "clerk@whitmere-tc.example"
        update.localityIds = [UUID.stable("demo:locality:whitmere-town"), UUID.stable("demo:locality:ashby-parva")]
        refused(.forbidden) { try otherClerk.replica.perform(update) }
        try clerk.replica.perform(update)
        try await clerk.sync()
        try await otherClerk.sync()
        let whitmere = try #require(try otherClerk.replica.organisations().first { $0.slug == "whitmere-town-council" })
        #expect(whitmere.contact == "clerk@whitmere-tc.example" && whitmere.localities == ["Ashby Parva", "Whitmere"])
        #expect(try otherClerk.replica.organisations().first { $0.id == bank }?.orgIdentifier == "GB-CHC-1164323")
    }
}
