import ArgumentParser
import Foundation
import LocalityCore

struct RoundCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "round", abstract: "Funding rounds: calls for proposals with weighted criteria.",
        subcommands: [List.self, Show.self, Open.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List rounds, newest first.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let rounds = try home.openReplica().rounds()
            if output.json { return try Output.json(rounds) }
            guard !rounds.isEmpty else { return print("No rounds yet.") }
            Output.table(
                ["Ref", "Opens", "Closes", "Open", "Proposals", "Budget", "Title"],
                rounds.map {
                    [$0.reference, $0.opensOn, $0.closesOn, $0.isOpen ? "yes" : "no", "\($0.ranking.count)", $0.budget.clipped(30),
                     $0.title.clipped(40)]
                })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a round: its criteria and the ranking of its proposals.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The round: its id or short reference.", valueName: "ref")) var ref: String

        func run() throws {
            let round = try home.openReplica().round(ref)
            if output.json { return try Output.json(round) }
            RoundCommand.show(round)
        }
    }

    static func show(_ round: RoundView) {
        print("\(round.title) — \(round.budget)")
        Output.field("Round", "\(round.reference), \(round.opensOn) to \(round.closesOn) (\(round.isOpen ? "open" : "closed"))")
        Output.field("Largest award", round.maxAward.map { "\($0)" })
        Output.field("Assessed by", round.councillorsAssess ? "officers and ward councillors" : "officers")
        Output.field("Requested", "\(round.requested); approved \(round.approved)")
        print("")
        Output.table(
            ["Criterion", "Weight", "Scale", "Guidance"],
            round.criteria.map { [$0.name, "\($0.weight)", "0–\($0.scaleMax)", $0.guidance.clipped(50)] })
        guard !round.ranking.isEmpty else { return }
        print("")
        Output.table(
            ["#", "Ref", "Total", "Score", "Moderation", "Assessors", "Status", "Requested", "Title"],
            round.ranking.map {
                ["\($0.rank)", $0.proposalReference, String(format: "%.1f", $0.total), String(format: "%.1f", $0.weightedScore),
                 $0.moderation == 0 ? "" : String(format: "%+.1f", $0.moderation), "\($0.assessors)\($0.complete ? "" : " (incomplete)")",
                 $0.status.rawValue, "\($0.amountRequested)", $0.title.clipped(36)]
            })
    }

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a funding round on a budget (officers).",
            discussion: """
                Criteria are NAME;WEIGHT;SCALE[;GUIDANCE], scored from 0 to SCALE. A short set suits small grants:

                  locality round open --budget north-2026-27 --title "Small grants winter 2026" \\
                    --opens 2026-11-01 --closes 2027-01-31 --max-award 5000 \\
                    --criterion "Fit to priority needs;40;5" --criterion "Value for money;30;5" \\
                    --criterion "Deliverability and risk;30;5" --councillors-assess
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Option(help: ArgumentHelp("The budget: id or slug.", valueName: "ref")) var budget: String
        @Option(help: "A one-line title.") var title: String
        @Option(help: ArgumentHelp("First day proposals may be submitted.", valueName: "date")) var opens: String
        @Option(help: ArgumentHelp("Last day proposals may be submitted.", valueName: "date")) var closes: String
        @Option(help: ArgumentHelp("The largest award, e.g. 5000.", valueName: "£")) var maxAward: String?
        @Option(help: ArgumentHelp("Only proposals in this place (id, slug or GSS code); repeat for more.", valueName: "ref"))
        var locality: [String] = []
        @Option(help: ArgumentHelp("Only organisations of this kind; repeat for more.", valueName: "kind")) var orgKind: [String] = []
        @Option(help: ArgumentHelp("A need the round targets (short reference); repeat for more.", valueName: "ref")) var need: [String] = []
        @Option(help: ArgumentHelp("An outcome the round targets (id or slug); repeat for more.", valueName: "ref")) var outcome: [String] = []
        @Option(help: ArgumentHelp("NAME;WEIGHT;SCALE[;GUIDANCE]; repeat for each criterion.", valueName: "criterion"))
        var criterion: [String] = []
        @Flag(help: "Let the ward councillors assess as well as officers.") var councillorsAssess = false

        func run() throws {
            let replica = try home.openReplica()
            let criteria = try criterion.map { text -> OpenRound.CriterionInput in
                let parts = text.split(separator: ";", maxSplits: 3, omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count >= 3, let weight = Int(parts[1]), let scale = Int(parts[2]) else {
                    throw CLIError("--criterion '\(text)' needs NAME;WEIGHT;SCALE, e.g. \"Value for money;30;5\"")
                }
                return OpenRound.CriterionInput(
                    id: replica.newID(), name: parts[0], weight: weight, scaleMax: scale, guidance: parts.count > 3 ? parts[3] : "")
            }
            let kinds = try orgKind.map { text -> Organisation.Kind in
                guard let kind = Organisation.Kind(rawValue: text) else {
                    throw CLIError("'\(text)' is not a kind of organisation; use one of: \(Organisation.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return kind
            }
            let (budgetId, localityIds, needIds, outcomeIds) = try replica.read { db in
                (try References.budget(budget, db).id, try locality.map { try References.locality($0, db).id },
                 try need.map { try References.need($0, db).id }, try outcome.map { try References.outcome($0, db).id })
            }
            let roundId = replica.newID()
            let receipt = try replica.perform(
                OpenRound(
                    roundId: roundId, budgetId: budgetId, title: title, opensOn: opens, closesOn: closes,
                    maxAward: try maxAward.map { try Money(parsing: $0) }, localityIds: localityIds, organisationKinds: kinds,
                    needIds: needIds, outcomeIds: outcomeIds, councillorsAssess: councillorsAssess, criteria: criteria))
            let view = try replica.round(roundId.key)
            if output.json { return try Output.json(view) }
            print("Opened round \(view.reference) '\(view.title)'; queued for sync as change #\(receipt.sequence).")
        }
    }
}

struct AssessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assess", abstract: "Score a proposal in a round against its criteria, or moderate its total.",
        discussion: """
            Declare any interest first (`locality interest declare`); with none, confirm it with --no-interest.
              locality assess 4f2a9c1e --no-interest --score "Fit to priority needs=4" --score "Value for money=3" \\
                --comment "Value for money=Quotes are high"
              locality assess 4f2a9c1e --moderate -5 --reason "Scored before the site visit"
            """)

    @OptionGroup var home: HomeOptions
    @OptionGroup var output: JSONOption
    @Argument(help: ArgumentHelp("The proposal: its id or short reference.", valueName: "proposal")) var proposal: String
    @Flag(help: "Declare that you have no interest in the proposal.") var noInterest = false
    @Option(help: ArgumentHelp("CRITERION=SCORE; repeat for each criterion.", valueName: "score")) var score: [String] = []
    @Option(help: ArgumentHelp("CRITERION=TEXT; a comment on a score.", valueName: "comment")) var comment: [String] = []
    @Option(help: ArgumentHelp("Officers: move the weighted total by these points (-100 to 100).", valueName: "points"))
    var moderate: Double?
    @Option(help: "Why, for a moderation.") var reason: String = ""

    func run() throws {
        let replica = try home.openReplica()
        let proposalRecord = try replica.read { try References.proposal(proposal, $0) }
        let receipt: MutationReceipt
        if let moderate {
            receipt = try replica.perform(
                ModerateAssessment(moderationId: replica.newID(), proposalId: proposalRecord.id, adjustment: moderate, reason: reason))
        } else {
            guard let roundId = proposalRecord.roundId else {
                throw CLIError("proposal \(proposalRecord.id.shortReference) is not in a funding round, so it has no criteria to score")
            }
            let criteria = try replica.round(roundId.key).criteria
            func split(_ text: String, _ option: String) throws -> (Criterion, String) {
                guard let index = text.lastIndex(of: "=") ?? nil, let criterion = criteria.first(where: {
                    $0.name.caseInsensitiveCompare(String(text[..<index]).trimmingCharacters(in: .whitespaces)) == .orderedSame
                }) else {
                    throw CLIError("--\(option) '\(text)' needs CRITERION=VALUE with one of: \(criteria.map(\.name).joined(separator: "; "))")
                }
                return (criterion, String(text[text.index(after: index)...]).trimmingCharacters(in: .whitespaces))
            }
            var comments: [UUID: String] = [:]
            for text in comment {
                let (criterion, value) = try split(text, "comment")
                comments[criterion.id] = value
            }
            let scores = try score.map { text -> ScoreProposal.Score in
                let (criterion, value) = try split(text, "score")
                guard let number = Int(value) else { throw CLIError("--score '\(text)': the score must be a whole number") }
                return ScoreProposal.Score(id: replica.newID(), criterionId: criterion.id, score: number, comment: comments[criterion.id] ?? "")
            }
            receipt = try replica.perform(ScoreProposal(proposalId: proposalRecord.id, declaresNoInterest: noInterest, scores: scores))
        }
        let round = try replica.round(proposalRecord.roundId?.key ?? "")
        if output.json { return try Output.json(round) }
        if let ranked = round.ranking.first(where: { $0.proposalId == proposalRecord.id }) {
            print("'\(ranked.title)' now stands at \(String(format: "%.1f", ranked.total)) (#\(ranked.rank) of \(round.ranking.count) in '\(round.title)').")
        }
        print("Queued for sync as change #\(receipt.sequence).")
    }
}
