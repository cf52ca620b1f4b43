import Foundation
import LocalityCore
import Testing

@Suite("Status transitions: every move allowed or refused, in one place")
struct TransitionTests {
    /// Walks a need into `status` by an allowed path.
    private func need(in status: Need.Status, _ replica: Replica) throws -> UUID {
        let id = try replica.recordNeed(in: "brockton")
        let path: [Need.Status] =
            switch status {
            case .open: []
            case .prioritised: [.prioritised]
            case .beingAddressed: [.beingAddressed]
            case .met: [.met]
            case .closed: [.closed]
            }
        for step in path { try replica.perform(SetNeedStatus(needId: id, status: step, reason: "because")) }
        return id
    }

    @Test(arguments: Need.Status.allCases)
    func needMovesExactlyAsTheTableSays(from: Need.Status) throws {
        let replica = try demoReplica(as: "cllr-north")
        for to in Need.Status.allCases {
            let id = try need(in: from, replica)
            let command = SetNeedStatus(needId: id, status: to, reason: "reason given")
            if from.canMove(to: to) {
                try replica.perform(command)
                #expect(try replica.need(id.key).need.status == to)
            } else {
                try expectRefused(.invalidTransition, in: replica) { try replica.perform(command) }
            }
        }
    }

    @Test func theTableIsTheOneTheDomainDescribes() {
        #expect(Need.Status.open.allowedNext == [.prioritised, .beingAddressed, .met, .closed])
        #expect(Need.Status.closed.allowedNext == [.open])
        #expect(Proposal.Status.draft.allowedNext == [.submitted, .withdrawn])
        #expect(Proposal.Status.submitted.allowedNext == [.withdrawn, .approved, .rejected, .deferred])
        #expect(Proposal.Status.deferred.allowedNext == [.withdrawn, .approved, .rejected, .deferred])
        #expect(Proposal.Status.withdrawn.allowedNext.isEmpty)
        #expect(Proposal.Status.approved.allowedNext.isEmpty)
        #expect(Proposal.Status.rejected.allowedNext.isEmpty)
    }

    @Test func closingNeedsAReasonAndAClosedNeedIsReadOnlyUntilReopened() throws {
        let replica = try demoReplica(as: "cllr-north")
        let id = try replica.recordNeed(in: "brockton")
        try expectRefused(.invalidInput, in: replica) { try replica.perform(CloseNeed(needId: id, reason: "   ")) }
        try replica.perform(CloseNeed(needId: id, reason: "Duplicate of the bus need"))
        #expect(try replica.need(id.key).need.statusReason == "Duplicate of the bus need")
        var update = UpdateNeed(needId: id)
        update.title = "Renamed"
        try expectRefused(.invalidTransition, in: replica) { try replica.perform(update) }
        try replica.perform(SetNeedStatus(needId: id, status: .open))
        try replica.perform(update)
        #expect(try replica.need(id.key).need.title == "Renamed")
    }

    @Test func proposalLifecycle() throws {
        let replica = try demoReplica(as: "clerk-north")
        let id = try replica.draftProposal(org: "whitmere-town-council")
        try replica.perform(SubmitProposal(proposalId: id))
        try expectRefused(.invalidTransition, in: replica) { try replica.perform(SubmitProposal(proposalId: id)) }
        var edit = EditProposal(proposalId: id)
        edit.title = "Changed after submission"
        try expectRefused(.invalidTransition, in: replica) { try replica.perform(edit) }
        try replica.perform(WithdrawProposal(proposalId: id, reason: "Funded elsewhere"))
        try expectRefused(.invalidTransition, in: replica) { try replica.perform(WithdrawProposal(proposalId: id)) }
        try expectRefused(.invalidTransition, in: replica) { try replica.perform(SubmitProposal(proposalId: id)) }
        let view = try replica.proposal(id.key)
        #expect(view.proposal.status == .withdrawn)
        #expect(view.proposal.statusReason == "Funded elsewhere")
    }

    @Test func aDraftCanBeWithdrawnAndNeedsASummaryToBeSubmitted() throws {
        let replica = try demoReplica(as: "clerk-north")
        let bare = try replica.draftProposal(org: "whitmere-town-council", summary: "")
        try expectRefused(.invalidInput, in: replica) { try replica.perform(SubmitProposal(proposalId: bare)) }
        try replica.perform(WithdrawProposal(proposalId: bare))
        #expect(try replica.proposal(bare.key).proposal.status == .withdrawn)
    }
}

