import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

/// Decisions under the scheme of delegation, the ledger they commit to, and the audit trail.
@Suite("Decisions: the scheme of delegation, the ledger, the audit trail")
struct DecisionTests {
    private func store() throws -> SQLiteSyncStore {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        return store
    }

    private static let northBudget = UUID.stable("demo:budget:north-2026-27")

    /// The clerk of Whitmere Town Council drafts and submits a proposal to the North fund.
    private func submitted(_ clerk: SyncedDevice, pence: Int64, title: String = "Community minibus") async throws -> UUID {
        try await clerk.sync()
        let id = clerk.replica.newID()
        var draft = DraftProposal(
            proposalId: id, budgetId: Self.northBudget, organisationId: UUID.stable("demo:organisation:whitmere-town-council"),
            localityId: UUID.stable("demo:locality:whitmere-town"), title: title, amountRequested: Money(pence: pence))
        draft.summary = "Volunteers run it"
        try clerk.replica.perform(draft)
        try clerk.replica.perform(SubmitProposal(proposalId: id))
        try await clerk.sync()
        return id
    }

    private func decide(
        _ device: SyncedDevice, _ proposalId: UUID, _ outcome: Decision.Outcome, pence: Int64? = nil, reasons: String = ""
    ) throws {
        try device.replica.perform(
            RecordDecision(
                decisionId: device.replica.newID(), proposalId: proposalId, outcome: outcome, amount: pence.map(Money.init(pence:)),
                reasons: reasons, ledgerEntryId: device.replica.newID()))
    }

    private func position(_ store: SQLiteSyncStore) async throws -> BudgetPosition {
        try await store.database.read { try BudgetPosition.of(budget: Self.northBudget, in: $0) }
    }

    @Test func eachDeciderWithinTheSchemeOfDelegation() async throws {
        let store = try store()
        let clerk = try await SyncedDevice("clerk-north", store: store)
        let small = try await submitted(clerk, pence: 400_000, title: "Bus shelter")
        let middle = try await submitted(clerk, pence: 2_000_000, title: "Youth worker")
        let large = try await submitted(clerk, pence: 3_000_000, title: "Community hub")
        var devices: [String: SyncedDevice] = [:]
        for name in ["cllr-north", "cllr-south", "officer", "cabinet", "clerk-south"] {
            devices[name] = try await SyncedDevice(name, store: store)
            try await devices[name]!.sync()
        }
        // Not their wards; not a decision-maker at all.
        refused(.forbidden, containing: "scheme of delegation") { try decide(devices["cllr-south"]!, small, .approved) }
        refused(.forbidden) { try decide(devices["clerk-south"]!, small, .approved) }
        // A ward councillor up to £5,000 for their own wards; the officer up to £25,000; the executive above.
        refused(.forbidden, containing: "above what cllr-north may decide") { try decide(devices["cllr-north"]!, middle, .approved) }
        refused(.forbidden, containing: "executive") { try decide(devices["officer"]!, large, .approved) }
        try decide(devices["cllr-north"]!, small, .approved)
        try decide(devices["officer"]!, middle, .approved, pence: 1_500_000, reasons: "The second year is for the youth mutual")
        try decide(devices["cabinet"]!, large, .approved)
        for name in ["cllr-north", "officer", "cabinet"] { try await devices[name]!.sync() }

        try await clerk.sync()
        let decisions = try await store.database.read { db in
            try Decision.fetchAll(
                db, sql: "SELECT * FROM decision WHERE proposal_id IN (?, ?, ?) ORDER BY amount", arguments: [small.key, middle.key, large.key])
        }
        #expect(decisions.map(\.outcome) == [.approved, .partFunded, .approved])
        #expect(decisions.map { $0.amount?.pence } == [400_000, 1_500_000, 3_000_000])
        #expect(decisions[0].authority.contains("councillor up to £5,000.00 for their own wards"))
        #expect(try clerk.replica.proposal(middle.key).proposal.status == .approved)
        let after = try await position(store)
        #expect(after.committed.pence == 4_900_000)
        #expect(after.committed <= after.allocated)
        // A decision is final.
        try await devices["officer"]!.sync()
        refused(.invalidTransition) { try decide(devices["officer"]!, small, .rejected, reasons: "Changed my mind") }
    }

    @Test func reasonsAmountsAndDeclaredInterests() async throws {
        let store = try store()
        let clerk = try await SyncedDevice("clerk-north", store: store)
        let proposal = try await submitted(clerk, pence: 1_000_000)
        let officer = try await SyncedDevice("officer", store: store)
        try await officer.sync()
        refused(.invalidInput, containing: "reasons are required") { try decide(officer, proposal, .rejected) }
        refused(.invalidInput, containing: "reasons are required") { try decide(officer, proposal, .approved, pence: 500_000) }
        refused(.invalidInput, containing: "more than") { try decide(officer, proposal, .approved, pence: 1_000_001) }
        refused(.invalidInput) { try decide(officer, proposal, .deferred, pence: 100) }
        try decide(officer, proposal, .deferred, reasons: "Wait for the transport review")
        #expect(try officer.replica.proposal(proposal.key).proposal.status == .deferred)
        try officer.replica.perform(
            DeclareInterest(declarationId: officer.replica.newID(), proposalId: proposal, interest: "My partner chairs the applicant"))
        refused(.forbidden, containing: "declared an interest") { try decide(officer, proposal, .approved) }
        try await officer.sync()
        // The cabinet member decides instead; the declaration is on the record for everyone.
        let cabinet = try await SyncedDevice("cabinet", store: store)
        try await cabinet.sync()
        try decide(cabinet, proposal, .approved)
        try await cabinet.sync()
        #expect(try await store.database.read { try InterestDeclaration.fetchCount($0) } == 1)
        #expect(try await store.database.read { try Decision.filter(Column("proposal_id") == proposal.key).fetchCount($0) } == 2)
        // Applicants may not declare interests or decide.
        refused(.forbidden) { try clerk.replica.perform(DeclareInterest(declarationId: UUID(), proposalId: proposal, interest: "x")) }
    }

