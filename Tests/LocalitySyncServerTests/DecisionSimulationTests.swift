import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

/// Several decision-makers approve proposals against the same budgets while offline, in random
/// orders, through lost, duplicated and unanswered requests and server restarts. After everyone
/// syncs: no budget is over-committed, every approval is on the ledger or was refused (with its
/// shortfall when the money had gone) on the device that made it, and the ledger equals the sum
/// of the accepted decisions. A finance officer, offline too, moves money between the funds
/// (virements) and closes years early, carrying what is uncommitted forward: whichever of a
/// virement, a close and an approval reaches the server second is refused, and money is never
/// made or lost by a transfer. Rerun one seed with `LOCALITY_SIM_SEED=<seed> LOCALITY_DECISION_SIM_SEEDS=1`.
@Suite("Seeded simulation of offline decisions against shared budgets")
struct DecisionSimulationTests {
    static var seeds: [UInt64] { Simulation.seeds(countVariable: "LOCALITY_DECISION_SIM_SEEDS", default: 60) }

    @Test func noBudgetIsEverOverCommittedAndEveryApprovalIsAccountedFor() async throws {
        var totals = (attempts: 0, onLedger: 0, shortfalls: 0, alreadyDecided: 0, restarts: 0, closed: 0, moves: 0, movesApplied: 0)
        defer {
            print("decision simulation: \(Self.seeds.count) seeds from \(Self.seeds.first ?? 0): \(totals.attempts) approvals queued offline, \(totals.onLedger) on the ledger, \(totals.shortfalls) refused for want of money, \(totals.alreadyDecided) refused as already decided, \(totals.closed) refused as their fund's year had closed; \(totals.moves) virements and year closes queued offline, \(totals.movesApplied) applied; \(totals.restarts) server restarts")
        }
        for seed in Self.seeds {
            do {
                let result = try await DecisionSimulation(seed: seed).run()
                totals.attempts += result.attempts
                totals.onLedger += result.onLedger
                totals.shortfalls += result.shortfalls
                totals.alreadyDecided += result.alreadyDecided
                totals.restarts += result.restarts
                totals.closed += result.closed
                totals.moves += result.moves
                totals.movesApplied += result.movesApplied
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
        var closed = 0
        var moves = 0
        var movesApplied = 0
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

        // The finance officer: next year's funds first (online), then virements and closes offline.
        let finance = try await device("finance", 9)
        let funds = ["north", "south"]
        for fund in funds {
            try finance.replica.perform(
                CreateBudget(
                    budgetId: UUID.stable("sim:budget:\(fund)-2027-28"), name: "\(fund) 2027/28", localityId: UUID.stable("demo:locality:\(fund)-area"),
                    financialYear: FinancialYear(startYear: 2027)))
        }
        _ = try await finance.engine.sync()
        finance.transport.setFaults(true)
        var moves: [(kind: String, entry: UUID)] = []

        var attempts: [Attempt] = []
        for _ in 0..<steps {
            if random.next() % 100 < 12 {
                // A virement of up to £10,000 (the finance officer's limit) as this device sees the money, or a year closed.
                let from = Int(random.next() % 2)
                let fromId = UUID.stable("demo:budget:\(funds[from])-2026-27")
                let outEntry = finance.replica.newID()
                let command: any MutationCommand
                if random.next() % 8 == 0 {
                    command = CloseBudgetYear(
                        budgetId: fromId, carryForwardTo: UUID.stable("sim:budget:\(funds[from])-2027-28"), early: true, outEntryId: outEntry,
                        inEntryId: finance.replica.newID())
                } else {
                    let available = try finance.replica.read { try BudgetPosition.of(budget: fromId, in: $0).available }
                    guard available.pence > 0 else { continue }
                    command = TransferBudget(
                        fromBudgetId: fromId, toBudgetId: UUID.stable("demo:budget:\(funds[1 - from])-2026-27"),
                        amount: Money(pence: 1 + Int64(random.next() % UInt64(min(available.pence, 1_000_000)))), reason: "Simulated",
                        outEntryId: outEntry, inEntryId: finance.replica.newID())
                }
                do {
                    try finance.replica.perform(command)
                    moves.append((type(of: command).name.rawValue, command is CloseBudgetYear ? fromId : outEntry))
                } catch is LocalityError {}
                if random.next() % 2 == 0 { _ = try? await finance.engine.sync() }
                continue
            }
            let index = Int(random.next() % UInt64(deciders.count))
            let decider = deciders[index]
            switch random.next() % 100 {
            case 0..<55:
                // Decide on something this device believes awaits a decision.
                let waiting = try decider.replica.proposalRecords().filter { $0.status.awaitsDecision }
                guard !waiting.isEmpty else { continue }
                let proposal = waiting[Int(random.next() % UInt64(waiting.count))]
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

        for decider in deciders + [finance] { decider.transport.setFaults(false) }
        for _ in 0..<2 {
            for decider in deciders + clerks + [finance] { _ = try await decider.engine.sync() }
        }

        let store = server.store
        // No budget is over-committed; the ledger's commitments are exactly the accepted approvals.
        let (budgets, decided, transfers, closedFunds) = try await store.database.read { db -> ([(UUID, BudgetPosition, Int64)], [Decision], (Int64, Int64, Int64, Int64), Set<UUID>) in
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
            let sums = try Row.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(CASE kind WHEN 'transfer-out' THEN amount END), 0) AS moved_out,
                        COALESCE(SUM(CASE kind WHEN 'transfer-in' THEN amount END), 0) AS moved_in,
                        COALESCE(SUM(CASE kind WHEN 'allocation' THEN amount END), 0) AS put_in,
                        (SELECT COUNT(*) FROM ledger_entry WHERE kind = 'transfer-out' AND counterpart_budget_id IS NULL) AS unpaired
                    FROM ledger_entry
                    """)!
            let closed = Set(try String.fetchAll(db, sql: "SELECT id FROM budget WHERE closed_at IS NOT NULL").compactMap(UUID.init(key:)))
            return (budgets, decisions, (sums["moved_out"], sums["moved_in"], sums["put_in"], sums["unpaired"]), closed)
        }
        // Transfers move money, never make or lose it: what all funds hold is what was allocated.
        guard transfers.0 == transfers.1, transfers.3 == 0 else {
            throw SimulationFailure(description: "transfers out \(transfers.0) and in \(transfers.1) do not balance (\(transfers.3) unpaired)")
        }
        let held = budgets.reduce(Int64(0)) { $0 + $1.1.allocated.pence }
        guard held == transfers.2 else {
            throw SimulationFailure(description: "the funds hold \(Money(pence: held)) but \(Money(pence: transfers.2)) was allocated")
        }
        // A closed fund has nothing uncommitted left behind; nothing was committed from it after it closed.
        for (budgetId, position, _) in budgets where closedFunds.contains(budgetId) {
            guard position.available == .zero else {
                throw SimulationFailure(description: "closed fund \(budgetId.key) still has \(position.available) uncommitted")
            }
        }
        // Every virement or close queued offline was applied, or refused on the finance device for a reason.
        let financeRejections = try finance.replica.rejectedMutations()
        for move in moves {
            result.moves += 1
            let applied = try await store.database.read { db in
                move.kind == MutationName.budgetCloseYear.rawValue
                    ? try Bool.fetchOne(db, sql: "SELECT closed_at IS NOT NULL FROM budget WHERE id = ?", arguments: [move.entry.key]) ?? false
                    : try LedgerEntry.exists(db, id: move.entry)
            }
            if applied { result.movesApplied += 1 }
        }
        for rejection in financeRejections {
            guard [LocalityError.Code.insufficientFunds.rawValue, LocalityError.Code.invalidTransition.rawValue].contains(rejection.code) else {
                throw SimulationFailure(description: "a virement or close was refused for an unexpected reason: \(rejection.code) \(rejection.message)")
            }
        }
        guard result.movesApplied + financeRejections.count == result.moves else {
            throw SimulationFailure(description: "\(result.moves) moves queued, \(result.movesApplied) applied and \(financeRejections.count) refused")
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
            case LocalityError.Code.invalidTransition.rawValue where rejection.message.contains(" was closed on "):
                result.closed += 1
            case LocalityError.Code.invalidTransition.rawValue:
                result.alreadyDecided += 1
            default:
                throw SimulationFailure(description: "approval refused for an unexpected reason: \(rejection.code) \(rejection.message)")
            }
        }
        // Every device ends with the server's figures, and the audit trail holds.
        for decider in deciders + clerks + [finance] {
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