@Suite("Permissions apply offline, exactly as the server will apply them")
struct PermissionTests {
    @Test(arguments: [
        ("cllr-north", "brockton", true), ("cllr-north", "brockton-heath", true), ("cllr-north", "whitmere-ward", true),
        ("cllr-north", "clunbury", false), ("cllr-north", "north-area", false), ("cllr-south", "ledwyche-east", true),
        ("cllr-south", "brockton", false), ("officer", "clunbury", true), ("officer", "marcher", true),
        ("clerk-north", "whitmere-town", false), ("cabinet", "brockton", false), ("admin", "brockton", false),
    ])
    func recordingNeeds(_ username: String, _ place: String, _ allowed: Bool) throws {
        let replica = try demoReplica(as: username)
        if allowed {
            let id = try replica.recordNeed(in: place)
            #expect(try replica.need(id.key).need.recordedBy == DemoCouncil.personID(username))
        } else {
            try expectRefused(.forbidden, in: replica) { try replica.recordNeed(in: place) }
        }
    }

    @Test func aNeedIsChangedByItsRecorderItsWardCouncillorsAndOfficersOnly() throws {
        // The demo's Clunbury need was recorded by cllr-south.
        let clunbury = Demo.need("clunbury-lonely")
        var update = UpdateNeed(needId: clunbury)
        update.severity = 5
        for username in ["cllr-north", "clerk-south", "cabinet", "admin"] {
            let replica = try demoReplica(as: username)
            try expectRefused(.forbidden, in: replica) { try replica.perform(update) }
            try expectRefused(.forbidden, in: replica) {
                try replica.perform(CloseNeed(needId: clunbury, reason: "not mine to close"))
            }
        }
        for username in ["cllr-south", "officer"] {
            let replica = try demoReplica(as: username)
            try replica.perform(update)
            #expect(try replica.need(clunbury.key).need.severity == 5)
        }
    }

    @Test func clerksDraftOnlyForTheirOwnOrganisation() throws {
        let replica = try demoReplica(as: "clerk-north")
        try expectRefused(.forbidden, in: replica) {
            try replica.draftProposal(org: "clunbury-parish-council", budget: "south-2026-27", locality: "clunbury")
        }
        try replica.draftProposal(org: "whitmere-town-council")
        for username in ["cllr-north", "cabinet", "admin"] {
            let other = try demoReplica(as: username)
            try expectRefused(.forbidden, in: other) { try other.draftProposal(org: "whitmere-town-council") }
        }
    }

    @Test func onlyTheDraftingOrganisationMayEditSubmitOrWithdraw() throws {
        // Both replicas hold the same draft, as two devices would after a sync.
        let owner = try demoReplica(as: "clerk-north")
        let id = try owner.draftProposal(org: "whitmere-town-council")
        let stranger = try demoReplica(as: "clerk-south")
        let pending = try owner.outbox()
        try stranger.database.write { db in
            let actor = try Actor.load(db, personId: DemoCouncil.personID("clerk-north"))
            let context = MutationContext(actor: actor, at: pending[0].createdAt, hlc: pending[0].hlc)
            try pending[0].name.apply(arguments: pending[0].arguments, context, db)
        }
        var edit = EditProposal(proposalId: id)
        edit.title = "Hijacked"
        try expectRefused(.forbidden, in: stranger) { try stranger.perform(edit) }
        try expectRefused(.forbidden, in: stranger) { try stranger.perform(SubmitProposal(proposalId: id)) }
        try expectRefused(.forbidden, in: stranger) { try stranger.perform(WithdrawProposal(proposalId: id)) }
        try owner.perform(edit)
        #expect(try owner.proposal(id.key).proposal.title == "Hijacked")
    }

    @Test func aProposalMustLieWithinItsBudgetsAreaAndNotExceedIt() throws {
        let replica = try demoReplica(as: "clerk-north")
        try expectRefused(.invalidInput, in: replica) {
            try replica.draftProposal(org: "whitmere-town-council", budget: "south-2026-27", locality: "whitmere-town")
        }
        try expectRefused(.invalidInput, in: replica) {
            try replica.draftProposal(org: "whitmere-town-council", pence: 7_500_001)
        }
        try expectRefused(.invalidInput, in: replica) { try replica.draftProposal(org: "whitmere-town-council", pence: 0) }
        try replica.draftProposal(org: "whitmere-town-council", pence: 7_500_000)
    }
}
