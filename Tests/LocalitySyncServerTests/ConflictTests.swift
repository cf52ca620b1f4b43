import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

@Suite("Concurrent edits: fields merge, the later clock wins, the loser is kept")
struct ConflictTests {
    private func store() throws -> SQLiteSyncStore {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        return store
    }

    /// A councillor and an officer both hold the need, then edit it offline: the officer changes
    /// the title and the severity, the councillor (later by clock) the title and the description.
    /// The three syncs' summaries come back too; `shape` is how the devices' pages arrive.
    private func collide(pushOfficerFirst: Bool, shape: PageShape = .rows) async throws -> (
        store: SQLiteSyncStore, north: SyncedDevice, officer: SyncedDevice, needId: UUID, summaries: [SyncSummary]
    ) {
        let store = try store()
        let shaped: (String) -> any SyncTransport = { token in ShapedTransport(inner: StoreTransport(store: store, token: token), shape: shape) }
        let north = try await SyncedDevice("cllr-north", store: store, transport: shaped)
        let officer = try await SyncedDevice("officer", store: store, transport: shaped)
        try await north.sync()
        let needId = try north.recordNeed(in: "brockton", title: "Ford floods")
        try await north.sync()
        try await officer.sync()

        var officerEdit = UpdateNeed(needId: needId)
        officerEdit.title = "Ford floods (officer)"
        officerEdit.severity = 5
        try officer.replica.perform(officerEdit)
        try await Task.sleep(for: .milliseconds(5))  // the councillor's edit is later by the clock
        var northEdit = UpdateNeed(needId: needId)
        northEdit.title = "Ford floods (councillor)"
        northEdit.description = "Every winter since 2019"
        try north.replica.perform(northEdit)

        let (first, second) = pushOfficerFirst ? (officer, north) : (north, officer)
        var summaries: [SyncSummary] = []
        for device in [first, second, first] { summaries.append(try await device.sync()) }
        return (store, north, officer, needId, summaries)
    }

