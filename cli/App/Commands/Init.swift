import ArgumentParser
import Foundation
import LocalityCore

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create this device's replica.",
        discussion: """
            With --demo, the replica is loaded with the demo council (Marcher County) and you act as \
            one of its accounts: \(DemoCouncil.usernames.joined(separator: ", ")).
            """)

    @OptionGroup var home: HomeOptions
    @OptionGroup var output: JSONOption

    @Flag(help: "Load the demo council.")
    var demo = false

    @Option(name: .customLong("as"), help: ArgumentHelp("The demo account to act as.", valueName: "username"))
    var username: String?

    func validate() throws {
        guard demo else {
            throw ValidationError("only demo replicas can be created so far: use `locality init --demo --as USERNAME`")
        }
        guard let username, !username.isEmpty else {
            throw ValidationError("say which demo account to act as with --as, one of: \(DemoCouncil.usernames.joined(separator: ", "))")
        }
    }

    func run() throws {
        let directory = home.directory
        if FileManager.default.fileExists(atPath: home.replicaPath) {
            throw CLIError("\(directory.path) already holds a replica; choose another --home, or remove it to start again")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            let replica = try Replica.open(at: home.replicaPath)
            try replica.initialiseDemo(as: username ?? "")
            let me = try replica.whoami()
            if output.json { return try Output.json(me) }
            print("Created a demo replica in \(directory.path)")
            print("You are \(me.displayName) (\(me.username)): \(me.roles.map(\.rawValue).joined(separator: ", ")).")
            print("Next: run `locality` for your dashboard, or `locality --help` for everything you can do.")
        } catch {
            // Leave no half-made home behind: the next `init` should start clean.
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: home.replicaPath + suffix) }
            throw error
        }
    }
}

struct WhoAmICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami", abstract: "Show who acts on this device: roles, wards and organisations.")

    @OptionGroup var home: HomeOptions
    @OptionGroup var output: JSONOption

    func run() throws {
        let me = try home.openReplica().whoami()
        if output.json { return try Output.json(me) }
        Output.field("User", "\(me.displayName) (\(me.username))")
        Output.field("Roles", me.roles.map(\.rawValue).joined(separator: ", "))
        Output.field("Wards", me.wards.map(\.name).joined(separator: ", "))
        Output.field("Organisations", me.organisations.map(\.name).joined(separator: ", "))
        Output.field("Device", me.deviceId.key + (me.origin == "demo" ? " (demo replica)" : ""))
        Output.field("Pending", "\(me.pendingMutations) change\(me.pendingMutations == 1 ? "" : "s") waiting to sync")
    }
}

struct Localities: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the tree of localities, with slugs and GSS codes.")

    @OptionGroup var home: HomeOptions
    @OptionGroup var output: JSONOption

    func run() throws {
        let tree = try home.openReplica().localityTree()
        if output.json { return try Output.json(tree) }
        Output.table(
            ["Locality", "Kind", "Slug", "GSS code"],
            tree.map { node in
                [
                    String(repeating: "  ", count: node.depth) + node.locality.name, node.locality.kind.label,
                    node.locality.slug,
                    node.locality.gssCode.map { "\($0) (\(node.locality.gssYear.map(String.init) ?? "?"))" } ?? "",
                ]
            })
    }
}

struct OutboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "The changes made on this device that are waiting to sync; carry them to another home.",
        subcommands: [List.self, Export.self, Import.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the changes waiting to sync, oldest first.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption

        func run() throws {
            let pending = try home.openReplica().outbox()
            if output.json { return try Output.json(pending) }
            guard !pending.isEmpty else { return print("Nothing waiting to sync.") }
            Output.table(
                ["#", "Made", "Change"],
                pending.map { ["\($0.sequence)", Output.moment($0.createdAt), Output.describe($0)] })
            print("\n\(Output.count(pending.count, "change")) waiting to sync.")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save the changes waiting to sync to a file, to carry them to a new home.",
            discussion: """
                For a device that can no longer sync (revoked by the server's operator) or a home being \
                replaced: log in from a new home, then `locality --home NEW outbox import FILE` performs \
                each change again there, as yours, and queues it for that home's next sync.
                """)

        @OptionGroup var home: HomeOptions
        @Argument(help: ArgumentHelp("Where to write the changes (JSON).", valueName: "file")) var file: String

        func run() throws {
            let changes = try home.openReplica().exportPending()
            try changes.write(to: file)
            print("Saved \(Output.count(changes.changes.count, "change")) waiting to sync to \(file).")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Perform again, on this home, the changes saved by `outbox export` or `recover`.",
            discussion: """
                Each change is checked afresh and queued for this home's next sync, in the order it was \
                made. One refused here (its record is gone, or it was imported already) is reported and \
                the rest go on. Only the same account's changes are taken.
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The file of changes.", valueName: "file")) var file: String

        func run() throws {
            let replica = try home.openReplica()
            let outcomes = try replica.importPending(try PendingChanges.read(from: file))
            if output.json { return try Output.json(outcomes) }
            let applied = outcomes.filter(\.applied).count
            print("Queued \(Output.count(applied, "change")) of \(outcomes.count) from \(file); `locality sync` sends them.")
            for outcome in outcomes where !outcome.applied {
                print("  #\(outcome.sequence) \(outcome.name.rawValue) not taken: \(outcome.error?.message ?? "refused")")
            }
        }
    }
}
