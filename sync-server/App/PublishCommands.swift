import ArgumentParser
import Foundation
import LocalityCore
import LocalitySyncServer

/// Open data: what the council decided, in the standards' own formats.
struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish", abstract: "Publish what was decided as open data.", subcommands: [ThreeSixtyGivingCommand.self])

    struct ThreeSixtyGivingCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "360giving",
            abstract: "Every award as a 360Giving grant (data standard 1.4), in a 360Giving JSON package.",
            discussion: """
                Grant ids and the ids of groups with no registered number use the council's registered 360Giving \
                prefix (--prefix, remembered for next time). Money is in pounds; payments are disbursement \
                transactions. Needs, drafts, scores, declarations, ballots and bank details are never published.
                  locality-sync publish 360giving --prefix 360G-shropshire --year 2026/27 --out grants.json
                """)

        @OptionGroup var database: DatabaseOption
        @Option(help: ArgumentHelp("Only awards from funds of this financial year, e.g. 2026/27.", valueName: "year")) var year: String?
        @Option(help: ArgumentHelp("Write the package here instead of standard output.", valueName: "file")) var out: String?
        @Option(help: ArgumentHelp("The council's registered 360Giving prefix, e.g. 360G-shropshire.", valueName: "prefix")) var prefix: String?

        func run() throws {
            let financialYear = try year.map { try FinancialYear(parsing: $0) }
            let package: JSONValue
            do {
                package = try database.open().threeSixtyGiving(prefix: prefix, year: financialYear, now: Date())
            } catch let error as LocalityError {
                throw OperatorError(error.message)
            }
            let text = JSONWriter.pretty(package) + "\n"
            guard let out else { return Swift.print(text, terminator: "") }
            do { try text.write(toFile: out, atomically: true, encoding: .utf8) } catch {
                throw OperatorError("cannot write \(out): \(error.localizedDescription)")
            }
            var grants = 0
            if case .object(let members) = package, case .array(let items)? = members["grants"] { grants = items.count }
            print("Published \(grants) grant\(grants == 1 ? "" : "s") to \(out) (360Giving 1.4, CC BY 4.0).")
        }
    }
}
