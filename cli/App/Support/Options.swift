import ArgumentParser
import Foundation
import LocalityCore

/// Options every command shares: which home (device) to act on.
struct HomeOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The directory holding this device's replica (default: $LOCALITY_HOME, else ~/.locality).",
            valueName: "dir"))
    var home: String?

    var directory: URL {
        if let home, !home.isEmpty { return URL(fileURLWithPath: home) }
        if let fromEnvironment = ProcessInfo.processInfo.environment["LOCALITY_HOME"], !fromEnvironment.isEmpty {
            return URL(fileURLWithPath: fromEnvironment)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".locality")
    }

    var replicaPath: String { directory.appendingPathComponent("replica.sqlite").path }

    /// The replica file this run opened, so that an error anywhere can name it.
    nonisolated(unsafe) static var opened: String?

    /// Opens the replica of an initialised home; never creates one by accident.
    func openReplica() throws -> Replica {
        guard FileManager.default.fileExists(atPath: replicaPath) else {
            throw CLIError("no replica in \(directory.path); run `locality init --demo --as USERNAME` first")
        }
        Self.opened = replicaPath
        let replica = try Replica.open(at: replicaPath)
        guard try replica.isInitialised() else {
            throw CLIError("the replica in \(directory.path) was never initialised; run `locality init --demo --as USERNAME`")
        }
        return replica
    }
}

struct JSONOption: ParsableArguments {
    @Flag(name: .long, help: "Print JSON for scripts instead of text for people.")
    var json = false
}

/// What to say when the replica file is damaged: which file, and the way out.
func damagedReplica(_ path: String, _ error: any Error) -> CLIError {
    let home = URL(fileURLWithPath: path).deletingLastPathComponent().path
    return CLIError("""
        the replica \(path) is damaged: \(DatabaseProblem.describe(error)).
        What can still be read is safe. Run `locality --home \(home) check` to see the damage, then \
        `locality --home \(home) recover --to pending.json`: it saves the changes still waiting to sync, moves the \
        damaged file aside, and tells you how to log in afresh and re-apply them.
        """)
}

/// An error of the terminal client itself (as opposed to one of the core's rules).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
