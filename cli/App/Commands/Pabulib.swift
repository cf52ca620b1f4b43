import ArgumentParser
import Foundation
import LocalityCore

struct PBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pb",
        abstract: "Participatory budgeting with Pabulib files (pabulib.org): check a file, allocate its budget by a rule.",
        subcommands: [Allocate.self, Check.self])

    static func read(_ path: String) throws -> PBInstance {
        let text: String
        do {
            text = try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8)
        } catch {
            throw CLIError("cannot read \(path): \(FileManager.default.fileExists(atPath: path) ? "it is not UTF-8 text" : "no such file")")
        }
        do {
            return try Pabulib.parse(text)
        } catch let error as PabulibError {
            throw CLIError("\(path): \(error.description); nothing was read")
        }
    }

    struct Allocate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run an allocation rule on a Pabulib file and explain the result.",
            discussion: """
                Rules: \(AllocationRule.allCases.map { "\($0.rawValue) — \($0.summary)" }.joined(separator: "; ")).
                Arithmetic is exact; ties go to the smaller project id, compared as strings. With --json, an \
                object whose `funded` member lists the funded project ids, as written in the file, in \
                ascending order (`order` gives the order the rule chose them).
                """)

        @Argument(help: ArgumentHelp("The Pabulib file.", valueName: "file.pb")) var file: String
        @Option(help: ArgumentHelp("greedy, mes, mes-add1-greedy or phragmen.", valueName: "rule")) var rule: String
        @Option(help: ArgumentHelp(
            "The most work the count may do, in steps (a ballot kind looked at while pricing a project); the count stops with an error past it.",
            valueName: "steps"))
        var maxSteps: Int = CountLimit.standard.steps
        @OptionGroup var output: JSONOption

        struct Result: Encodable {
            var file: String
            var rule: String
            var budget: String
            var spent: String
            var voters: Int
            var funded: [String]
            var order: [String]
            var projects: [Allocation.ProjectResult]
        }

        func run() throws {
            let rule = try AllocationRule(parsing: rule)
            let instance = try PBCommand.read(file)
            guard maxSteps > 0 else { throw ValidationError("--max-steps must be a positive number of steps") }
            let allocation = try AllocationRules.allocate(try instance.election(), rule: rule, limit: CountLimit(steps: maxSteps))
            let names = Dictionary(uniqueKeysWithValues: instance.projects.map { ($0.id, $0.name) })
            if output.json {
                let ascending = allocation.funded.sorted { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
                return try Output.json(Result(
                    file: file, rule: rule.rawValue, budget: allocation.budget.decimal(places: 2), spent: allocation.spent.decimal(places: 2),
                    voters: instance.voters.count, funded: ascending, order: allocation.funded, projects: allocation.projects))
            }
            let currency = instance.metaValue("currency").map { " " + $0 } ?? ""
            print("\(instance.metaValue("description") ?? file): \(instance.voters.count) voters, \(instance.projects.count) projects, budget \(allocation.budget.decimal(places: 2))\(currency)")
            print("Rule: \(rule.rawValue) — \(rule.summary)")
            print("Funded \(allocation.funded.count) project\(allocation.funded.count == 1 ? "" : "s") for \(allocation.spent.decimal(places: 2))\(currency); \((allocation.budget - allocation.spent).decimal(places: 2)) left.\n")
            Output.table(
                ["Project", "Cost", "Votes", "Funded", "Name", "Why"],
                allocation.projects.map {
                    [$0.id, $0.cost.decimal(places: 2), "\($0.approvals)", $0.order.map { "#\($0)" } ?? "no",
                     (names[$0.id] ?? "").clipped(30), $0.explanation]
                })
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a Pabulib file and summarise it; a malformed file is refused with the line and the problem.")

        @Argument(help: ArgumentHelp("The Pabulib file.", valueName: "file.pb")) var file: String
        @OptionGroup var output: JSONOption

        struct Summary: Encodable {
            var description: String
            var voteType: String
            var budget: String
            var projects: Int
            var voters: Int
            var ballotsCast: Int
        }

        func run() throws {
            let instance = try PBCommand.read(file)
            let summary = Summary(
                description: instance.metaValue("description") ?? "", voteType: instance.metaValue("vote_type") ?? "approval",
                budget: try instance.budget.decimal(places: 2), projects: instance.projects.count, voters: instance.voters.count,
                ballotsCast: instance.voters.reduce(0) { $0 + $1.approvals.count })
            if output.json { return try Output.json(summary) }
            print("\(file): well formed.")
            Output.field("Description", summary.description)
            Output.field("Ballot", summary.voteType)
            Output.field("Budget", summary.budget)
            Output.field("Projects", "\(summary.projects)")
            Output.field("Voters", "\(summary.voters) (\(summary.ballotsCast) approvals)")
        }
    }
}
