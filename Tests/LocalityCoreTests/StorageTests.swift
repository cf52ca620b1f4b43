import Foundation
import GRDB
import LocalityCore
import Testing

@Suite("Storage: migrations, round trips and the outbox")
struct StorageTests {
    private func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("locality-\(UUID().key).sqlite").path
    }

    @Test func migratesAnEmptyFileToStrictTablesInWALMode() throws {
        let path = temporaryPath()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let replica = try Replica.open(at: path)
        try replica.read { db throws in
            #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
            #expect(try Int.fetchOne(db, sql: "PRAGMA foreign_keys") == 1)
            for table in Schema.v1Tables {
                let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table])
                #expect(sql?.contains("STRICT") == true, "\(table) is missing or not STRICT")
            }
            #expect(try Schema.replicaMigrator.hasCompletedMigrations(db))
        }
        // FULL on the connection that writes (GRDB turns it to NORMAL when it sets WAL up, and
        // Replica.open turns it back): a recorded change survives a power cut.
        #expect(try replica.database.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
        #expect(try replica.isInitialised() == false)
        // Opening again runs no migration twice and keeps what was there.
        try replica.initialiseDemo(as: "cllr-north")
        let id = try replica.recordNeed(in: "brockton")
        let reopened = try Replica.open(at: path)
        #expect(try reopened.need(id.key).need.title == "Potholes on the school run")
        #expect(try reopened.outbox().count == 1)
    }

    @Test func normalDurabilityCanBeChosen() throws {
        let path = temporaryPath()
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let replica = try Replica.open(at: path, durability: .normal)
        #expect(try replica.database.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
    }

    @Test func aNeedRoundTripsWithEveryField() throws {
        let replica = try demoReplica(as: "cllr-north")
        let id = replica.newID()
        var command = RecordNeed(needId: id, localityId: Demo.locality("brockton-heath"), title: "  Flooding on Mill Lane ")
        command.description = "The ford floods every winter."
        command.category = "highways"
        command.outcomeId = Demo.outcome("rural-transport")
        command.severity = 4
        command.peopleAffected = 30
        command.latitude = 52.4851
        command.longitude = -2.8897
        command.holdsPersonalData = true
        command.evidence = [
            EvidenceInput(id: replica.newID(), kind: .petition, note: "212 signatures", observedOn: "2026-11-01"),
            EvidenceInput(id: replica.newID(), kind: .siteVisit, note: "Water 30cm deep", observedOn: "2026-11-10"),
        ]
        let mutation = try replica.perform(command)
        let view = try replica.need(id.key)
        #expect(view.need.title == "Flooding on Mill Lane")
        #expect(view.need.description == "The ford floods every winter.")
        #expect(view.need.category == "highways")
        #expect(view.need.outcomeId == Demo.outcome("rural-transport"))
        #expect(view.need.severity == 4 && view.need.peopleAffected == 30)
        #expect(view.need.latitude == 52.4851 && view.need.longitude == -2.8897)
        #expect(view.need.holdsPersonalData)
        #expect(view.need.status == .open)
        #expect(view.need.recordedAt == mutation.createdAt)
        #expect(view.locality == "Brockton Heath" && view.recordedByUsername == "cllr-north")
        #expect(view.evidence.map(\.kind) == [.petition, .siteVisit])
        #expect(view.evidence.map(\.observedOn) == ["2026-11-01", "2026-11-10"])
        // And the same through JSON, as the terminal client and the wire see it.
        let decoded = try JSONCoding.decoder.decode(NeedView.self, from: JSONCoding.encoder.encode(view))
        #expect(decoded.need == view.need && decoded.evidence == view.evidence)
    }

    @Test func theOutboxQueuesEveryChangeInOrderWithWhatTheServerNeeds() throws {
        let replica = try demoReplica(as: "cllr-north")
        let id = try replica.recordNeed(in: "brockton")
        var update = UpdateNeed(needId: id)
        update.severity = 5
        try replica.perform(update)
        try replica.perform(CloseNeed(needId: id, reason: "Fixed by highways"))
        let outbox = try replica.outbox()
        let me = try replica.whoami()
        #expect(outbox.map(\.name) == [.needRecord, .needUpdate, .needClose])
        #expect(outbox.map(\.sequence) == [1, 2, 3])
        #expect(outbox.allSatisfy { $0.deviceId == me.deviceId && $0.actorId == me.id })
        #expect(outbox.map(\.hlc) == outbox.map(\.hlc).sorted())
        #expect(Set(outbox.map(\.hlc)).count == 3)
        #expect(Set(outbox.map(\.id)).count == 3)
        // An update carries only the fields it changes, so concurrent edits of other fields survive,
        // and the clock of each field's last edit as the device knew it, so the server can tell a
        // concurrent edit ("" when the field had never been edited).
        #expect(
            outbox[1].arguments
                == .object(["needId": .string(id.key), "severity": .int(5), "seen": .object(["severity": .string("")])]))
        #expect(me.pendingMutations == 3 && me.lastSequence == 3)
    }

    @Test func replayingTheOutboxThroughTheServersPathGivesTheSameState() throws {
        let device = try demoReplica(as: "cllr-north")
        let id = try device.recordNeed(in: "brockton", title: "Bus shelter smashed", severity: 2)
        try device.perform(AddNeedEvidence(
            needId: id, evidence: EvidenceInput(id: device.newID(), kind: .survey, note: "Half use it", observedOn: "2026-11-01")))
        try device.perform(SetNeedStatus(needId: id, status: .prioritised))
        // A second replica stands in for the server: it decodes each mutation by name and applies it.
        let server = try demoReplica(as: "officer", seed: 9)
        for mutation in try device.outbox() {
            try server.database.write { db in
                let actor = try Actor.load(db, personId: mutation.actorId)
                try mutation.name.apply(
                    arguments: mutation.arguments, MutationContext(actor: actor, at: mutation.createdAt, hlc: mutation.hlc), db)
            }
        }
        let here = try device.need(id.key)
        let there = try server.need(id.key)
        #expect(here.need == there.need)
        #expect(here.evidence == there.evidence)
    }

    @Test func malformedArgumentsAreRefusedByName() throws {
        let replica = try demoReplica(as: "cllr-north")
        let actor = try replica.actor()
        let context = MutationContext(actor: actor, at: Date(), hlc: HLCTimestamp(wallMillis: 1, counter: 0, node: "x"))
        let cases: [JSONValue] = [
            .object([:]),
            .object(["needId": .string("not-a-uuid"), "localityId": .string(Demo.locality("brockton").uuidString), "title": .string("x")]),
            .object(["needId": .int(3)]),
            .array([]),
        ]
        for arguments in cases {
            let before = try Footprint.of(replica)
            #expect(throws: LocalityError.self) {
                try replica.database.write { db in try MutationName.needRecord.apply(arguments: arguments, context, db) }
            }
            #expect(try Footprint.of(replica) == before)
        }
        #expect(MutationName(rawValue: "need.delete-everything") == nil)
    }
}

