import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

@Suite("Commissions: eight stages, each gated on what the last produced")
struct CommissionTests {
    @Test func aCommissionMovesThroughTheCycleOnlyWhenEachStageHasItsOutput() async throws {
        let store = try SQLiteSyncStore.inMemory()
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let councillor = try await SyncedDevice("cllr-south", store: store)
        let officer = try await SyncedDevice("officer", store: store)
        let clerk = try await SyncedDevice("clerk-south", store: store)
        for device in [councillor, officer, clerk] { try await device.sync() }
        func stable(_ name: String) -> UUID { UUID.stable("demo:" + name) }
        let id = councillor.replica.newID()
        refused(.forbidden) {
            try clerk.replica.perform(StartCommission(commissionId: UUID(), title: "x", level: .parish, localityId: stable("locality:clunbury")))
        }
        try councillor.replica.perform(
            StartCommission(commissionId: id, title: "Isolation in Clunbury", level: .parish, localityId: stable("locality:clunbury")))
        func advance(_ device: SyncedDevice) throws {
            let stage = try device.replica.commission(id.key).stage
            try device.replica.perform(AdvanceCommission(commissionId: id, fromStage: stage))
        }
        // Analyse: the councillor links needs and agrees priorities.
        refused(.invalidTransition, containing: "no needs are linked") { try advance(councillor) }
        try councillor.replica.perform(RecordCommissionWork(commissionId: id, needIds: [stable("need:clunbury-lonely")]))
        try advance(councillor)
        refused(.invalidTransition, containing: "belongs to stage 4") {
            try councillor.replica.perform(RecordCommissionWork(commissionId: id, specification: "Too early"))
        }
        refused(.invalidTransition, containing: "no prioritisation decision") { try advance(councillor) }
        try councillor.replica.perform(
            RecordCommissionWork(commissionId: id, priorityReason: "Raised at three ward surgeries; winter is coming"))
        refused(.forbidden, containing: "is for officers") { try advance(councillor) }
        try await councillor.sync()
        try await officer.sync()

        // Plan and do: the officer, stage by stage.
        try advance(officer)
        #expect(try officer.replica.commission(id.key).stage == 3)
        refused(.invalidTransition, containing: "no specification before outcomes") { try advance(officer) }
        try officer.replica.perform(RecordCommissionWork(commissionId: id, outcomeIds: [stable("outcome:less-isolation")]))
        try advance(officer)
        try officer.replica.perform(RecordCommissionWork(commissionId: id, specification: "Weekly company and a hot meal over winter"))
        try advance(officer)
        refused(.invalidTransition, containing: "no proposals or bids") { try advance(officer) }
        try officer.replica.perform(RecordCommissionWork(commissionId: id, proposalIds: [stable("proposal:lunch-club")]))
        try advance(officer)
        refused(.invalidTransition, containing: "no award yet") { try advance(officer) }
        try officer.replica.perform(RecordCommissionWork(commissionId: id, awardId: stable("award:lunch-club")))
        try advance(officer)  // to 7: monitor delivery — the demo award has a report
        try advance(officer)  // to 8: review and learn — and a review
        try officer.replica.perform(
            AppraiseOption(optionId: officer.replica.newID(), commissionId: id, deliveryModel: .communityLed, score: 78, chosen: true))
        try officer.replica.perform(
            AppraiseOption(optionId: officer.replica.newID(), commissionId: id, deliveryModel: .outsource, score: 41))
        refused(.invalidInput, containing: "from 1 to 5") {
            try officer.replica.perform(
                RecordRisk(riskId: UUID(), commissionId: id, description: "Volunteers drift away", likelihood: 6, impact: 3, owner: "Officer"))
        }
        try officer.replica.perform(
            RecordRisk(
                riskId: officer.replica.newID(), commissionId: id, description: "Volunteers drift away", likelihood: 3, impact: 4,
                owner: "Locality Commissioner", mitigation: "Recruit through the parish magazine"))
        try advance(officer)
        refused(.invalidTransition, containing: "closed") { try advance(officer) }
        // A stale request cannot skip a stage.
        refused(.invalidTransition) { try officer.replica.perform(AdvanceCommission(commissionId: id, fromStage: 3)) }
        try await officer.sync()

        let view = try officer.replica.commission(id.key)
        #expect(view.status == .closed && view.stage == 8)
        #expect(view.options.map(\.deliveryModel) == [.communityLed, .outsource] && view.risks.first?.rating == 12)
        // Its review is the review of what it delivered: verdict and lessons, on the commission.
        #expect(view.reviews.map(\.verdict) == [.extend] && view.reviews.first?.awardId == stable("award:lunch-club"))
        let trail = try await store.database.read { db in
            try String.fetchAll(
                db, sql: "SELECT action FROM audit_entry WHERE record_type = 'commission' AND record_id = ? ORDER BY sequence", arguments: [id.key])
        }
        #expect(trail == ["commission.started"] + Array(repeating: "commission.stage", count: 7) + ["commission.closed"])
        #expect(try await store.database.read { try Audit.verify($0) }.intact)
    }
}
