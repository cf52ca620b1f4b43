import ArgumentParser
import Foundation
import LocalityCore

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check this device's replica file for damage.",
        discussion: """
            Runs SQLite's integrity check on the replica and reads the changes waiting to sync. Exit \
            status 0: intact; 3: damaged (the problems are listed; `locality recover` is the way out).
            """)

    @OptionGroup var home: HomeOptions
    @OptionGroup var output: JSONOption

    struct Report: Encodable {
        var file: String
        var intact: Bool
        var problems: [String]
        var pendingReadable: Int
        var pendingUnreadable: [Int64]
    }

    func run() throws {
        let path = home.replicaPath
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("no replica in \(home.directory.path); nothing to check")
        }
        var problems: [String]
        do { problems = try Replica.integrityProblems(at: path) } catch { problems = [DatabaseProblem.describe(error)] }
        let salvage = try? Replica.salvagePending(at: path)
        if salvage == nil { problems.append("the changes waiting to sync cannot be read at all") }
        if let salvage, !salvage.unreadable.isEmpty {
            problems.append("\(Output.count(salvage.unreadable.count, "change")) waiting to sync cannot be read")
        }
        let report = Report(
            file: path, intact: problems.isEmpty, problems: problems, pendingReadable: salvage?.changes.count ?? 0,
            pendingUnreadable: salvage?.unreadable ?? [])
        if output.json {
            try Output.json(report)
        } else if report.intact {
            print("\(path): intact; \(Output.count(report.pendingReadable, "change")) waiting to sync.")
        } else {
            print("\(path) is damaged:")
            for problem in problems.prefix(20) { print("  \(problem)") }
            print("\(Output.count(report.pendingReadable, "change")) waiting to sync can still be read"
                + (report.pendingUnreadable.isEmpty ? "." : "; \(report.pendingUnreadable.count) cannot."))
            print("Next: `locality --home \(home.directory.path) recover --to pending.json` saves them and moves the damaged file aside.")
        }
        if !report.intact { throw ExitCode(3) }
    }
}

struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Save what can be read of a damaged replica's waiting changes, and move the damaged file aside.",
        discussion: """
            Writes the changes still waiting to sync that can be read to --to (JSON), renames the \
            replica to replica.sqlite.damaged-<time> (nothing is deleted), and leaves the home empty. \
            Then: log in again on this home (`locality login …`), and `locality outbox import FILE` \
            performs the saved changes again and queues them for the next sync.
            """)

    @OptionGroup var home: HomeOptions
    @Option(help: ArgumentHelp("Where to save the readable changes (JSON).", valueName: "file")) var to: String
    @Flag(help: "Recover even if the replica looks intact.") var force = false

    func run() throws {
        let path = home.replicaPath
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("no replica in \(home.directory.path)") }
        let problems = (try? Replica.integrityProblems(at: path)) ?? ["cannot be opened"]
        if problems.isEmpty && !force {
            throw CLIError("\(path) is intact; nothing to recover (use `locality outbox export` to carry its changes, or --force)")
        }
        let salvage: PendingChanges
        do { salvage = try Replica.salvagePending(at: path) } catch {
            salvage = PendingChanges(username: nil, personId: nil, deviceId: nil, exportedAt: Date(), changes: [])
        }
        try salvage.write(to: to)
        let stamp = Timestamps.format(Date()).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: ".", with: "")
        let aside = path + ".damaged-" + stamp
        let fileManager = FileManager.default
        try fileManager.moveItem(atPath: path, toPath: aside)
        for suffix in ["-wal", "-shm"] where fileManager.fileExists(atPath: path + suffix) {
            try? fileManager.moveItem(atPath: path + suffix, toPath: aside + suffix)
        }
        print("Saved \(Output.count(salvage.changes.count, "change")) waiting to sync to \(to)"
            + (salvage.unreadable.isEmpty ? "." : "; \(Output.count(salvage.unreadable.count, "change")) could not be read (#\(salvage.unreadable.map(String.init).joined(separator: ", #")))."))
        print("Moved the damaged replica aside to \(aside).")
        print("Next: `locality --home \(home.directory.path) login --server URL --user \(salvage.username ?? "NAME")`, then "
            + "`locality --home \(home.directory.path) outbox import \(to)` and `locality sync`.")
    }
}