@Suite("One transaction: a change is applied and queued together, or not at all")
struct AtomicityTests {
    /// Installs a trigger on the replica's writer connection that fails inserts into `table`.
    private func sabotage(_ table: String, _ replica: Replica) throws {
        try replica.database.write { db in
            try db.execute(sql: """
                CREATE TEMP TRIGGER sabotage_\(table) BEFORE INSERT ON main.\(table)
                BEGIN SELECT RAISE(ABORT, 'disk on fire'); END
                """)
        }
    }

    private func expectNoTrace(_ replica: Replica, _ body: () throws -> Void) throws {
        let before = try Footprint.of(replica)
        #expect(throws: (any Error).self) { try body() }
        #expect(try Footprint.of(replica) == before)
    }

    @Test func failingToQueueLeavesTheChangeUnapplied() throws {
        let replica = try demoReplica(as: "cllr-north")
        try sabotage("outbox", replica)
        try expectNoTrace(replica) { try replica.recordNeed(in: "brockton") }
        #expect(try replica.needs(localityRef: "brockton").count == 1)  // only the demo's own need
    }

    @Test func failingHalfwayThroughApplyingLeavesNothingQueued() throws {
        let replica = try demoReplica(as: "cllr-north")
        try sabotage("need_evidence", replica)
        var command = RecordNeed(needId: replica.newID(), localityId: Demo.locality("brockton"), title: "With evidence")
        command.evidence = [EvidenceInput(id: replica.newID(), kind: .petition, note: "50 names", observedOn: "2026-11-01")]
        try expectNoTrace(replica) { try replica.perform(command) }
        #expect(try replica.outbox().isEmpty)
    }

