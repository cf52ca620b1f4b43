import ArgumentParser
import Foundation
import LocalityCore
import LocalitySyncServer

struct OrgServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "Organisations: parish and town councils, groups, charities — one by one or from a file.",
        subcommands: [Add.self, Import.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an organisation.",
            discussion: """
                The org-id is checked against the UK registers of org-id.guide and the format each \
                register uses (a Companies House number is 8 characters, a charity number digits); an \
                org-id already in use is refused. Example: locality-sync org add --name "Shrewsbury Town \
                Council" --kind town-council --org-id GB-LAE-SHR --locality shrewsbury
                """)
        @OptionGroup var database: DatabaseOption
        @OptionGroup var output: JSONFlag
        @Option(help: "Its name.") var name: String
        @Option(help: ArgumentHelp("One of: \(Organisation.Kind.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "kind")) var kind: String
        @Option(help: ArgumentHelp("Its org-id, e.g. GB-CHC-1090095 (none for an unregistered group).", valueName: "org-id")) var orgId: String?
        @Option(help: ArgumentHelp("A place it serves (slug, GSS code or name); repeat for more.", valueName: "ref")) var locality: [String] = []

        func run() async throws {
            let organisation = NewOrganisation(name: name, kind: kind, orgId: orgId, localities: locality)
            let added = try await database.with { try await $0.administer(.addOrganisation(organisation), as: OrganisationSummary.self) }
            if output.json { return try printJSON(added) }
            print("Added \(added.name) (\(added.kind)\(added.orgId.map { ", \($0)" } ?? "")), serving \(added.localities.isEmpty ? "nowhere yet" : added.localities.joined(separator: ", ")); slug \(added.slug).")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add the organisations in a file: all of them, or none.",
            discussion: """
                A CSV file with a header naming its columns: name, kind, org-id, localities (places \
                separated by ';'). A bad row is refused with its line and problem, and nothing is added.
                """)
        @OptionGroup var database: DatabaseOption
        @OptionGroup var output: JSONFlag
        @Argument(help: ArgumentHelp("The file (CSV).", valueName: "file.csv")) var file: String
        @Flag(help: "Check the whole file and say what would be added, adding nothing.") var dryRun = false

        func run() async throws {
            let text = try readSetUpFile(file)
            let added: [OrganisationSummary] = try await database.with { database in
                do {
                    if dryRun { return try await database.reading().importOrganisations(text, dryRun: true) }
                    return try await database.administer(.importOrganisations(text: text), as: [OrganisationSummary].self)
                } catch let error as LocalityError {
                    throw OperatorError("\(file): \(error.message); nothing was added")
                } catch let error as OperatorError {
                    throw OperatorError("\(file): \(error.description); nothing was added")
                }
            }
            if output.json { return try printJSON(added) }
            print("\(dryRun ? "Would add" : "Added") \(added.count) organisation\(added.count == 1 ? "" : "s") from \(file).")
            printTable(["Slug", "Kind", "Org-id", "Serves", "Name"], added.map { [$0.slug, $0.kind, $0.orgId ?? "", $0.localities.joined(separator: "; "), $0.name] })
        }
    }
}
