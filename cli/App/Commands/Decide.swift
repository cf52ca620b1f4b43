import ArgumentParser
import Foundation
import LocalityCore

struct DecideCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decide",
        abstract: "Decide on a submitted proposal: approve (in full or in part), reject or defer.",
        discussion: """
            Who may decide what is set by the authority's scheme of delegation (`locality decision scheme`). \
            Approving commits the amount on the budget's ledger; offline, the decision is shown as awaiting \
            confirmation until the server has checked the money is still there. Reasons are required to \
            reject or to approve less than was asked for.

            Examples:
              locality decide 4f2a9c1e --approve
              locality decide 4f2a9c1e --approve --amount 1500 --reason "Year two to be funded by the parish"
              locality decide 4f2a9c1e --reject --reason "Outside the fund's outcomes"
            """)

    @OptionGroup var home: HomeOptions
    @OptionGroup var output: JSONOption
    @Argument(help: ArgumentHelp("The proposal: its id or short reference.", valueName: "proposal"))
    var proposal: String
    @Flag(help: "Approve it (for the amount requested unless --amount says less).") var approve = false
    @Flag(help: "Reject it (needs --reason).") var reject = false
    @Flag(name: .customLong("defer"), help: "Defer it to a later decision.") var deferDecision = false
    @Option(help: ArgumentHelp("With --approve: the amount to commit, e.g. 1500 or £1,500.00.", valueName: "£"))
    var amount: String?
    @Option(help: "Why: required to reject or to part-fund; shown to the applicant and residents.")
    var reason: String = ""
    @Option(help: ArgumentHelp("A condition of the award; repeat for more.", valueName: "text"))
    var condition: [String] = []

    func validate() throws {
        let chosen = [approve, reject, deferDecision].filter { $0 }.count
        guard chosen == 1 else { throw ValidationError("choose one of --approve, --reject or --defer") }
        if amount != nil, !approve { throw ValidationError("--amount goes with --approve") }
    }

    func run() throws {
        let replica = try home.openReplica()
        let proposalId = try replica.read { try References.proposal(proposal, $0).id }
        let outcome: Decision.Outcome = approve ? .approved : reject ? .rejected : .deferred
        let decisionId = replica.newID()
        let receipt = try replica.perform(
            RecordDecision(
                decisionId: decisionId, proposalId: proposalId, outcome: outcome,
                amount: try amount.map { try Money(parsing: $0) }, reasons: reason,
                conditions: condition.joined(separator: "\n"), ledgerEntryId: replica.newID()))
        guard let view = try replica.decisions().first(where: { $0.id == decisionId }) else {
            throw CLIError("the decision was recorded but cannot be read back; run `locality decision list`")
        }
        if output.json { return try Output.json(view) }
        let what: String =
            switch view.outcome {
            case .approved: "approved, \(view.amountRequested)"
            case .partFunded: "part-funded, \(view.amount ?? .zero) of \(view.amountRequested) requested"
            case .rejected: "rejected"
            case .deferred: "deferred"
            }
        print("Decided: proposal \(view.proposalReference) '\(view.proposalTitle)' \(what).")
        print("Authority: \(view.authority).")
        if view.amount != nil {
            print("Committed on \(view.budget); awaiting confirmation from the server (change #\(receipt.sequence)).")
        } else {
            print("Queued for sync as change #\(receipt.sequence).")
        }
    }
}

