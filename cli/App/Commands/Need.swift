import ArgumentParser
import Foundation
import LocalityCore

struct NeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "need", abstract: "Local needs, recorded by councillors with their evidence.",
        subcommands: [Add.self, List.self, Show.self, Update.self, Evidence.self, Status.self, Close.self],
        defaultSubcommand: List.self)

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a need in one of your wards (works offline; queued for sync).",
            discussion: """
                Evidence is written `KIND: NOTE`, where KIND is one of \
                \(LocalityCore.Evidence.Kind.allCases.map(\.rawValue).joined(separator: ", ")); \
                text without a kind is taken as a resident contact. Example:
                  locality need add --locality brockton --title "No bus to the GP" --severity 4 \\
                    --evidence "petition: 212 signatures" --evidence "Three calls to the ward surgery"
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption

        @Option(help: ArgumentHelp("Where the need is: id, slug or GSS code.", valueName: "ref"))
        var locality: String
        @Option(help: "A one-line title.")
        var title: String
        @Option(help: "What the need is, in more words.")
        var description: String = ""
        @Option(help: "A category of your choosing (transport, isolation…).")
        var category: String?
        @Option(help: ArgumentHelp("The outcome it bears on: id or slug (see `locality outcome list`).", valueName: "ref"))
        var outcome: String?
        @Option(help: "How severe, from 1 (minor) to 5 (severe).")
        var severity: Int = 3
        @Option(help: ArgumentHelp("About how many people are affected.", valueName: "n"))
        var affected: Int?
        @Option(help: ArgumentHelp("Evidence, as `KIND: NOTE`; repeat for more.", valueName: "text"))
        var evidence: [String] = []
        @Option(help: "Latitude of the need's location.")
        var lat: Double?
        @Option(help: "Longitude of the need's location.")
        var lon: Double?
        @Flag(help: "The record holds personal data: only you, the ward's councillors and officers will see it.")
        var personalData = false

        func run() throws {
            let replica = try home.openReplica()
            let localityId = try replica.read { try References.locality(locality, $0).id }
            var command = RecordNeed(needId: replica.newID(), localityId: localityId, title: title)
            command.description = description
            command.category = category
            command.outcomeId = try outcome.map { ref in try replica.read { try References.outcome(ref, $0).id } }
            command.severity = severity
            command.peopleAffected = affected
            command.latitude = lat
            command.longitude = lon
            command.holdsPersonalData = personalData
            let today = Timestamps.day(replica.environment.now())
            command.evidence = try evidence.map { try EvidenceText.parse($0, id: replica.newID(), on: today) }
            let mutation = try replica.perform(command)
            try NeedCommand.report(replica.need(command.needId.key), mutation, verb: "Recorded", json: output.json)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List needs, newest first.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption

        @Option(help: ArgumentHelp("Only needs in this locality or below it.", valueName: "ref"))
        var locality: String?
        @Option(help: ArgumentHelp(
            "Only needs with this status: \(Need.Status.allCases.map(\.rawValue).joined(separator: ", ")).",
            valueName: "status"))
        var status: String?
        @Flag(help: "Only needs you recorded.")
        var mine = false

        func run() throws {
            let replica = try home.openReplica()
            let status = try self.status.map(NeedCommand.parseStatus)
            let needs = try replica.needs(
                localityRef: locality, status: status, recordedBy: mine ? try replica.actor().person.id : nil)
            if output.json { return try Output.json(needs) }
            guard !needs.isEmpty else { return print("No needs match.") }
            NeedCommand.table(needs)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one need with its evidence.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The need: its id or short reference.", valueName: "id"))
        var id: String

        func run() throws {
            let view = try home.openReplica().need(id)
            if output.json { return try Output.json(view) }
            NeedCommand.printDetail(view)
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change some fields of a need; the others are left as they are.",
            discussion: "An empty --description or --category clears it; --outcome none clears the outcome.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The need: its id or short reference.", valueName: "id"))
        var id: String

        @Option var title: String?
        @Option var description: String?
        @Option var category: String?
        @Option(help: ArgumentHelp("The outcome it bears on (id or slug), or `none`.", valueName: "ref"))
        var outcome: String?
        @Option(help: "1 (minor) to 5 (severe).")
        var severity: Int?
        @Option(help: ArgumentHelp("About how many people are affected.", valueName: "n"))
        var affected: Int?
        @Option var lat: Double?
        @Option var lon: Double?
        @Flag(inversion: .prefixedNo, help: "Whether the record holds personal data.")
        var personalData: Bool?

        func run() throws {
            try NeedCommand.change(home, id, verb: "Updated", json: output.json) { replica, needId in
                try makeCommand(replica, needId)
            }
        }

        private func makeCommand(_ replica: Replica, _ needId: UUID) throws -> UpdateNeed {
            var command = UpdateNeed(needId: needId)
            command.title = title
            command.description = description
            command.category = category
            if let outcome {
                if outcome.lowercased() == "none" {
                    command.clearOutcome = true
                } else {
                    command.outcomeId = try replica.read { try References.outcome(outcome, $0).id }
                }
            }
            command.severity = severity
            command.peopleAffected = affected
            command.latitude = lat
            command.longitude = lon
            command.holdsPersonalData = personalData
            return command
        }
    }

    struct Evidence: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a piece of evidence to a need.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The need: its id or short reference.", valueName: "id"))
        var id: String
        @Option(help: ArgumentHelp(
            "One of: \(LocalityCore.Evidence.Kind.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "kind"))
        var kind: String
        @Option(help: "What the evidence says.")
        var note: String
        @Option(help: ArgumentHelp("The day it was gathered, e.g. 2026-11-20 (default: today).", valueName: "date"))
        var date: String?

        func run() throws {
            try NeedCommand.change(home, id, verb: "Added evidence to", json: output.json) { replica, needId in
                let input = EvidenceInput(
                    id: replica.newID(), kind: try LocalityCore.Evidence.Kind(parsing: kind), note: note,
                    observedOn: date ?? Timestamps.day(replica.environment.now()))
                return AddNeedEvidence(needId: needId, evidence: input)
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a need to another status.",
            discussion: """
                open → prioritised, being-addressed, met, closed; prioritised → open, being-addressed, met, closed; \
                being-addressed → prioritised, met, closed; met → open, closed; closed → open. Closing needs a reason.
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The need: its id or short reference.", valueName: "id"))
        var id: String
        @Argument(help: ArgumentHelp("The new status.", valueName: "status"))
        var status: String
        @Option(help: "Why (required to close).")
        var reason: String?

        func run() throws {
            let status = try NeedCommand.parseStatus(status)
            try NeedCommand.change(home, id, verb: "Moved", json: output.json) { _, needId in
                SetNeedStatus(needId: needId, status: status, reason: reason)
            }
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a need, saying why.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The need: its id or short reference.", valueName: "id"))
        var id: String
        @Option(help: "Why it is closed; people will read this later.")
        var reason: String

        func run() throws {
            try NeedCommand.change(home, id, verb: "Closed", json: output.json) { _, needId in
                CloseNeed(needId: needId, reason: reason)
            }
        }
    }

    static func parseStatus(_ text: String) throws -> Need.Status {
        guard let status = Need.Status(rawValue: text.lowercased().replacingOccurrences(of: " ", with: "-")) else {
            throw ValidationError(
                "'\(text)' is not a need status; use one of: \(Need.Status.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return status
    }

    /// Resolves the need `ref`, performs the change `make` builds for it, and reports the result.
    static func change<Command: MutationCommand>(
        _ home: HomeOptions, _ ref: String, verb: String, json: Bool, _ make: (Replica, UUID) throws -> Command
    ) throws {
        let replica = try home.openReplica()
        let needId = try replica.read { try References.need(ref, $0).id }
        let receipt = try replica.perform(try make(replica, needId))
        try report(replica.need(needId.key), receipt, verb: verb, json: json)
    }

    static func report(_ view: NeedView, _ mutation: MutationReceipt, verb: String, json: Bool) throws {
        if json { return try Output.json(view) }
        print("\(verb) need \(view.reference) '\(view.need.title)' in \(view.locality) (\(view.need.status.label)).")
        print("Queued for sync as change #\(mutation.sequence) (\(mutation.name.rawValue)).")
    }

    static func table(_ needs: [NeedView]) {
        Output.table(
            ["Ref", "Sev", "Status", "Locality", "Title", "Recorded"],
            needs.map {
                [
                    $0.reference, "\($0.need.severity)", $0.need.status.label, $0.locality, $0.need.title.clipped(48),
                    "\(Output.day($0.need.recordedAt)) \($0.recordedByUsername ?? "")",
                ]
            })
    }

    static func printDetail(_ view: NeedView) {
        let need = view.need
        print(need.title)
        Output.field("Reference", "\(view.reference)  (\(need.id.key))")
        Output.field("Locality", view.locality)
        Output.field("Status", need.status.label + (need.statusReason.map { " — \($0)" } ?? ""))
        Output.field("Severity", "\(need.severity) of 5")
        Output.field("Affected", need.peopleAffected.map { "about \($0) people" })
        Output.field("Category", need.category)
        Output.field("Location", need.latitude.flatMap { lat in need.longitude.map { "\(lat), \($0)" } })
        Output.field("Personal data", need.holdsPersonalData ? "yes — restricted to recorder, ward councillors, officers" : nil)
        Output.field("Recorded", "\(Output.moment(need.recordedAt)) by \(view.recordedByUsername ?? "someone not on this device")")
        if !need.description.isEmpty { print("\n\(need.description)") }
        if !view.evidence.isEmpty {
            print("\nEvidence:")
            for item in view.evidence { print("  \(item.observedOn)  \(item.kind.rawValue): \(item.note)") }
        }
    }
}

/// `KIND: NOTE` as typed on the command line.
enum EvidenceText {
    /// `KIND: note` files the note under that kind; text with no `word:` prefix is resident contact.
    /// A one-word prefix that is not a kind is refused, not filed as something else: `petiton:`
    /// is a typing mistake, and the councillor should hear of it.
    static func parse(_ text: String, id: UUID, on day: String) throws -> EvidenceInput {
        if let colon = text.firstIndex(of: ":") {
            let prefix = text[..<colon].trimmingCharacters(in: .whitespaces)
            let note = String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            if let kind = try? Evidence.Kind(parsing: prefix) {
                return EvidenceInput(id: id, kind: kind, note: note, observedOn: day)
            }
            let looksLikeAKind = !prefix.isEmpty && prefix.count <= 20
                && prefix.allSatisfy { $0.isLetter || $0 == "-" || $0 == "_" } && !note.isEmpty
            if looksLikeAKind {
                let kinds = Evidence.Kind.allCases.map(\.rawValue)
                let nearest = kinds.min { distance($0, prefix.lowercased()) < distance($1, prefix.lowercased()) }
                throw CLIError(
                    "'\(prefix)' is not a kind of evidence\(nearest.map { " (did you mean '\($0)'?)" } ?? ""); use one of: "
                        + "\(kinds.joined(separator: ", ")), or leave the prefix out for resident contact")
            }
        }
        return EvidenceInput(id: id, kind: .residentContact, note: text, observedOn: day)
    }

    /// Edit distance, for suggesting the kind that was meant.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
