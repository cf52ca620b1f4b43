import ArgumentParser
import Foundation
import LocalityCore
import LocalitySyncServer

/// Open data: what the council decided, in the standards' own formats.
struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish", abstract: "Publish what was decided as open data.", subcommands: [ThreeSixtyGivingCommand.self, OCDSCommand.self, VotesCommand.self])

    struct ThreeSixtyGivingCommand: AsyncParsableCommand {
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

        func run() async throws {
            let financialYear = try year.map { try FinancialYear(parsing: $0) }
            let package: JSONValue = try await database.with { database in
                // A new prefix is remembered as a change like any other (on PostgreSQL, in the log);
                // the demo council keeps none, so the package is also made with the one given.
                if let prefix { _ = try await database.administer(.setGrantPrefix(prefix), as: [String: String].self) }
                do { return try await database.reading().threeSixtyGiving(prefix: prefix, year: financialYear, now: Date()) } catch let error as LocalityError {
                    throw OperatorError(error.message)
                }
            }
            let text = JSONWriter.pretty(package) + "\n"
            guard let out else { return Swift.print(text, terminator: "") }
            try write(text, to: out)
            var grants = 0
            if case .object(let members) = package, case .array(let items)? = members["grants"] { grants = items.count }
            print("Published \(grants) grant\(grants == 1 ? "" : "s") to \(out) (360Giving 1.4, CC BY 4.0).")
        }
    }

    struct OCDSCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ocds",
            abstract: "Each commission that has reached tender as an OCDS 1.1.5 contracting process, in a release package.",
            discussion: """
                A release for each change of stage (planning, tender, award and contract, implementation, \
                termination) and for each payment, dated when it happened. ocids use the council's registered \
                OCID prefix (--prefix, remembered for next time). The options appraisal is in the planning \
                section; the risk register, scores and drafts are never published.
                  locality-sync publish ocds --prefix ocds-213czf --out contracts.json
                """)

        @OptionGroup var database: DatabaseOption
        @Option(help: ArgumentHelp("Write the package here instead of standard output.", valueName: "file")) var out: String?
        @Option(help: ArgumentHelp("The council's registered OCID prefix, e.g. ocds-213czf.", valueName: "prefix")) var prefix: String?

        func run() async throws {
            let package: JSONValue = try await database.with { database in
                if let prefix { _ = try await database.administer(.setOcidPrefix(prefix), as: [String: String].self) }
                do { return try await database.reading().openContracting(prefix: prefix, now: Date()) } catch let error as LocalityError {
                    throw OperatorError(error.message)
                }
            }
            let text = JSONWriter.pretty(package) + "\n"
            guard let out else { return Swift.print(text, terminator: "") }
            try write(text, to: out)
            var releases: [JSONValue] = []
            if case .object(let members) = package, case .array(let items)? = members["releases"] { releases = items }
            let processes = Set(releases.compactMap { release -> String? in
                if case .object(let fields) = release, case .string(let ocid)? = fields["ocid"] { return ocid }
                return nil
            })
            print("Published \(releases.count) release\(releases.count == 1 ? "" : "s") of \(processes.count) contracting process\(processes.count == 1 ? "" : "es") to \(out) (OCDS 1.1.5, CC BY 4.0).")
        }
    }

    struct VotesCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "votes",
            abstract: "Every closed residents' vote as a Pabulib file, named by the vote's id, in a folder.",
            discussion: """
                The same files the server publishes at /open-data/votes/ID.pb: projects, results and anonymous \
                ballots (voters numbered in an order nobody outside can reconstruct; no voter reference, \
                serial or capturer). Open votes are never published.
                  locality-sync publish votes --out-dir pabulib/
                """)

        @OptionGroup var database: DatabaseOption
        @Option(name: .customLong("out-dir"), help: ArgumentHelp("The folder to write the files into (made if missing).", valueName: "folder"))
        var outDir: String
        @Flag(help: "Print what was written as JSON.") var json = false

        func run() async throws {
            let store = try await database.with { try await $0.reading() }
            let files = try await store.database.read { db in
                try Vote.fetchAll(db, sql: "SELECT * FROM vote WHERE status = 'closed' ORDER BY closes_on, id").compactMap { vote in
                    try PublicPages.pabulib(vote.id.key, db).map { (vote, $0) }
                }
            }
            do { try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true) } catch {
                throw OperatorError("cannot make \(outDir): \(error.localizedDescription)")
            }
            var written: [JSONValue] = []
            for (vote, text) in files {
                let path = (outDir as NSString).appendingPathComponent("\(vote.id.key).pb")
                try write(text, to: path)
                written.append(["vote": .string(vote.title), "file": .string(path), "ballots": .int(Int64(vote.ballotsCounted ?? 0))])
                if !json { print("\(path): \(TerminalText.safe(vote.title)), \(vote.ballotsCounted ?? 0) ballots") }
            }
            if json { return print(JSONWriter.pretty(["files": .array(written)])) }
            print("Published \(files.count) closed vote\(files.count == 1 ? "" : "s") as Pabulib files (CC BY 4.0).")
        }
    }
}

/// Writes a published file whole (atomically), or says why it could not.
func write(_ text: String, to path: String) throws {
    do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
        throw OperatorError("cannot write \(path): \(error.localizedDescription)")
    }
}
