import ArgumentParser
import Foundation
import LocalityCore

struct ProposalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proposal", abstract: "Funding proposals from parish and community groups.",
        subcommands: [Draft.self, Edit.self, Submit.self, Withdraw.self, List.self, Show.self],
        defaultSubcommand: List.self)

    struct Draft: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draft a proposal for your organisation against a locality budget (works offline).",
            discussion: """
                Amounts are typed as £1,250.50, 1250.5 or 1250. A draft can be edited until it is submitted; \
                it needs a summary before it can be submitted. Example:
                  locality proposal draft --budget north-2026-27 --title "Market-day minibus" \\
                    --amount "£4,800" --summary "A volunteer minibus to the surgery" --need 1a2b3c4d
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption

        @Option(help: ArgumentHelp("The budget: id or slug (see `locality budget list`).", valueName: "ref"))
        var budget: String
        @Option(help: ArgumentHelp(
            "Your organisation: id, slug or org-id (default: yours, if you belong to just one).", valueName: "ref"))
        var org: String?
        @Option(help: "A one-line title.")
        var title: String
        @Option(help: ArgumentHelp("The sum requested, e.g. £1,250.50.", valueName: "amount"))
        var amount: String
        @Option(help: "What the proposal will do.")
        var summary: String = ""
        @Option(help: ArgumentHelp(
            "Where it will happen (default: the place your organisation serves within the budget's area).",
            valueName: "ref"))
        var locality: String?
        @Option(help: ArgumentHelp("A need it addresses (id or short reference); repeat for more.", valueName: "id"))
        var need: [String] = []
        @Option(help: ArgumentHelp("An outcome it targets (id or slug); repeat for more.", valueName: "ref"))
        var outcome: [String] = []
        @Option(help: ArgumentHelp(
            "How it will be delivered: \(Proposal.DeliveryModel.allCases.map(\.rawValue).joined(separator: ", ")).",
            valueName: "model"))
        var deliveryModel: String?
        @Option(help: "The social value it brings (Social Value Act 2012).")
        var socialValue: String = ""
        @Option(help: ArgumentHelp("The funding round to enter it into (see `locality round list`).", valueName: "ref"))
        var round: String?

        func run() throws {
            let replica = try home.openReplica()
            let money = try Money(parsing: amount)
            let roundId = try round.map { ref in try replica.read { try References.round(ref, $0).id } }
            let (budgetId, organisationId, localityId, needIds, outcomeIds) = try replica.read { db in
                let budget = try References.budget(budget, db)
                let actor = try Actor.acting(in: db)
                let organisation = try org.map { try References.organisation($0, db) }
                    ?? References.soleOrganisation(of: actor, db)
                // Say "not your organisation" before anything about where it serves.
                try Policy.requireMember(actor, of: organisation, to: "draft proposals")
                let locality = try locality.map { try References.locality($0, db).id }
                    ?? References.defaultProposalLocality(for: organisation, in: budget, db)
                return (
                    budget.id, organisation.id, locality, try need.map { try References.need($0, db).id },
                    try outcome.map { try References.outcome($0, db).id }
                )
            }
            var command = DraftProposal(
                proposalId: replica.newID(), budgetId: budgetId, organisationId: organisationId, localityId: localityId,
                title: title, amountRequested: money)
            command.summary = summary
            command.needIds = needIds
            command.outcomeIds = outcomeIds
            command.deliveryModel = try deliveryModel.map(Proposal.DeliveryModel.init(parsing:))
            command.socialValue = socialValue
            command.roundId = roundId
            let mutation = try replica.perform(command)
            try ProposalCommand.report(replica.proposal(command.proposalId.key), mutation, verb: "Drafted", json: output.json)
        }
    }

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a draft proposal; fields not given are left as they are.",
            discussion: "Giving --need or --outcome replaces the whole list.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The proposal: its id or short reference.", valueName: "id"))
        var id: String

        @Option var title: String?
        @Option var summary: String?
        @Option(help: ArgumentHelp("The sum requested, e.g. £1,250.50.", valueName: "amount"))
        var amount: String?
        @Option(help: ArgumentHelp("Where it will happen.", valueName: "ref"))
        var locality: String?
        @Option(help: ArgumentHelp("A need it addresses; repeat for more (replaces the list).", valueName: "id"))
        var need: [String] = []
        @Option(help: ArgumentHelp("An outcome it targets; repeat for more (replaces the list).", valueName: "ref"))
        var outcome: [String] = []
        @Option(help: ArgumentHelp("How it will be delivered.", valueName: "model"))
        var deliveryModel: String?
        @Option var socialValue: String?

        func run() throws {
            try ProposalCommand.change(home, id, verb: "Edited", json: output.json) { replica, proposalId in
                var command = try replica.read { db in
                    var command = EditProposal(proposalId: proposalId)
                    command.localityId = try locality.map { try References.locality($0, db).id }
                    command.needIds = need.isEmpty ? nil : try need.map { try References.need($0, db).id }
                    command.outcomeIds = outcome.isEmpty ? nil : try outcome.map { try References.outcome($0, db).id }
                    return command
                }
                command.title = title
                command.summary = summary
                command.amountRequested = try amount.map(Money.init(parsing:))
                command.deliveryModel = try deliveryModel.map(Proposal.DeliveryModel.init(parsing:))
                command.socialValue = socialValue
                return command
            }
        }
    }

    struct Submit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit a draft proposal for assessment, into an open funding round.",
            discussion: """
                Proposals are submitted into an open round only. A proposal drafted with --round goes \
                into that round; otherwise give --round here, or it goes into its budget's open round \
                that closes soonest and will take it. `locality round list` shows the rounds.
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The proposal: its id or short reference.", valueName: "id"))
        var id: String
        @Option(help: ArgumentHelp("The open round to submit it into (see `locality round list`).", valueName: "ref"))
        var round: String?

        func run() throws {
            try ProposalCommand.change(home, id, verb: "Submitted", json: output.json) { replica, proposalId in
                let roundId = try round.map { ref in try replica.read { try References.round(ref, $0).id } }
                return SubmitProposal(proposalId: proposalId, roundId: roundId)
            }
        }
    }

    struct Withdraw: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw a proposal. This cannot be undone.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The proposal: its id or short reference.", valueName: "id"))
        var id: String
        @Option(help: "Why it is withdrawn.")
        var reason: String?

        func run() throws {
            try ProposalCommand.change(home, id, verb: "Withdrew", json: output.json) { _, proposalId in
                WithdrawProposal(proposalId: proposalId, reason: reason)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List proposals, newest first.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Flag(help: "Only your organisations' proposals.")
        var mine = false

        func run() throws {
            let replica = try home.openReplica()
            let proposals = try replica.proposals(organisationIds: mine ? try replica.actor().organisationIds : nil)
            if output.json { return try Output.json(proposals) }
            guard !proposals.isEmpty else { return print("No proposals yet.") }
            ProposalCommand.table(proposals)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one proposal.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The proposal: its id or short reference.", valueName: "id"))
        var id: String

        func run() throws {
            let view = try home.openReplica().proposal(id)
            if output.json { return try Output.json(view) }
            let proposal = view.proposal
            print(proposal.title)
            Output.field("Reference", "\(view.reference)  (\(proposal.id.key))")
            Output.field("Status", proposal.status.rawValue + (proposal.statusReason.map { " — \($0)" } ?? ""))
            Output.field("Organisation", view.organisation)
            Output.field("Budget", view.budget)
            Output.field("Locality", view.locality)
            Output.field("Requested", "\(proposal.amountRequested)")
            Output.field("Delivery model", proposal.deliveryModel?.rawValue)
            Output.field("Needs", view.needIds.map(\.shortReference).joined(separator: ", "))
            Output.field("Outcomes", view.outcomeIds.count == 0 ? nil : "\(view.outcomeIds.count)")
            Output.field("Created", Output.moment(proposal.createdAt))
            Output.field("Submitted", proposal.submittedAt.map(Output.moment))
            if !proposal.summary.isEmpty { print("\n\(proposal.summary)") }
            if !proposal.socialValue.isEmpty { print("\nSocial value: \(proposal.socialValue)") }
        }
    }

    /// Resolves the proposal `ref`, performs the change `make` builds for it, and reports the result.
    static func change<Command: MutationCommand>(
        _ home: HomeOptions, _ ref: String, verb: String, json: Bool, _ make: (Replica, UUID) throws -> Command
    ) throws {
        let replica = try home.openReplica()
        let proposalId = try replica.read { try References.proposal(ref, $0).id }
        let receipt = try replica.perform(try make(replica, proposalId))
        try report(replica.proposal(proposalId.key), receipt, verb: verb, json: json)
    }

    static func report(_ view: ProposalView, _ mutation: MutationReceipt, verb: String, json: Bool) throws {
        if json { return try Output.json(view) }
        let proposal = view.proposal
        print("\(verb) proposal \(view.reference) '\(proposal.title)' for \(proposal.amountRequested) (\(proposal.status.rawValue)).")
        print("Queued for sync as change #\(mutation.sequence) (\(mutation.name.rawValue)).")
    }

    static func table(_ proposals: [ProposalView]) {
        Output.table(
            ["Ref", "Status", "Requested", "Organisation", "Title"],
            proposals.map {
                [$0.reference, $0.proposal.status.rawValue, "\($0.proposal.amountRequested)", $0.organisation, $0.proposal.title.clipped(48)]
            })
    }
}
