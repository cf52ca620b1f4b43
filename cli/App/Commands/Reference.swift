import ArgumentParser
import Foundation
import LocalityCore

struct OrgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Organisations: parish and town councils, groups, charities…",
        subcommands: [List.self, Add.self, Update.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List organisations and the localities they serve.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let organisations = try home.openReplica().organisations()
            if output.json { return try Output.json(organisations) }
            Output.table(
                ["Organisation", "Kind", "Slug", "Org-id", "Serves"],
                organisations.map {
                    [$0.name, $0.kind.label, $0.slug, $0.orgIdentifier ?? "", $0.localities.joined(separator: ", ")]
                })
        }
    }
}

struct BudgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget", abstract: "Locality budgets and their ledgers.",
        subcommands: [List.self, Show.self, Create.self, Allocate.self, Transfer.self, CloseYear.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List budgets with allocated, committed and available sums.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let budgets = try home.openReplica().budgets()
            if output.json { return try Output.json(budgets) }
            Output.table(
                ["Budget", "Slug", "Year", "Allocated", "Committed", "Available"],
                budgets.map {
                    [$0.name, $0.slug, $0.financialYear.description + ($0.closedAt == nil ? "" : " (closed)"), "\($0.allocated)",
                     "\($0.committed)", "\($0.available)"]
                })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a budget's position and its ledger.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption

        @Argument(help: ArgumentHelp("The budget: id or slug.", valueName: "ref"))
        var ref: String

        func run() throws {
            let budget = try home.openReplica().budget(ref)
            if output.json { return try Output.json(budget) }
            print(budget.name)
            Output.field("Locality", budget.locality)
            Output.field(
                "Financial year",
                budget.financialYear.description + (budget.closedAt.map { " — closed on \(Output.day($0)): nothing more is committed from it" } ?? ""))
            Output.field("Allocated", "\(budget.allocated)")
            Output.field("Committed", "\(budget.committed) (\(budget.paid) paid)")
            Output.field("Available", "\(budget.available)")
            print("")
            Output.table(
                ["Date", "Entry", "Source", "Amount", "Note"],
                budget.ledger.map {
                    [Output.day($0.recordedAt), $0.kind.label, $0.source?.label ?? "", "\($0.amount)", $0.note.clipped(70)]
                })
        }
    }
}

struct OutcomeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outcome", abstract: "The outcomes framework and its indicators.",
        subcommands: [List.self, Add.self, IndicatorCommand.self, Measure.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List outcomes, strategic first, with their indicators and latest figures.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let outcomes = try home.openReplica().outcomes()
            if output.json { return try Output.json(outcomes) }
            for outcome in outcomes {
                print("[\(outcome.level.rawValue)] \(outcome.title)  (\(outcome.slug))")
                for indicator in outcome.indicators {
                    let latest = outcome.measurements.first { $0.indicatorId == indicator.id }
                    let figures = [
                        indicator.baseline.map { "baseline \(format($0))" }, indicator.target.map { "target \(format($0))" },
                        latest.map { "latest \(format($0.value)) on \($0.measuredOn)" },
                    ].compactMap { $0 }.joined(separator: ", ")
                    print("    · \(indicator.name) — \(indicator.unit), \(indicator.direction.rawValue); \(figures)")
                }
            }
        }
    }
}