struct DecisionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decision", abstract: "Decisions taken, and the scheme of delegation they are taken under.",
        subcommands: [List.self, Scheme.self, Correct.self], defaultSubcommand: List.self)

    struct Correct: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct an approval's ledger with a new entry: release part of its commitment, or record a clawback.",
            discussion: "Ledger entries are never edited or deleted; corrections stay on the ledger with their reason.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The decision (an approval): its id or short reference.", valueName: "decision"))
        var decision: String
        @Option(help: ArgumentHelp("Release this much of the commitment (never below what has been paid).", valueName: "£"))
        var release: String?
        @Option(help: ArgumentHelp("Record this much recovered from the recipient (never more than was paid).", valueName: "£"))
        var clawback: String?
        @Option(help: "Why; kept on the ledger.") var reason: String

        func validate() throws {
            guard (release == nil) != (clawback == nil) else { throw ValidationError("give one of --release or --clawback") }
        }

        func run() throws {
            let replica = try home.openReplica()
            let decisionId = try replica.read { db -> UUID in
                let text = decision.trimmingCharacters(in: .whitespaces).lowercased()
                let ids = try String.fetchAll(db, sql: "SELECT id FROM decision").filter { $0 == text || (text.count >= 6 && $0.hasSuffix(text)) }
                guard ids.count == 1, let id = UUID(key: ids[0]) else {
                    throw CLIError(ids.isEmpty ? "no decision '\(decision)'; `locality decision list` shows them" : "'\(decision)' matches more than one decision; give more of its id")
                }
                return id
            }
            let kind: LedgerEntry.Kind = release != nil ? .decommitment : .clawback
            let receipt = try replica.perform(
                CorrectLedger(
                    ledgerEntryId: replica.newID(), decisionId: decisionId, kind: kind, amount: try Money(parsing: release ?? clawback ?? ""),
                    reason: reason))
            if output.json { return try Output.json(["decisionId": decisionId.key, "kind": kind.rawValue]) }
            print("Recorded a \(kind.rawValue) of \(try Money(parsing: release ?? clawback ?? "")); queued for sync as change #\(receipt.sequence).")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List decisions, newest first.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Option(help: ArgumentHelp("Only decisions on this budget's proposals (id or slug).", valueName: "ref"))
        var budget: String?

        func run() throws {
            let decisions = try home.openReplica().decisions(budget: budget)
            if output.json { return try Output.json(decisions) }
            guard !decisions.isEmpty else { return print("No decisions yet.") }
            Output.table(
                ["Ref", "Date", "Proposal", "Decision", "Amount", "By", "Title"],
                decisions.map {
                    [
                        $0.reference, Output.day($0.decidedAt), $0.proposalReference,
                        $0.outcome.rawValue + ($0.awaitingConfirmation ? " (awaiting confirmation)" : ""),
                        $0.amount.map { "\($0)" } ?? "", $0.decidedBy, $0.proposalTitle.clipped(40),
                    ]
                })
        }
    }

    struct Scheme: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The scheme of delegation: who may decide what, and move how much between funds.",
            subcommands: [SchemeShow.self, SchemeSet.self], defaultSubcommand: SchemeShow.self)
    }

    struct SchemeShow: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show the scheme of delegation in force (or every version, with --all).")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Flag(help: "Every version ever adopted, newest first.") var all = false

        func run() throws {
            let lines = try home.openReplica().read { db in
                all ? try Delegation.history(db) : try Delegation.scheme(db) + Delegation.scheme(db, matter: .virement)
            }
            if output.json { return try Output.json(lines) }
            guard let newest = lines.first else { return print("No scheme of delegation has been adopted yet.") }
            if !all {
                print("Version \(newest.schemeVersion)\(newest.adoptedAt.map { ", adopted \(Output.day($0))" } ?? "")\(newest.note.isEmpty ? "" : ": \(newest.note)")")
            }
            Output.table(
                (all ? ["Version"] : []) + ["For", "Role", "Up to", "Where", "As the scheme says"],
                lines.map {
                    (all ? ["\($0.schemeVersion)"] : [])
                        + [$0.matter == .decision ? "decisions" : "virements", $0.role.rawValue, $0.maxAmount.map { "\($0)" } ?? "no limit",
                           $0.scope == .ownWards ? "own wards" : "the authority", $0.description]
                })
        }
    }
}