    private func serverNeed(_ store: SQLiteSyncStore, _ id: UUID) async throws -> Need {
        try await store.database.read { db in try #require(try Need.find(db, id: id)) }
    }

    @Test(arguments: [true, false])
    func theSameResultWhicheverPushArrivesFirst(officerFirst: Bool) async throws {
        let (store, north, officer, needId, _) = try await collide(pushOfficerFirst: officerFirst)
        let need = try await serverNeed(store, needId)
        // Different fields both survive; the same field goes to the later clock.
        #expect(need.title == "Ford floods (councillor)")
        #expect(need.severity == 5)
        #expect(need.description == "Every winter since 2019")
        // Both devices show the server's result, and the same one conflict.
        for device in [north, officer] {
            let local = try #require(try device.replica.read { db in try Need.find(db, id: needId) })
            #expect(local.title == need.title && local.severity == 5 && local.description == need.description)
            let conflicts = try device.replica.conflicts()
            #expect(conflicts.count == 1)
            #expect(conflicts.first?.field == "title")
            #expect(conflicts.first?.lostValue == "Ford floods (officer)")
            #expect(conflicts.first?.lostBy == "officer")
            #expect(conflicts.first?.keptBy == "cllr-north")
        }
        #expect(try officer.replica.conflicts().first?.lostIsMine == true)
        #expect(try north.replica.conflicts().first?.keptIsMine == true)
    }

    /// A sync's summary counts the open conflicts it brings and whose value lost or was kept,
    /// whichever shape the server's pages come in.
    @Test(arguments: [PageShape.rows, .columns])
    func aSyncSaysWhoseValueLostWhicheverShapeItsPagesCameIn(shape: PageShape) async throws {
        // The officer pushes first; the councillor's later edit of the title wins.
        let summaries = try await collide(pushOfficerFirst: true, shape: shape).summaries
        let (first, kept, lost) = (summaries[0], summaries[1], summaries[2])
        #expect(first.conflicts == 0, "nothing to collide with yet")
        #expect(kept.conflicts == 1 && kept.conflictsWon == 1 && kept.conflictsLost == 0)
        #expect(lost.conflicts == 1 && lost.conflictsLost == 1 && lost.conflictsWon == 0)
    }

    @Test func aPersonWhoseValueLostCanPutItBack() async throws {
        let (store, north, officer, needId, _) = try await collide(pushOfficerFirst: true)
        let conflict = try #require(try officer.replica.conflicts().first)
        try officer.replica.perform(ResolveConflict(conflictId: conflict.id, keep: .lost))
        // Offline, the officer already sees their value and the conflict settled.
        #expect(try officer.replica.read { db in try Need.find(db, id: needId)?.title } == "Ford floods (officer)")
        #expect(try officer.replica.conflicts().isEmpty)
        try await officer.sync()
        try await north.sync()
        #expect(try await serverNeed(store, needId).title == "Ford floods (officer)")
        #expect(try north.replica.read { db in try Need.find(db, id: needId)?.title } == "Ford floods (officer)")
        #expect(try north.replica.conflicts().isEmpty)
        let resolved = try #require(try north.replica.conflicts(includeResolved: true).first)
        #expect(resolved.resolution == .lost && resolved.resolvedBy == "officer")

        // Settling it twice is refused with a reason, not applied twice.
        try await north.replica.database.write { db in
            try db.execute(sql: "UPDATE conflict SET status = 'open'")  // as if north had not yet heard
        }
        try north.replica.perform(ResolveConflict(conflictId: conflict.id, keep: .kept))
        let summary = try await north.sync()
        #expect(summary.rejected.first?.message == "this conflict was already resolved by officer")
    }

    @Test func onlyThePeopleConcernedOrAnOfficerMayResolve() async throws {
        let (store, _, _, _, _) = try await collide(pushOfficerFirst: true)
        let south = try await SyncedDevice("clerk-south", store: store)
        try await south.sync()
        // A parish clerk can see the need (it holds no personal data) and so the conflict, but made neither edit.
        let conflict = try #require(try south.replica.conflicts().first)
        #expect(throws: LocalityError.self) { try south.replica.perform(ResolveConflict(conflictId: conflict.id, keep: .lost)) }
    }

    @Test func anEditMadeAfterSeeingAValueIsNotAConflict() async throws {
        let store = try store()
        let north = try await SyncedDevice("cllr-north", store: store)
        let officer = try await SyncedDevice("officer", store: store)
        try await north.sync()
        let needId = try north.recordNeed(in: "brockton", title: "Ford floods")
        var first = UpdateNeed(needId: needId)
        first.title = "First"
        try north.replica.perform(first)
        try await north.sync()
        try await officer.sync()
        var second = UpdateNeed(needId: needId)
        second.title = "Second"
        try officer.replica.perform(second)
        try await officer.sync()
        try await north.sync()
        #expect(try await serverNeed(store, needId).title == "Second")
        #expect(try north.replica.conflicts().isEmpty && officer.replica.conflicts().isEmpty)
    }

    @Test func proposalEditsMergeByFieldToo() async throws {
        let store = try store()
        let clerkA = try await SyncedDevice("clerk-north", store: store)
        let clerkB = try await SyncedDevice("clerk-north", store: store)
        try await clerkA.sync()
        let proposalId = clerkA.replica.newID()
        var draft = DraftProposal(
            proposalId: proposalId, budgetId: UUID.stable("demo:budget:north-2026-27"),
            organisationId: UUID.stable("demo:organisation:whitmere-town-council"),
            localityId: UUID.stable("demo:locality:whitmere-town"), title: "Benches", amountRequested: Money(pence: 100_000))
        draft.summary = "Six benches"
        try clerkA.replica.perform(draft)
        try await clerkA.sync()
        try await clerkB.sync()
        var onA = EditProposal(proposalId: proposalId)
        onA.amountRequested = Money(pence: 120_000)
        try clerkA.replica.perform(onA)
        try await Task.sleep(for: .milliseconds(5))
        var onB = EditProposal(proposalId: proposalId)
        onB.amountRequested = Money(pence: 90_000)
        onB.summary = "Eight benches"
        try clerkB.replica.perform(onB)
        try await clerkB.sync()
        try await clerkA.sync()
        try await clerkB.sync()
        let proposal = try await store.database.read { db in try #require(try Proposal.find(db, id: proposalId)) }
        #expect(proposal.amountRequested == Money(pence: 90_000))
        #expect(proposal.summary == "Eight benches")
        // The same person on two devices: "mine" is the value this device wrote.
        let onDeviceA = try #require(try clerkA.replica.conflicts().first)
        #expect(onDeviceA.field == "amountRequested" && onDeviceA.lostValue == "£1,200.00" && onDeviceA.lostIsMine)
        #expect(try clerkB.replica.conflicts().first?.keptIsMine == true)
    }
}

/// The store's pages in the shape asked for; in columns, through JSON as the terminal client gets them.
struct ShapedTransport: SyncTransport {
    let inner: StoreTransport
    let shape: PageShape

    func push(_ request: PushRequest) async throws -> PushResponse { try await inner.push(request) }

    func pull(cursor: Int64, limit: Int) async throws -> PullResponse {
        let page = try await inner.pull(cursor: cursor, limit: limit)
        guard shape == .columns else { return page }
        return try JSONCoding.decode(PullResponse.self, from: JSONCoding.encode(page.inColumns()))
    }
}
