import ArgumentParser
import Foundation
import LocalityCore
import LocalitySyncServer

/// Reads a set-up file, or says plainly why not.
func readSetUpFile(_ path: String) throws -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
        throw OperatorError("there is no file at \(path)")
    }
    // The national lookups are a few megabytes; anything this large is not one of them.
    let limit = 256 * 1024 * 1024
    if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > limit {
        throw OperatorError("\(path) is \(size / 1_048_576) MB; a set-up file is at most \(limit / 1_048_576) MB (ONS's national lookups are a few MB); nothing was imported")
    }
    do {
        return try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        throw OperatorError("\(path) cannot be read as UTF-8 text: \(error.localizedDescription); nothing was imported")
    }
}

/// A store for set-up: the database file, created and migrated if it is not there yet.
func setUpStore(_ database: DatabaseOption) throws -> SQLiteSyncStore {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: database.db, isDirectory: &isDirectory), isDirectory.boolValue {
        throw OperatorError("\(database.db) is a directory, not a server database file; give --db the file itself")
    }
    do { return try SQLiteSyncStore.open(at: database.db) } catch {
        throw OperatorError("cannot open the server database at \(database.db): \(DatabaseProblem.describe(error))")
    }
}

struct CouncilCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "council", abstract: "The council this server serves: set it up once, then see it.",
        subcommands: [Init.self, Show.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set up the council on an empty database (created if need be).",
            discussion: """
                Example: locality-sync council init --name "Shropshire Council" --org-id GB-LAE-SHR --gss E06000051
                Then import its wards and parishes from ONS's lookup (`localities import`) and group \
                its wards into areas (`localities areas`). Refused on a database that already holds a council.
                """)
        @OptionGroup var database: DatabaseOption
        @OptionGroup var output: JSONFlag
        @Option(help: "The council's name, e.g. \"Shropshire Council\".") var name: String
        @Option(help: ArgumentHelp("Its organisation identifier (org-id.guide), e.g. GB-LAE-SHR.", valueName: "org-id")) var orgId: String?
        @Option(help: ArgumentHelp("Its ONS GSS code: E10… a county, E06…/E07…/E08…/E09… a unitary or district, W06… Wales.", valueName: "code"))
        var gss: String

        func run() async throws {
            let council = try await database.with(creating: true) { database in
                try await database.administer(.initialiseCouncil(name: name, orgId: orgId, gss: gss), as: CouncilSummary.self)
            }
            if output.json { return try printJSON(council) }
            print("Set up \(council.name) (\(council.gssCode ?? "")\(council.orgId.map { ", \($0)" } ?? "")).")
            print("Next: `locality-sync localities import FILE.csv --lad \(council.gssCode ?? "CODE")` with ONS's Parish to Ward to LAD lookup.")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The council, and how many wards, parishes and areas it has.")
        @OptionGroup var database: DatabaseOption
        @OptionGroup var output: JSONFlag

        func run() async throws {
            guard let council = try await database.with({ try await $0.reading().council() }) else {
                throw OperatorError("no council is set up in \(database.databaseURL.flatMap { try? PostgresLocation(url: $0).redacted } ?? database.db); run `locality-sync council init --name … --gss …`")
            }
            if output.json { return try printJSON(council) }
            print("\(council.name) (\(council.gssCode ?? "no GSS code")\(council.orgId.map { ", \($0)" } ?? ""))")
            func count(_ value: Int, _ noun: String) -> String { "\(value) \(noun)\(value == 1 ? "" : "s")" }
            print("\(count(council.wards, "ward")), \((council.parishes == 1 ? "1 parish" : "\(council.parishes) parishes")), \(count(council.areas, "area"))"
                + (council.divisions > 0 ? ", \(count(council.divisions, "electoral division"))" : "") + "; "
                + "\(count(council.retired, "place")) retired by boundary reviews.")
        }
    }
}

