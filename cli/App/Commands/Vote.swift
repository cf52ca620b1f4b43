import ArgumentParser
import Foundation
import LocalityCore

struct VoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vote",
        abstract: "Participatory budgeting: residents vote on a round's proposals; the budget is allocated by a stated rule.",
        discussion: """
            An officer opens a vote on a round's submitted proposals, fixing the ballot, the dates, the money \
            and the rule (greedy, mes, mes-add1-greedy, phragmen). Residents vote from their own account; \
            officers and the area's councillors capture paper ballots at events, offline, each with its \
            serial number and the one-time voting code printed on it. The server counts each voter once; a \
            duplicate is refused at sync and shown by `locality rejected` on the device that captured it. \
            Closing the vote counts it on the server and records the decisions and commitments.
            """,
        subcommands: [List.self, Show.self, Open.self, Cast.self, Close.self, Ballots.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List votes.")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let votes = try home.openReplica().votes()
            if output.json { return try Output.json(votes) }
            guard !votes.isEmpty else { return print("No votes yet. An officer opens one with `locality vote open`.") }
            Output.table(
                ["Ref", "Opens", "Closes", "Status", "Rule", "Amount", "Proposals", "Title"],
                votes.map {
                    [$0.reference, $0.opensOn, $0.closesOn, $0.takingBallots ? "voting" : $0.status.rawValue, $0.rule.rawValue,
                     "\($0.amount)", "\($0.proposals.count)", $0.title.clipped(40)]
                })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a vote: its ballot, and once counted, what was funded and why.")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The vote: its id, short reference or title.", valueName: "vote")) var ref: String

        func run() throws {
            let view = try home.openReplica().vote(ref)
            if output.json { return try Output.json(view) }
            print("\(view.title) — \(view.round)")
            Output.field("Status", view.takingBallots ? "open for voting" : view.status == .closing ? "closed here; awaiting the server's count" : view.status.rawValue)
            Output.field("Voting", "\(view.opensOn) to \(view.closesOn)")
            let limits = [view.minChoices.map { "at least \($0)" }, view.maxChoices.map { "at most \($0)" }].compactMap { $0 }
            Output.field(
                "Ballot",
                view.ballotType == .knapsack
                    ? "knapsack: choose proposals costing \(view.amount) or less in all"
                    : "approval: choose any\(limits.isEmpty ? "" : " (" + limits.joined(separator: ", ") + ")")")
            Output.field("Rule", "\(view.rule.rawValue) — \(view.ruleSummary)")
            Output.field("Allocating", "\(view.amount) from \(view.budget)")
            Output.field("Your ballot", view.yourBallot)
            if view.ballotsAwaitingSync > 0 { Output.field("On this device", "\(view.ballotsAwaitingSync) ballot(s) waiting to sync") }
            print("")
            Output.table(
                ["#", "Ref", "Cost", "Organisation", "Proposal"],
                view.proposals.map { ["\($0.number)", $0.reference, "\($0.amount)", $0.organisation.clipped(28), $0.title.clipped(44)] })
            guard let result = view.result else { return }
            print("\nCounted \(Output.count(view.ballotsCounted ?? 0, "ballot")) by \(result.rule.rawValue): \(result.funded.count) funded for \(result.spent).")
            Output.table(
                ["Funded", "Votes", "Cost", "Proposal", "Why"],
                result.projects.map { [$0.order.map { "#\($0)" } ?? "no", "\($0.approvals)", "\($0.amount)", $0.title.clipped(36), $0.explanation] })
        }
    }

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a vote on a round's submitted proposals (officers). The rule and ballot cannot change afterwards.",
            discussion: """
                Example:
                  locality vote open ledwyche-you-decide --title "Ledwyche: You Decide" --rule mes-add1-greedy \\
                    --amount 10000 --opens today --closes 2026-12-12 --all-submitted --max 3
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The round: its id or short reference.", valueName: "round")) var round: String
        @Option(help: "The vote's title, as residents will see it.") var title: String
        @Option(help: ArgumentHelp("greedy, mes, mes-add1-greedy or phragmen.", valueName: "rule")) var rule: String
        @Option(help: ArgumentHelp("The money to allocate, e.g. 10000 or £10,000.", valueName: "£")) var amount: String
        @Option(help: ArgumentHelp("First day of voting (YYYY-MM-DD or today).", valueName: "day")) var opens: String
        @Option(help: ArgumentHelp("Last day of voting (YYYY-MM-DD or today).", valueName: "day")) var closes: String
        @Option(help: ArgumentHelp("approval (the default) or knapsack.", valueName: "type")) var ballot = "approval"
        @Option(help: "Approval ballots: the fewest proposals a voter must choose.") var min: Int?
        @Option(help: "Approval ballots: the most proposals a voter may choose.") var max: Int?
        @Option(help: ArgumentHelp("A proposal on the ballot; repeat for each.", valueName: "ref")) var proposal: [String] = []
        @Flag(help: "Put every submitted proposal of the round on the ballot.") var allSubmitted = false

        func run() throws {
            let replica = try home.openReplica()
            let rule = try AllocationRule(parsing: rule)
            guard let ballotType = Vote.BallotType(rawValue: ballot) else {
                throw CLIError("--ballot '\(ballot)' must be approval or knapsack")
            }
            let today = Timestamps.day(replica.environment.now())
            let (roundId, proposals) = try replica.read { db -> (UUID, [UUID]) in
                let round = try References.round(round, db)
                var ids = try proposal.map { try References.proposal($0, db).id }
                if allSubmitted {
                    ids += try String.fetchAll(
                        db, sql: "SELECT id FROM proposal WHERE round_id = ? AND status = 'submitted' ORDER BY title", arguments: [round.id.key]
                    ).compactMap(UUID.init(key:)).filter { !ids.contains($0) }
                }
                return (round.id, ids)
            }
            guard !proposals.isEmpty else { throw CLIError("name the proposals on the ballot with --proposal, or give --all-submitted") }
            let voteId = replica.newID()
            let receipt = try replica.perform(
                OpenVote(
                    voteId: voteId, roundId: roundId, title: title, ballotType: ballotType, minChoices: min, maxChoices: max, rule: rule,
                    amount: try Money(parsing: amount), opensOn: opens == "today" ? today : opens, closesOn: closes == "today" ? today : closes,
                    proposalIds: proposals))
            let view = try replica.vote(voteId.key)
            if output.json { return try Output.json(view) }
            print("Opened vote \(view.reference) '\(view.title)': \(Output.count(view.proposals.count, "proposal")), \(view.amount), \(view.rule.rawValue), \(view.opensOn) to \(view.closesOn).")
            print("Queued for sync as change #\(receipt.sequence).")
        }
    }

    struct Cast: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cast a ballot: your own as a resident, or a paper ballot captured with --paper and --code.",
            discussion: """
                Choose proposals by their number on the ballot (`locality vote show`) or their reference. \
                Paper ballots are captured one by one, offline if need be; each needs its serial number and \
                the one-time voting code printed on it. The server counts each code once: a duplicate is \
                refused at sync and listed by `locality rejected`.
                  locality vote cast 5c1e9a20 --choose 1 --choose 3
                  locality vote cast 5c1e9a20 --paper 0042 --code K7QF-2M9X --choose 2 --choose 4
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The vote: its id, short reference or title.", valueName: "vote")) var ref: String
        @Option(help: ArgumentHelp("A proposal chosen: its number on the ballot or its reference; repeat.", valueName: "n|ref"))
        var choose: [String] = []
        @Option(help: ArgumentHelp("A paper ballot's serial number.", valueName: "serial")) var paper: String?
        @Option(help: ArgumentHelp("The voting code printed on the paper ballot or poll card.", valueName: "code")) var code: String?

        func run() throws {
            let replica = try home.openReplica()
            let view = try replica.vote(ref)
            guard !choose.isEmpty else { throw CLIError("choose at least one proposal with --choose (its number on the ballot)") }
            let choices = try choose.map { choice -> UUID in
                if let number = Int(choice) {
                    guard let line = view.proposals.first(where: { $0.number == number }) else {
                        throw CLIError("there is no proposal \(number) on the ballot; it has 1 to \(view.proposals.count)")
                    }
                    return line.id
                }
                return try replica.read { try References.proposal(choice, $0).id }
            }
            let receipt = try replica.perform(
                CastBallot(ballotId: replica.newID(), voteId: view.id, proposalIds: choices, paperSerial: paper, voterCode: code))
            if output.json { return try Output.json(try replica.vote(view.id.key)) }
            print("\(paper.map { "Captured ballot paper \($0)" } ?? "Cast your ballot") in '\(view.title)': \(choices.count) choice\(choices.count == 1 ? "" : "s").")
            print("Queued for sync as change #\(receipt.sequence); it leaves this device once the server has counted it in.")
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a vote on or after its last day (officers): the server counts it and records the decisions.")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The vote: its id, short reference or title.", valueName: "vote")) var ref: String

        func run() throws {
            let replica = try home.openReplica()
            let view = try replica.vote(ref)
            let receipt = try replica.perform(CloseVote(voteId: view.id))
            if output.json { return try Output.json(try replica.vote(view.id.key)) }
            print("Closed '\(view.title)'. The server counts it by \(view.rule.rawValue) when this device syncs (change #\(receipt.sequence));")
            print("then `locality vote show \(view.reference)` shows what was funded and why.")
            let waiting = try replica.pendingBallots().filter { $0.vote == view.title }.count
            print(
                "Paper ballots captured offline on other devices count only if they reach the server before this close does"
                    + (waiting > 0 ? "; \(Output.count(waiting, "ballot")) captured on this device will go first, in order." : ": make sure every device that captured ballots has synced first."))
        }
    }

    struct Ballots: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ballots captured on this device and not yet counted in by the server (no voting codes shown).")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let ballots = try home.openReplica().pendingBallots()
            if output.json { return try Output.json(ballots) }
            guard !ballots.isEmpty else { return print("No ballots waiting to sync on this device.") }
            Output.table(
                ["Paper", "Choices", "Captured", "Vote"],
                ballots.map { [$0.paperSerial ?? "(online)", "\($0.choices)", Timestamps.format($0.castAt), $0.vote.clipped(40)] })
        }
    }
}
