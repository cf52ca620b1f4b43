import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

/// Several decision-makers approve proposals against the same budgets while offline, in random
/// orders, through lost, duplicated and unanswered requests and server restarts. After everyone
/// syncs: no budget is over-committed, every approval is on the ledger or was refused (with its
/// shortfall when the money had gone) on the device that made it, and the ledger equals the sum
/// of the accepted decisions. Rerun one seed with `LOCALITY_SIM_SEED=<seed> LOCALITY_DECISION_SIM_SEEDS=1`.
@Suite("Seeded simulation of offline decisions against shared budgets")
struct DecisionSimulationTests {
    static var seeds: [UInt64] { Simulation.seeds(countVariable: "LOCALITY_DECISION_SIM_SEEDS", default: 60) }

    @Test func noBudgetIsEverOverCommittedAndEveryApprovalIsAccountedFor() async throws {
        var totals = (attempts: 0, onLedger: 0, shortfalls: 0, alreadyDecided: 0, restarts: 0)
        defer {
            print("decision simulation: \(Self.seeds.count) seeds from \(Self.seeds.first ?? 0): \(totals.attempts) approvals queued offline, \(totals.onLedger) on the ledger, \(totals.shortfalls) refused for want of money, \(totals.alreadyDecided) refused as already decided, \(totals.restarts) server restarts")
        }
        for seed in Self.seeds {
            do {
                let result = try await DecisionSimulation(seed: seed).run()
                totals.attempts += result.attempts
                totals.onLedger += result.onLedger
                totals.shortfalls += result.shortfalls
                totals.alreadyDecided += result.alreadyDecided
                totals.restarts += result.restarts
            } catch {
                Issue.record("seed \(seed) failed: \(error) — rerun with LOCALITY_SIM_SEED=\(seed) LOCALITY_DECISION_SIM_SEEDS=1")
                return
            }
        }
    }
}

struct DecisionSimulation {
    let seed: UInt64
    let steps = 60

    struct Result {
        var attempts = 0
        var onLedger = 0
        var shortfalls = 0
        var alreadyDecided = 0
        var restarts = 0
    }

    /// An approval queued on a device.
    struct Attempt {
        var device: Int
        var decisionId: UUID
        var proposalId: UUID
        var amount: Money
    }