struct LocalitiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "localities", abstract: "The council's places, from ONS's lookups, kept current.",
        subcommands: [Import.self, Areas.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import (or re-import) ONS's Parish to Ward to Local Authority District lookup.",
            discussion: """
                Reads the file as ONS publishes it (any year's columns, PARyyCD/WDyyCD/LADyyCD with \
                their names; a byte order mark, extra columns and quoted names are fine). For a county, \
                the Ward to LAD to County to County Electoral Division lookup (WDyyCD…CEDyyNM) is read \
                too: its divisions, which wards lie in wholly or partly. Builds the \
                council → (districts, for a county) → wards → parishes tree; a parish lying in several \
                wards is one place that each of those wards' councillors sees. Re-importing a newer \
                lookup first prints what changes — added, renamed, moved, retired — and applies it: \
                retired places are kept, marked inactive, and take no new needs. --dry-run stops after \
                the difference. A malformed file is refused with its line and problem, and nothing changes.
                """)
        @OptionGroup var database: DatabaseOption
        @OptionGroup var output: JSONFlag
        @Argument(help: ArgumentHelp("The lookup file (CSV).", valueName: "file.csv")) var file: String
        @Option(help: ArgumentHelp("Only this district's rows (repeat for more), e.g. E06000051.", valueName: "code")) var lad: [String] = []
        @Flag(help: "Print what would change, and change nothing.") var dryRun = false

        func run() async throws {
            let text = try readSetUpFile(file)
            let today = Timestamps.day(Date())
            let changes: GeographyChanges = try await database.with { database in
                guard dryRun else {
                    return try await database.administer(
                        .importLocalities(text: text, districts: lad, today: today), as: GeographyChanges.self, context: file)
                }
                do { return try await database.reading().importLocalities(text, districts: Set(lad), dryRun: true, today: today) } catch let error as LocalityError {
                    throw OperatorError("\(file): \(error.message)")
                }
            }
            if output.json { return try printJSON(changes) }
            let verb = dryRun ? "Would change" : "Imported"
            print("\(verb) from \(file) (\(changes.year) boundaries): \(changes.added.count) added, \(changes.renamed.count) renamed, "
                + "\(changes.moved.count) moved, \(changes.retired.count) retired, \(changes.unchanged) unchanged.")
            for entry in changes.added.prefix(dryRun ? 1000 : 0) { print("  + \(entry.kind) \(entry.code) \(entry.name)") }
            for rename in changes.renamed { print("  ~ \(rename.kind) \(rename.code) \(rename.from) → \(rename.to)") }
            for entry in changes.moved.prefix(50) { print("  > \(entry.kind) \(entry.code) \(entry.name) now lies elsewhere") }
            for entry in changes.retired { print("  - \(entry.kind) \(entry.code) \(entry.name) retired (kept, with its history)") }
            if !changes.multiWard.isEmpty {
                let spans = changes.multiWard.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                    .prefix(5).map { "\($0.key) (\($0.value) wards)" }.joined(separator: ", ")
                print("\(changes.multiWard.count) parishes lie in more than one ward, e.g. \(spans): each is one place, seen from each of its wards.")
            }
            if dryRun { print("Nothing was changed (--dry-run).") }
        }
    }

    struct Areas: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Group the council's wards into its own areas, for its locality budgets.",
            discussion: """
                Each row: a ward's GSS code and the area's name (`E05008157,Shrewsbury Area`); a header \
                row is fine. Areas are made as needed and each ward moves into its area. All or nothing.
                """)
        @OptionGroup var database: DatabaseOption
        @OptionGroup var output: JSONFlag
        @Argument(help: ArgumentHelp("The file: ward code, area name.", valueName: "file.csv")) var file: String
        @Flag(help: "Check the file and say what would change, changing nothing.") var dryRun = false

        func run() async throws {
            let text = try readSetUpFile(file)
            let result: AssignedAreas = try await database.with { database in
                guard dryRun else { return try await database.administer(.assignAreas(text: text), as: AssignedAreas.self, context: file) }
                do {
                    let result = try await database.reading().assignAreas(text, dryRun: true)
                    return AssignedAreas(areas: result.areas, wardsMoved: result.wardsMoved)
                } catch let error as LocalityError {
                    throw OperatorError("\(file): \(error.message); nothing was changed")
                }
            }
            if output.json { return try printJSON(["areas": JSONValue.array(result.areas.map(JSONValue.string)), "wardsMoved": .int(Int64(result.wardsMoved))]) }
            print("\(dryRun ? "Would group" : "Grouped") \(result.wardsMoved) ward\(result.wardsMoved == 1 ? "" : "s") into \(result.areas.count) area\(result.areas.count == 1 ? "" : "s"): \(result.areas.joined(separator: ", ")).")
        }
    }
}
