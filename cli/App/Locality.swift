import ArgumentParser
import Foundation
import LocalityCore

@main
struct LocalityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locality",
        abstract: "Locality budgets and community commissioning, offline first.",
        discussion: """
            One home directory is one device: it holds an offline replica of what you may see and \
            the changes you have made, queued for the next sync. Everything works with no signal.

            Start with `locality init --demo --as cllr-north`, then run `locality` for your dashboard.
            """,
        subcommands: [
            Init.self, WhoAmICommand.self, Localities.self, OrgCommand.self, BudgetCommand.self, OutcomeCommand.self,
            NeedCommand.self, ProposalCommand.self, OutboxCommand.self, Login.self, SyncCommand.self, StatusCommand.self,
            RejectedCommand.self, ConflictsCommand.self, DecideCommand.self, DecisionCommand.self, InterestCommand.self,
            ReportCommand.self, AwardCommand.self, RoundCommand.self, AssessCommand.self, CommissionCommand.self, VoteCommand.self, PBCommand.self,
            CheckCommand.self, RecoverCommand.self,
        ])

    @OptionGroup var home: HomeOptions

    /// Runs the command; an error's text, which may quote data, is made safe for the terminal.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as LocalityError where error.code == .deviceRevoked {
            exit(withError: CLIError(TerminalText.safe(error.message) + ".\n" + revokedAdvice()))
        } catch let error as LocalityError {
            exit(withError: LocalityError(error.code, TerminalText.safe(error.message)))
        } catch let error where DatabaseProblem.isFull(error) {
            exit(withError: CLIError(
                "the disk holding this device's data is full, so nothing was changed (\(HomeOptions.opened ?? "this home")). "
                    + "Free some space and run the command again; what was recorded before is kept and still waits to sync."))
        } catch let error where DatabaseProblem.isDamage(error) && HomeOptions.opened != nil {
            exit(withError: damagedReplica(HomeOptions.opened ?? "", error))
        } catch let error as ValidationError {
            exit(withError: ValidationError(TerminalText.safe(error.message)))
        } catch {
            exit(withError: error)
        }
    }

    /// The way out for a revoked device's unsent changes.
    static func revokedAdvice() -> String {
        let path = HomeOptions.opened ?? "this home"
        let home = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let pending = (try? Replica.open(at: path).outbox().count) ?? 0
        guard pending > 0 else {
            return "Nothing more can be sent from this device; it has no changes waiting. Log in from a new home to go on "
                + "(`locality --home NEW login --server URL --user NAME`)."
        }
        let them = pending == 1 ? "it" : "them"
        return """
            Nothing more can be sent from this device. \(Output.count(pending, "change")) waiting to sync \(pending == 1 ? "is" : "are") kept \
            here. To carry \(them) over: `locality --home \(home) outbox export pending.json`, log in from a new home \
            (`locality --home NEW login --server URL --user NAME`), then `locality --home NEW outbox import pending.json`.
            """
    }

    /// With no subcommand: a short dashboard.
    func run() async throws {
        try Dashboard.show(try home.openReplica())
    }
}
