import ArgumentParser
import Foundation
import LocalityCore

struct CommissionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commission", abstract: "Strategic commissions through the eight stages of the cycle.",
        discussion: """
            Stages: \(Commission.stages.enumerated().map { "\($0.offset + 1) \($0.element.name)" }.joined(separator: "; ")). \
            Each must produce its output before the next may start.
            """,
        subcommands: [List.self, Show.self, Start.self, Record.self, Advance.self, AppraiseOptionCommand.self, Risk.self, ReviewCommission.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List commissions and the stage each has reached.")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let commissions = try home.openReplica().commissions()
            if output.json { return try Output.json(commissions) }
            guard !commissions.isEmpty else { return print("No commissions yet.") }
            Output.table(
                ["Ref", "Stage", "Level", "Where", "Waiting for", "Title"],
                commissions.map {
                    [$0.reference, $0.status == .closed ? "closed" : "\($0.stage) \($0.stageName)", $0.level.rawValue, $0.locality,
                     ($0.blockedBy ?? "ready to advance").clipped(40), $0.title.clipped(36)]
                })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a commission: stage, outputs, options appraisal and risks.")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The commission: its id or short reference.", valueName: "ref")) var ref: String

        func run() throws {
            let view = try home.openReplica().commission(ref)
            if output.json { return try Output.json(view) }
            print("\(view.title) — \(view.level.rawValue), \(view.locality)")
            Output.field("Stage", view.status == .closed ? "closed" : "\(view.stage) of 8: \(view.stageName) (\(view.cycle); \(view.responsible))")
            Output.field("Waiting for", view.blockedBy)
            Output.field("Needs", view.needIds.map(\.shortReference).joined(separator: ", "))
            Output.field("Priority", view.priorityReason)
            Output.field("Outcomes", view.outcomeIds.map(\.shortReference).joined(separator: ", "))
            Output.field("Specification", view.specification)
            Output.field("Proposals", view.proposalIds.map(\.shortReference).joined(separator: ", "))
            Output.field("Award", view.awardId?.shortReference)
            for review in view.reviews {
                Output.field("Review", "\(review.verdict.rawValue) on \(Timestamps.day(review.reviewedAt)): \(review.summary.clipped(60))")
                if !review.lessons.isEmpty { Output.field("Lessons", review.lessons) }
            }
            if !view.options.isEmpty {
                print("")
                Output.table(
                    ["Option", "Score", "Chosen", "Notes"],
                    view.options.map { [$0.deliveryModel.rawValue, "\($0.score)", $0.chosen ? "yes" : "", $0.notes.clipped(50)] })
            }
            if !view.risks.isEmpty {
                print("")
                Output.table(
                    ["Risk", "L×I", "Owner", "Mitigation"],
                    view.risks.map { [$0.description.clipped(40), "\($0.likelihood)×\($0.impact)=\($0.rating)", $0.owner, $0.mitigation.clipped(40)] })
            }
        }
    }

    struct ReviewCommission: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "review",
            abstract: "Review a commission: what it delivered against its outcomes, the verdict and lessons.",
            discussion: """
                A commission is reviewed through what it delivered: its award. The verdict (complete, extend, \
                recommission, scale-up, decommission) and lessons are recorded with outcomes against targets, \
                and lessons can raise new needs (--new-need PLACE=TITLE), so the cycle starts again.
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The commission: its id or short reference.", valueName: "ref")) var ref: String
        @OptionGroup var review: ReviewOptions

        func run() throws {
            let replica = try home.openReplica()
            let commission = try replica.commission(ref)
            guard let awardId = commission.awardId else {
                throw CLIError(
                    "'\(commission.title)' has no award to review yet (it is at stage \(commission.stage), \(commission.stageName)); record its award with `commission record --award`")
            }
            try review.record(replica, awardId: awardId, json: output.json)
        }
    }

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a commission at stage 1 (assess local needs).")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Option(help: "A one-line title.") var title: String
        @Option(help: ArgumentHelp("One of: \(Commission.Level.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "level"))
        var level: String
        @Option(help: ArgumentHelp("Where (id, slug or GSS code).", valueName: "ref")) var locality: String
        @Option(help: ArgumentHelp("A need it answers (short reference); repeat for more.", valueName: "ref")) var need: [String] = []

        func run() throws {
            let replica = try home.openReplica()
            guard let level = Commission.Level(rawValue: level) else {
                throw CLIError("'\(level)' is not a level; use one of: \(Commission.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let (localityId, needIds) = try replica.read { db in
                (try References.locality(locality, db).id, try need.map { try References.need($0, db).id })
            }
            let id = replica.newID()
            let receipt = try replica.perform(StartCommission(commissionId: id, title: title, level: level, localityId: localityId, needIds: needIds))
            try CommissionCommand.done(replica, id, "Started", receipt, json: output.json)
        }
    }

    static func done(_ replica: Replica, _ id: UUID, _ verb: String, _ receipt: MutationReceipt, json: Bool) throws {
        let view = try replica.commission(id.key)
        if json { return try Output.json(view) }
        print("\(verb) '\(view.title)' (\(view.reference)), at stage \(view.stage): \(view.stageName)\(view.status == .closed ? " — closed" : "").")
        if let blocked = view.blockedBy { print("Before it can move on: \(blocked).") }
        print("Queued for sync as change #\(receipt.sequence).")
    }

    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the work of a stage: needs, the prioritisation, outcomes, specification, proposals, award.")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The commission.", valueName: "ref")) var ref: String
        @Option(help: ArgumentHelp("A need (replaces the list); repeat.", valueName: "ref")) var need: [String] = []
        @Option(help: "Stage 2: why these needs come first.") var priority: String?
        @Option(help: ArgumentHelp("Stage 3: an outcome (replaces the list); repeat.", valueName: "ref")) var outcome: [String] = []
        @Option(help: "Stage 4: what is wanted.") var specification: String?
        @Option(help: ArgumentHelp("Stage 5: a proposal or bid received (replaces the list); repeat.", valueName: "ref"))
        var proposal: [String] = []
        @Option(help: ArgumentHelp("Stage 6: the award.", valueName: "ref")) var award: String?

        func run() throws {
            let replica = try home.openReplica()
            let command = try replica.read { db in
                RecordCommissionWork(
                    commissionId: try References.commission(ref, db).id,
                    needIds: need.isEmpty ? nil : try need.map { try References.need($0, db).id }, priorityReason: priority,
                    outcomeIds: outcome.isEmpty ? nil : try outcome.map { try References.outcome($0, db).id }, specification: specification,
                    proposalIds: proposal.isEmpty ? nil : try proposal.map { try References.proposal($0, db).id },
                    awardId: try award.map { try References.award($0, db).id })
            }
            let receipt = try replica.perform(command)
            try CommissionCommand.done(replica, command.commissionId, "Recorded work on", receipt, json: output.json)
        }
    }

    struct Advance: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a commission to its next stage (or close it after stage 8).")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The commission.", valueName: "ref")) var ref: String

        func run() throws {
            let replica = try home.openReplica()
            let commission = try replica.read { try References.commission(ref, $0) }
            let receipt = try replica.perform(AdvanceCommission(commissionId: commission.id, fromStage: commission.stage))
            try CommissionCommand.done(replica, commission.id, "Advanced", receipt, json: output.json)
        }
    }

    struct AppraiseOptionCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "option", abstract: "Record a delivery model in the options appraisal, scored 0–100.")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The commission.", valueName: "ref")) var ref: String
        @Option(help: ArgumentHelp("The delivery model, e.g. social-enterprise.", valueName: "model")) var model: String
        @Option(help: "0 to 100.") var score: Int
        @Option(help: "Why.") var notes: String = ""
        @Flag(help: "This is the option chosen.") var chosen = false

        func run() throws {
            let replica = try home.openReplica()
            let commission = try replica.read { try References.commission(ref, $0) }
            let receipt = try replica.perform(
                AppraiseOption(
                    optionId: replica.newID(), commissionId: commission.id, deliveryModel: try Proposal.DeliveryModel(parsing: model),
                    score: score, notes: notes, chosen: chosen))
            try CommissionCommand.done(replica, commission.id, "Appraised an option for", receipt, json: output.json)
        }
    }

    struct Risk: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a risk to the register: likelihood and impact 1–5, owner, mitigation.")
        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The commission.", valueName: "ref")) var ref: String
        @Option(help: "What could go wrong.") var description: String
        @Option(help: "1 (rare) to 5 (almost certain).") var likelihood: Int
        @Option(help: "1 (minor) to 5 (severe).") var impact: Int
        @Option(help: "Who watches it.") var owner: String
        @Option(help: "What is done about it.") var mitigation: String = ""

        func run() throws {
            let replica = try home.openReplica()
            let commission = try replica.read { try References.commission(ref, $0) }
            let receipt = try replica.perform(
                RecordRisk(
                    riskId: replica.newID(), commissionId: commission.id, description: description, likelihood: likelihood,
                    impact: impact, owner: owner, mitigation: mitigation))
            try CommissionCommand.done(replica, commission.id, "Added a risk to", receipt, json: output.json)
        }
    }
}