struct InterestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interest", abstract: "Declarations of interest.", subcommands: [Declare.self])

    struct Declare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Declare an interest in a proposal: you will not be able to assess or decide it.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The proposal: its id or short reference.", valueName: "proposal"))
        var proposal: String
        @Option(help: "What the interest is, e.g. \"my partner chairs the applicant\". Kept on the record.")
        var interest: String

        func run() throws {
            let replica = try home.openReplica()
            let proposalId = try replica.read { try References.proposal(proposal, $0).id }
            let declarationId = replica.newID()
            let receipt = try replica.perform(
                DeclareInterest(declarationId: declarationId, proposalId: proposalId, interest: interest))
            if output.json {
                return try Output.json(["id": declarationId.key, "proposalId": proposalId.key, "interest": interest])
            }
            print("Declared an interest in proposal \(proposalId.shortReference); queued for sync as change #\(receipt.sequence).")
        }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Positions to take to a meeting.", subcommands: [Budget.self, LocalityReportCommand.self, RoundReport.self])

    struct LocalityReportCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "locality",
            abstract: "A place: the budgets covering it, needs funded and open, awards and their outcomes against targets.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The locality: id, slug or GSS code.", valueName: "ref")) var ref: String

        func run() throws {
            let report = try home.openReplica().localityReport(ref)
            if output.json { return try Output.json(report) }
            print("\(report.name) (\(report.kind))")
            print("")
            Output.table(
                ["Budget", "Allocated", "Committed", "Paid", "Available"],
                report.budgets.map { [$0.name.clipped(40), "\($0.allocated)", "\($0.committed)", "\($0.paid)", "\($0.available)"] })
            print("")
            print("Awards delivering here (\(report.awards.count))")
            ReportCommand.printOutcomes(report.awards)
            print("")
            print("Needs funded (\(report.needsAddressed.count)); needs still open (\(report.needsOpen.count))")
            Output.table(
                ["Ref", "", "Severity", "Where", "Need"],
                report.needsAddressed.map { [$0.reference, "funded", "\($0.severity)", $0.locality, $0.title.clipped(48)] }
                    + report.needsOpen.map { [$0.reference, "open", "\($0.severity)", $0.locality, $0.title.clipped(48)] })
        }
    }

    struct RoundReport: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "round", abstract: "A round: its criteria, the ranking of its proposals, requested and approved.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The round: its id or short reference.", valueName: "ref")) var ref: String

        func run() throws {
            let round = try home.openReplica().round(ref)
            if output.json { return try Output.json(round) }
            RoundCommand.show(round)
        }
    }

    struct Budget: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A budget: allocated, committed, paid and available; what it funds; the needs it meets and leaves open.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The budget: id or slug.", valueName: "ref"))
        var ref: String

        func run() throws {
            let report = try home.openReplica().budgetReport(ref)
            if output.json { return try Output.json(report) }
            print("\(report.name) — \(report.locality), \(report.financialYear)")
            print("")
            let width = 40
            func bar(_ amount: Money) -> String {
                guard report.allocated.pence > 0 else { return "" }
                let filled = Int((Double(amount.pence) / Double(report.allocated.pence) * Double(width)).rounded())
                return String(repeating: "█", count: min(max(filled, 0), width)) + String(repeating: "·", count: width - min(max(filled, 0), width))
            }
            for (label, amount) in [("Allocated", report.allocated), ("Committed", report.committed), ("Paid", report.paid), ("Available", report.available)] {
                print("\(label.padding(toLength: 10, withPad: " ", startingAt: 0)) \(bar(amount)) \("\(amount)".leftPadded(14))")
            }
            if !report.allocations.isEmpty {
                print("")
                print("From: " + report.allocations.map { "\($0.source) \($0.amount)" }.joined(separator: "; "))
            }
            print("")
            print("Funded (\(report.funded.count))")
            Output.table(
                ["Ref", "Amount", "Decided", "Organisation", "Title"],
                report.funded.map {
                    ["\($0.proposalReference)", "\($0.amount)", Output.day($0.decidedAt) + ($0.awaitingConfirmation ? " (unconfirmed)" : ""),
                     $0.organisation.clipped(30), $0.title.clipped(40)]
                })
            print("")
            print("Awaiting a decision (\(report.awaitingDecision.count))")
            Output.table(
                ["Ref", "Requested", "Status", "Organisation", "Title"],
                report.awaitingDecision.map {
                    [$0.proposalReference, "\($0.amountRequested)", $0.status.rawValue, $0.organisation.clipped(30), $0.title.clipped(40)]
                })
            if !report.awards.isEmpty {
                print("")
                print("Outcomes against targets")
                ReportCommand.printOutcomes(report.awards)
            }
            print("")
            print("Needs addressed by funded proposals (\(report.needsAddressed.count)); needs still open (\(report.needsOpen.count))")
            Output.table(
                ["Ref", "", "Severity", "Where", "Need"],
                report.needsAddressed.map { [$0.reference, "funded", "\($0.severity)", $0.locality, $0.title.clipped(48)] }
                    + report.needsOpen.map { [$0.reference, "open", "\($0.severity)", $0.locality, $0.title.clipped(48)] })
        }
    }
}

extension ReportCommand {
    /// Each award with its payments, and each indicator's latest measurement against its target as a bar.
    static func printOutcomes(_ awards: [LocalityReport.AwardLine]) {
        for award in awards {
            print("  \(award.reference)  \(award.title) — \(award.organisation): \(award.paid) of \(award.amount) paid")
            for outcome in award.outcomes {
                let share = outcome.latest.map { outcome.target == 0 ? 0 : min(max($0 / outcome.target, 0), 1) } ?? 0
                let filled = Int((share * 20).rounded())
                let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 20 - filled)
                print("      \(outcome.indicator): \(bar) \(outcome.latest.map { "\($0)" } ?? "not yet measured") of \(outcome.target) \(outcome.unit)")
            }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