    func run() async throws -> Result {
        var result = Result()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-decisions-\(seed)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ServerBox(path: directory.appendingPathComponent("server.sqlite").path)
        var random = SeededGenerator(seed: seed)

        func device(_ username: String, _ index: Int) async throws -> SimulatedDevice {
            try await SimulatedDevice.connect(
                username, to: server, clockSeed: seed &* 37 &+ UInt64(index), faultSeed: seed &* 11 &+ UInt64(index),
                token: "decisions-\(seed)-\(index)")
        }

        // The applicants submit more than the two funds hold between them.
        let clerks = [try await device("clerk-north", 0), try await device("clerk-south", 1)]
        for (clerk, organisation, place, budget) in [
            (clerks[0], "whitmere-town-council", "whitmere-town", "north-2026-27"),
            (clerks[1], "clunbury-parish-council", "clunbury", "south-2026-27"),
        ] {
            for index in 0..<6 {
                var draft = DraftProposal(
                    proposalId: clerk.replica.newID(), budgetId: UUID.stable("demo:budget:" + budget),
                    organisationId: UUID.stable("demo:organisation:" + organisation), localityId: UUID.stable("demo:locality:" + place),
                    title: "Project \(index)", amountRequested: Money(pence: Int64(200_000 + random.next() % 2_300_000)))
                draft.summary = "Simulated"
                try clerk.replica.perform(draft)
                try clerk.replica.perform(SubmitProposal(proposalId: draft.proposalId))
            }
            _ = try await clerk.engine.sync()
        }

        // The decision-makers: two officer devices, the cabinet member, both ward councillors.
        var deciders: [SimulatedDevice] = []
        for (index, username) in ["officer", "officer", "cabinet", "cllr-north", "cllr-south"].enumerated() {
            let decider = try await device(username, 2 + index)
            decider.transport.setFaults(true)
            deciders.append(decider)
        }

        var attempts: [Attempt] = []
        for _ in 0..<steps {
            let index = Int(random.next() % UInt64(deciders.count))
            let decider = deciders[index]
            switch random.next() % 100 {
            case 0..<55:
                // Decide on something this device believes awaits a decision.
                let waiting = try decider.replica.proposals().filter { $0.proposal.status.awaitsDecision }
                guard !waiting.isEmpty else { continue }
                let proposal = waiting[Int(random.next() % UInt64(waiting.count))].proposal
                let roll = random.next() % 10
                let decisionId = decider.replica.newID()
                var amount: Money? = nil
                let command: RecordDecision
                switch roll {
                case 0: command = RecordDecision(decisionId: decisionId, proposalId: proposal.id, outcome: .rejected, reasons: "Not a priority", ledgerEntryId: decider.replica.newID())
                case 1: command = RecordDecision(decisionId: decisionId, proposalId: proposal.id, outcome: .deferred, ledgerEntryId: decider.replica.newID())
                default:
                    let part = roll == 2
                    amount = part ? Money(pence: max(proposal.amountRequested.pence / 2, 1)) : proposal.amountRequested
                    command = RecordDecision(
                        decisionId: decisionId, proposalId: proposal.id, outcome: .approved, amount: amount,
                        reasons: part ? "Half now, half after review" : "", ledgerEntryId: decider.replica.newID())
                }
                do {
                    try decider.replica.perform(command)
                    if let amount {
                        attempts.append(Attempt(device: index, decisionId: decisionId, proposalId: proposal.id, amount: amount))
                    }
                } catch is LocalityError {
                    // Refused on the device (authority, money as this device sees it): never queued.
                }
            case 55..<92:
                _ = try? await decider.engine.sync()
            default:
                try server.restart()
                result.restarts += 1
            }
        }

        for decider in deciders { decider.transport.setFaults(false) }
        for _ in 0..<2 {
            for decider in deciders + clerks { _ = try await decider.engine.sync() }
        }

        let store = server.store
        // No budget is over-committed; the ledger's commitments are exactly the accepted approvals.
        let (budgets, decided) = try await store.database.read { db -> ([(UUID, BudgetPosition, Int64)], [Decision]) in
            let decisions = try Decision.fetchAll(db)
            let budgets = try Budget.fetchAll(db).map { budget -> (UUID, BudgetPosition, Int64) in
                let approved = try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT COALESCE(SUM(decision.amount), 0) FROM decision JOIN proposal ON proposal.id = decision.proposal_id
                        WHERE proposal.budget_id = ? AND decision.amount IS NOT NULL
                        """, arguments: [budget.id.key]) ?? 0
                return (budget.id, try BudgetPosition.of(budget: budget.id, in: db), approved)
            }
            return (budgets, decisions)
        }
        for (budgetId, position, approved) in budgets {
            guard position.committed <= position.allocated else {
                throw SimulationFailure(description: "budget \(budgetId.key) over-committed: \(position.committed) of \(position.allocated)")
            }
            guard position.committed.pence == approved else {
                throw SimulationFailure(description: "budget \(budgetId.key): ledger commits \(position.committed) but decisions approve \(Money(pence: approved))")
            }
        }
        // At most one final decision per proposal.
        let finals = Dictionary(grouping: decided.filter { $0.outcome != .deferred }, by: \.proposalId)
        if let twice = finals.first(where: { $0.value.count > 1 }) {
            throw SimulationFailure(description: "proposal \(twice.key.key) was decided \(twice.value.count) times")
        }
        // Every approval queued offline is on the ledger, or refused with a reason on its device.
        let onServer = Set(decided.map(\.id))
        for attempt in attempts {
            result.attempts += 1
            if onServer.contains(attempt.decisionId) {
                result.onLedger += 1
                continue
            }
            let rejections = try deciders[attempt.device].replica.rejectedMutations()
            guard
                let rejection = try rejections.first(where: { rejected in
                    try deciders[attempt.device].replica.read { db in
                        try String.fetchOne(
                            db, sql: "SELECT json_extract(arguments, '$.decisionId') FROM rejected_mutation WHERE sequence = ?",
                            arguments: [rejected.sequence]) == attempt.decisionId.key
                    }
                })
            else {
                throw SimulationFailure(description: "approval \(attempt.decisionId.key) is neither on the ledger nor refused on its device")
            }
            switch rejection.code {
            case LocalityError.Code.insufficientFunds.rawValue:
                guard rejection.message.contains(" short: ") else {
                    throw SimulationFailure(description: "a refusal for want of money does not say the shortfall: \(rejection.message)")
                }
                result.shortfalls += 1
            case LocalityError.Code.invalidTransition.rawValue:
                result.alreadyDecided += 1
            default:
                throw SimulationFailure(description: "approval refused for an unexpected reason: \(rejection.code) \(rejection.message)")
            }
        }
        // Every device ends with the server's figures, and the audit trail holds.
        for decider in deciders + clerks {
            for (budgetId, position, _) in budgets {
                let local = try decider.replica.read { try BudgetPosition.of(budget: budgetId, in: $0) }
                guard local == position else {
                    throw SimulationFailure(description: "\(decider.username) shows \(local) for \(budgetId.key); the server \(position)")
                }
            }
        }
        let audit = try await store.database.read { try Audit.verify($0) }
        guard audit.intact, audit.unsealed == 0 else {
            throw SimulationFailure(description: "audit trail: \(String(describing: audit.firstBroken)), \(audit.unsealed) unsealed")
        }
        return result
    }
}