    @Test func anOfflineApprovalTheMoneyNoLongerCoversIsRefusedWithTheShortfall() async throws {
        let store = try store()
        let clerk = try await SyncedDevice("clerk-north", store: store)
        let first = try await submitted(clerk, pence: 2_500_000, title: "Minibus")
        let second = try await submitted(clerk, pence: 2_400_000, title: "Hall roof")
        let officer = try await SyncedDevice("officer", store: store)
        let cabinet = try await SyncedDevice("cabinet", store: store)
        try await officer.sync()
        try await cabinet.sync()
        // Use most of the fund first, so only one of the two can still be funded.
        let filler = try await submitted(clerk, pence: 5_000_000, title: "Flood defences")
        try await cabinet.sync()
        try decide(cabinet, filler, .approved)
        try await cabinet.sync()
        try await officer.sync()
        #expect(try await position(store).available.pence == 2_500_000)

        // Both decide offline; each device's own copy has the money.
        try await cabinet.sync()
        try decide(officer, first, .approved)
        try decide(cabinet, second, .approved)
        #expect(try officer.replica.proposal(first.key).proposal.status == .approved)
        try await officer.sync()
        let summary = try await cabinet.sync()

        #expect(summary.rejected.count == 1)
        let rejection = try #require(summary.rejected.first)
        #expect(rejection.code == "insufficient_funds")
        #expect(rejection.message.contains("is £24,000.00 short: £0.00 is available"), "\(rejection.message)")
        // Not lost: the proposal awaits a decision again on the device that tried.
        #expect(try cabinet.replica.proposal(second.key).proposal.status == .submitted)
        let after = try await position(store)
        #expect(after.committed == after.allocated)
        #expect(try cabinet.replica.read { try BudgetPosition.of(budget: Self.northBudget, in: $0) } == after)
    }

    @Test func theLedgerIsAppendOnlyAndTheAuditTrailDetectsTampering() async throws {
        let store = try store()
        let clerk = try await SyncedDevice("clerk-north", store: store)
        let proposal = try await submitted(clerk, pence: 300_000)
        let councillor = try await SyncedDevice("cllr-north", store: store)
        try await councillor.sync()
        try decide(councillor, proposal, .approved)
        try await councillor.sync()

        try await store.database.read { db in
            let verification = try Audit.verify(db)
            #expect(verification.intact)
            #expect(verification.unsealed == 0)
            // The demo's six allocations (four to the area funds, two to the GP transport fund), then
            // the submission, the decision, its commitment and the approval.
            let actions = try String.fetchAll(db, sql: "SELECT action FROM audit_entry ORDER BY sequence")
            #expect(actions.filter { $0 == "ledger.allocation" }.count == 6)
            #expect(Array(actions.suffix(4)) == ["proposal.submitted", "ledger.commitment", "decision.approved", "proposal.approved"])
            let actor = try String.fetchOne(
                db, sql: "SELECT actor_id FROM audit_entry WHERE action = 'decision.approved' ORDER BY sequence DESC LIMIT 1")
            #expect(actor == DemoCouncil.personID("cllr-north").key)
        }
        try await store.database.write { db in
            #expect(throws: DatabaseError.self) { try db.execute(sql: "UPDATE ledger_entry SET amount = 1") }
            #expect(throws: DatabaseError.self) { try db.execute(sql: "DELETE FROM ledger_entry") }
            #expect(throws: DatabaseError.self) { try db.execute(sql: "UPDATE audit_entry SET reason = 'nothing to see'") }
            #expect(throws: DatabaseError.self) { try db.execute(sql: "DELETE FROM audit_entry") }
        }
        // Someone with the file and a SQLite shell can still drop the guards: the chain shows where.
        let tampered = try await store.database.write { db -> Int64 in
            try db.execute(sql: "DROP TRIGGER audit_entry_no_update")
            let sequence = try Int64.fetchOne(
                db, sql: "SELECT sequence FROM audit_entry WHERE action = 'decision.approved' ORDER BY sequence DESC LIMIT 1")!
            try db.execute(sql: "UPDATE audit_entry SET reason = 'approved at the meeting' WHERE sequence = ?", arguments: [sequence])
            return sequence
        }
        let verification = try await store.database.read { try Audit.verify($0) }
        #expect(verification.firstBroken?.sequence == tampered)
        #expect(verification.firstBroken?.problem.contains("changed after it was written") == true)
    }
}
