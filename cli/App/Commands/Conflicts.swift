import ArgumentParser
import Foundation
import LocalityCore

struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "Values overwritten by someone else's edit of the same field, kept for you to settle.",
        discussion: """
            When two people change the same field of a need or proposal while offline, the edit made \
            later (by hybrid logical clock) stands and the other value is kept here. Either person — or \
            an officer — can keep the value that stands or put the other one back.
            """,
        subcommands: [List.self, Show.self, Resolve.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List open conflicts (add --all for resolved ones too).")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Flag(help: "Include conflicts already resolved.")
        var all = false

        func run() throws {
            let conflicts = try home.openReplica().conflicts(includeResolved: all)
            if output.json { return try Output.json(conflicts) }
            guard !conflicts.isEmpty else {
                return print(all ? "No conflicts on this device." : "No open conflicts: every concurrent edit has been settled.")
            }
            Output.table(
                ["Id", "Record", "Field", "Stands", "Overwritten", "Status"],
                conflicts.map {
                    [
                        $0.shortRef, "\($0.recordType) '\($0.recordTitle.clipped(32))'", $0.field,
                        "\($0.keptValue.clipped(24)) (\(ConflictsCommand.who($0.keptBy, mine: $0.keptIsMine)))",
                        "\($0.lostValue.clipped(24)) (\(ConflictsCommand.who($0.lostBy, mine: $0.lostIsMine)))",
                        ConflictsCommand.status($0),
                    ]
                })
            if conflicts.contains(where: { $0.status == .open }) {
                print("\nSettle one with `locality conflicts resolve ID --keep mine|theirs`.")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one conflict in full.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: "The conflict's id (or its start), or the title or reference of the need or proposal it is about.")
        var id: String

        func run() throws {
            let view = try home.openReplica().conflict(id)
            if output.json { return try Output.json(view) }
            ConflictsCommand.printDetail(view)
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle a conflict: keep your value or theirs (works offline; queued for sync).",
            discussion: """
                `mine` and `theirs` are from this device's point of view. An officer settling a conflict \
                between two other people says which value to keep with `lost` (the overwritten value) or \
                `kept` (the value that stands).
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: "The conflict's id (or its start), or the title or reference of the need or proposal it is about.")
        var id: String
        @Option(help: ArgumentHelp("Which value to keep: mine, theirs, lost or kept.", valueName: "choice"))
        var keep: String

        func run() throws {
            let replica = try home.openReplica()
            let view = try replica.conflict(id)
            guard view.status == .open else {
                throw CLIError("conflict \(view.shortRef) was already resolved\(view.resolvedBy.map { " by \($0)" } ?? "")")
            }
            let choice: Conflict.Keep
            switch keep.lowercased() {
            case "lost", "overwritten": choice = .lost
            case "kept", "stands": choice = .kept
            case "mine", "theirs":
                let wantMine = keep.lowercased() == "mine"
                switch (view.lostIsMine, view.keptIsMine) {
                case (true, false): choice = wantMine ? .lost : .kept
                case (false, true): choice = wantMine ? .kept : .lost
                default:
                    throw CLIError(
                        "neither value in conflict \(view.shortRef) is yours alone; say which to keep with --keep lost (\(view.lostValue)) or --keep kept (\(view.keptValue))"
                    )
                }
            default:
                throw ValidationError("'\(keep)' is not a choice; use mine, theirs, lost or kept")
            }
            let receipt = try replica.perform(ResolveConflict(conflictId: view.id, keep: choice))
            let after = try replica.conflict(view.id.key)
            if output.json { return try Output.json(after) }
            let kept = choice == .lost ? view.lostValue : view.keptValue
            print("Resolved conflict \(view.shortRef): \(view.recordType) '\(view.recordTitle)' keeps \(view.field) = \(kept).")
            print("Queued for sync as change #\(receipt.sequence) (\(receipt.name.rawValue)).")
        }
    }

    static func who(_ username: String, mine: Bool) -> String { mine ? "yours" : username }

    static func status(_ view: ConflictView) -> String {
        switch view.status {
        case .open: "open"
        case .resolved:
            "kept \(view.resolution == .lost ? "overwritten value" : "standing value")" + (view.resolvedBy.map { " by \($0)" } ?? "")
        }
    }

    static func printDetail(_ view: ConflictView) {
        print("Conflict on \(view.field) of \(view.recordType) '\(view.recordTitle)'")
        Output.field("Id", view.id.key)
        Output.field("Stands", "\(view.keptValue) — set by \(who(view.keptBy, mine: view.keptIsMine))")
        Output.field("Overwritten", "\(view.lostValue) — set by \(who(view.lostBy, mine: view.lostIsMine))")
        if view.currentValue != view.keptValue { Output.field("Now", view.currentValue) }
        Output.field("Found", Output.moment(view.createdAt))
        Output.field("Status", status(view))
    }
}
