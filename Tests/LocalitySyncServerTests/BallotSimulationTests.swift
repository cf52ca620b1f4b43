import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

/// Several devices capture paper ballots offline at community events — some voters turn up at two
/// events, some papers are keyed twice — through lost, duplicated and unanswered requests and
/// server restarts. After everyone syncs: the server counts exactly one ballot per voter reference;
/// every ballot captured is either counted or shown refused, with its reason, on the device that
/// captured it; and no device still holds a counted ballot. Rerun one seed with
/// `LOCALITY_SIM_SEED=<seed> LOCALITY_BALLOT_SIM_SEEDS=1`.
@Suite("Seeded simulation of paper ballots captured offline")
struct BallotSimulationTests {
    static var seeds: [UInt64] { Simulation.seeds(countVariable: "LOCALITY_BALLOT_SIM_SEEDS", default: 40) }

    @Test func exactlyOneBallotPerVoterIsCountedAndEveryDuplicateIsShownToItsCapturer() async throws {
        var totals = (captured: 0, counted: 0, duplicates: 0, restarts: 0)
        defer {
            print("ballot simulation: \(Self.seeds.count) seeds from \(Self.seeds.first ?? 0): \(totals.captured) paper ballots captured offline, \(totals.counted) counted, \(totals.duplicates) refused as duplicates on their devices, \(totals.restarts) server restarts")
        }
        for seed in Self.seeds {
            do {
                let result = try await BallotSimulation(seed: seed).run()
                totals.captured += result.captured
                totals.counted += result.counted
                totals.duplicates += result.duplicates
                totals.restarts += result.restarts
            } catch {
                Issue.record("seed \(seed) failed: \(error) — rerun with LOCALITY_SIM_SEED=\(seed) LOCALITY_BALLOT_SIM_SEEDS=1")
                return
            }
        }
    }
}

struct BallotSimulation {
    let seed: UInt64
    let steps = 80

    struct Result {
        var captured = 0
        var counted = 0
        var duplicates = 0
        var restarts = 0
    }

    struct Capture {
        var device: Int
        var ballotId: UUID
        var code: String
        var serial: String
    }

    func run() async throws -> Result {
        var result = Result()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-ballots-\(seed)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ServerBox(path: directory.appendingPathComponent("server.sqlite").path)
        var random = SeededGenerator(seed: seed)

        func device(_ username: String, _ index: Int) async throws -> SimulatedDevice {
            try await SimulatedDevice.connect(
                username, to: server, clockSeed: seed &* 41 &+ UInt64(index), faultSeed: seed &* 13 &+ UInt64(index),
                token: "ballots-\(seed)-\(index)")
        }

        // The officer opens the vote for the simulated days (the devices' clocks start at the beginning of today).
        let start = Date(milliseconds: Timestamps.milliseconds(Date()) / 86_400_000 * 86_400_000)
        let (opens, closes) = (Timestamps.day(start), Timestamps.day(start.addingTimeInterval(30 * 86_400)))
        let officer = try await device("officer", 0)
        let proposals = DemoCouncil.youDecideProposals.map { UUID.stable("demo:proposal:" + $0.slug) }
        let vote = officer.replica.newID()
        try officer.replica.perform(
            OpenVote(
                voteId: vote, roundId: UUID.stable("demo:round:ledwyche-you-decide"), title: "Ledwyche: You Decide", maxChoices: 3,
                rule: .mes, amount: Money(pence: 1_000_000), opensOn: opens, closesOn: closes, proposalIds: proposals))
        _ = try await officer.engine.sync()

        // Capture devices: two officers' tablets and the ward councillor's phone.
        var capturers: [SimulatedDevice] = []
        for (index, username) in ["officer", "officer", "cllr-south"].enumerated() {
            let capturer = try await device(username, 1 + index)
            capturer.transport.setFaults(true)
            capturers.append(capturer)
        }
        // Voting codes on poll cards: a small pool, so some voters come twice.
        let codes = (0..<60).map { "CARD-\($0)" }
        var captures: [Capture] = []
        var serial = 0
        for _ in 0..<steps {
            let index = Int(random.next() % UInt64(capturers.count))
            let capturer = capturers[index]
            switch random.next() % 100 {
            case 0..<65:
                serial += 1
                let code = codes[Int(random.next() % UInt64(codes.count))]
                let count = 1 + Int(random.next() % 3)
                var choices: [UUID] = []
                for proposal in proposals.shuffled(using: &random) where choices.count < count { choices.append(proposal) }
                let ballotId = capturer.replica.newID()
                do {
                    try capturer.replica.perform(
                        CastBallot(ballotId: ballotId, voteId: vote, proposalIds: choices, paperSerial: "P\(serial)", voterCode: code))
                    captures.append(Capture(device: index, ballotId: ballotId, code: code, serial: "P\(serial)"))
                } catch let error as LocalityError where error.code == .alreadyVoted {
                    // The same card again on this device, caught there and then: never queued.
                }
            case 65..<93:
                _ = try? await capturer.engine.sync()
            default:
                try server.restart()
                result.restarts += 1
            }
        }
        for capturer in capturers { capturer.transport.setFaults(false) }
        for _ in 0..<2 { for capturer in capturers { _ = try await capturer.engine.sync() } }

        let counted = try await server.store.database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, voter_reference FROM ballot WHERE vote_id = ?", arguments: [vote.key])
                .map { (UUID(key: $0["id"] as String)!, $0["voter_reference"] as String) }
        }
        // Exactly one ballot per voter reference, and one for every voter whose card was captured.
        let references = counted.map(\.1)
        guard Set(references).count == references.count else {
            throw SimulationFailure(description: "a voter reference was counted twice: \(references.sorted())")
        }
        let voters = Set(captures.map { "code:" + $0.code })
        guard Set(references) == voters else {
            throw SimulationFailure(description: "counted \(Set(references).count) voters, but \(voters.count) were captured")
        }
        // Every capture is counted, or refused as a duplicate on the device that captured it.
        let countedIds = Set(counted.map(\.0))
        for capture in captures {
            result.captured += 1
            if countedIds.contains(capture.ballotId) {
                result.counted += 1
                continue
            }
            let device = capturers[capture.device]
            let refusals = try device.replica.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT code, message FROM rejected_mutation WHERE json_extract(arguments, '$.ballotId') = ?",
                    arguments: [capture.ballotId.key]
                ).map { ($0["code"] as String, $0["message"] as String) }
            }
            guard refusals.count == 1, refusals[0].0 == "already_voted", refusals[0].1.contains(capture.serial) else {
                throw SimulationFailure(description: "ballot paper \(capture.serial) is neither counted nor shown refused on its device")
            }
            result.duplicates += 1
        }
        // Counted ballots have left the devices; nothing waits to sync.
        for capturer in capturers {
            guard try capturer.replica.pendingBallots().isEmpty, try capturer.replica.outbox().isEmpty else {
                throw SimulationFailure(description: "\(capturer.username)'s device still holds ballots after syncing")
            }
        }
        return result
    }
}