    @Test func aRuleBrokenByTheLastPieceOfEvidenceUndoesTheWholeRecord() throws {
        let replica = try demoReplica(as: "cllr-north")
        var command = RecordNeed(needId: replica.newID(), localityId: Demo.locality("brockton"), title: "Bad date")
        command.evidence = [
            EvidenceInput(id: replica.newID(), kind: .petition, note: "fine", observedOn: "2026-11-01"),
            EvidenceInput(id: replica.newID(), kind: .survey, note: "from the future", observedOn: "2099-01-01"),
        ]
        try expectRefused(.invalidInput, in: replica) { try replica.perform(command) }
        command.evidence[1].observedOn = "2026-02-30"
        try expectRefused(.invalidInput, in: replica) { try replica.perform(command) }
    }

    @Test func failedProposalEditsLeaveLinksAlone() throws {
        let replica = try demoReplica(as: "clerk-north")
        let id = try replica.draftProposal(org: "whitmere-town-council")
        try sabotage("proposal_outcome", replica)
        var edit = EditProposal(proposalId: id)
        edit.needIds = [Demo.need("brockton-bus")]
        edit.outcomeIds = [Demo.outcome("rural-transport")]
        try expectNoTrace(replica) { try replica.perform(edit) }
        #expect(try replica.proposal(id.key).needIds.isEmpty)
    }

    @Test func theSequenceHasNoGapsAfterRefusals() throws {
        let replica = try demoReplica(as: "cllr-north")
        try replica.recordNeed(in: "brockton")
        try expectRefused(.forbidden, in: replica) { try replica.recordNeed(in: "clunbury") }
        try replica.recordNeed(in: "ashby-parva")
        #expect(try replica.outbox().map(\.sequence) == [1, 2])
    }
}

@Suite("References: ids, slugs, GSS codes, org-ids and short references")
struct ReferenceTests {
    @Test func resolvesEveryKindOfReference() throws {
        let replica = try demoReplica(as: "cllr-north")
        try replica.read { db throws in
            let brockton = Demo.locality("brockton")
            #expect(try References.locality("brockton", db).id == brockton)
            #expect(try References.locality("E04900003", db).id == brockton)
            #expect(try References.locality("e04900003", db).id == brockton)
            #expect(try References.locality(brockton.key, db).id == brockton)
            #expect(try References.locality(brockton.uuidString, db).id == brockton)
            #expect(try References.organisation("GB-CHC-1099901", db).slug == "brockton-village-hall")
            #expect(try References.budget("north-2026-27", db).financialYear == FinancialYear(startYear: 2026))
            #expect(try References.need(Demo.need("brockton-bus").shortReference, db).id == Demo.need("brockton-bus"))
        }
    }

    @Test(arguments: ["nowhere", "", "E0499", "'; DROP TABLE locality; --", "%"])
    func unknownReferencesSayWhatToGive(_ ref: String) throws {
        let replica = try demoReplica(as: "cllr-north")
        try replica.read { db throws in
            do {
                _ = try References.locality(ref, db)
                Issue.record("'\(ref)' resolved")
            } catch let error as LocalityError {
                #expect([.notFound, .invalidInput].contains(error.code))
            }
        }
        #expect(try replica.localityTree().count == DemoCouncil.localities.count)
    }
}
