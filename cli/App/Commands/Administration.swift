import ArgumentParser
import Foundation
import LocalityCore

/// Keeping the council's funds, framework and organisations from a device: finance officers,
/// administrators and officers, offline like everything else.
extension BudgetCommand {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a fund for a locality and a financial year (finance officers).",
            discussion: """
                The fund holds nothing until money is allocated to it (`locality budget allocate`):
                  locality budget create --name "North Area Community Fund 2027/28" --locality north-area --year 2027/28
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Option(help: "The fund's name, as people will see it.") var name: String
        @Option(help: ArgumentHelp("The locality it is devolved to: id, slug, GSS code or name.", valueName: "ref")) var locality: String
        @Option(help: ArgumentHelp("The financial year, e.g. 2027/28.", valueName: "year")) var year: String
        @Option(help: ArgumentHelp("How people will refer to it (default: made from the name).", valueName: "slug")) var slug: String?

        func run() throws {
            let replica = try home.openReplica()
            let financialYear = try FinancialYear(parsing: year)
            let localityId = try replica.read { try References.locality(locality, $0).id }
            let budgetId = replica.newID()
            let receipt = try replica.perform(
                CreateBudget(budgetId: budgetId, name: name, localityId: localityId, financialYear: financialYear, slug: slug))
            let view = try replica.budget(budgetId.key)
            if output.json { return try Output.json(view) }
            print("Made \(view.name) (\(view.slug)) for \(view.locality), \(view.financialYear); queued for sync as change #\(receipt.sequence).")
        }
    }

    struct Allocate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put money into a fund from a named source (finance officers).",
            discussion: """
                Sources: \(LedgerEntry.Source.allCases.map(\.rawValue).joined(separator: ", ")).
                  locality budget allocate north-2027-28 --amount 60000 --source council --note "Cabinet, 11 March 2027, minute 14"
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The fund: id, slug or name.", valueName: "budget")) var budget: String
        @Option(help: ArgumentHelp("How much, e.g. 60000 or £60,000.", valueName: "£")) var amount: String
        @Option(help: ArgumentHelp("Where it comes from.", valueName: "source")) var source: String
        @Option(help: "What authorises it (a decision, a minute, an agreement); it stays on the ledger.") var note: String

        func run() throws {
            let replica = try home.openReplica()
            guard let parsedSource = LedgerEntry.Source(rawValue: source.lowercased()) else {
                throw CLIError("'\(source)' is not a source of money; use one of: \(LedgerEntry.Source.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let budgetId = try replica.read { try References.budget(budget, $0).id }
            let receipt = try replica.perform(
                AllocateBudget(ledgerEntryId: replica.newID(), budgetId: budgetId, source: parsedSource, amount: try Money(parsing: amount), note: note))
            let view = try replica.budget(budgetId.key)
            if output.json { return try Output.json(view) }
            print("Allocated \(try Money(parsing: amount)) from \(parsedSource.label) to \(view.name): \(view.allocated) allocated, \(view.available) available; queued for sync as change #\(receipt.sequence).")
        }
    }

    struct Transfer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move uncommitted money from one fund to another in the same year: a virement, within the scheme of delegation.",
            discussion: """
                Who may move how much is set by the scheme of delegation (`locality decision scheme`). Only what is uncommitted \
                can move; if approvals reach the server first, the virement is refused with the shortfall.
                  locality budget transfer --from north-2026-27 --to south-2026-27 --amount 5000 --reason "South youth round oversubscribed"
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Option(help: ArgumentHelp("The fund the money leaves.", valueName: "budget")) var from: String
        @Option(help: ArgumentHelp("The fund it goes to.", valueName: "budget")) var to: String
        @Option(help: ArgumentHelp("How much.", valueName: "£")) var amount: String
        @Option(help: "Why; it stays on both ledgers.") var reason: String

        func run() throws {
            let replica = try home.openReplica()
            let (fromId, toId) = try replica.read { (try References.budget(from, $0).id, try References.budget(to, $0).id) }
            let money = try Money(parsing: amount)
            let receipt = try replica.perform(
                TransferBudget(
                    fromBudgetId: fromId, toBudgetId: toId, amount: money, reason: reason, outEntryId: replica.newID(), inEntryId: replica.newID()))
            let (source, target) = (try replica.budget(fromId.key), try replica.budget(toId.key))
            if output.json { return try Output.json([source, target]) }
            print("Moved \(money) from \(source.name) (\(source.available) now available) to \(target.name) (\(target.available) available); queued for sync as change #\(receipt.sequence).")
        }
    }

    struct CloseYear: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "close-year",
            abstract: "Close a fund's financial year, carrying what is uncommitted forward to next year's fund (finance officers).",
            discussion: """
                Nothing more is committed from a closed fund; payments on its awards go on. Approvals made offline that reach \
                the server after the close are refused.
                  locality budget close-year north-2025-26 --carry-forward-to north-2026-27
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The fund to close.", valueName: "budget")) var budget: String
        @Option(help: ArgumentHelp("Next year's fund for the same locality.", valueName: "budget")) var carryForwardTo: String?
        @Flag(help: "Let what is uncommitted lapse instead of carrying it forward.") var lapse = false
        @Flag(help: "Close before the year's last day (a fund wound up early).") var early = false

        func run() throws {
            let replica = try home.openReplica()
            let (budgetId, nextId) = try replica.read { db in
                (try References.budget(budget, db).id, try carryForwardTo.map { try References.budget($0, db).id })
            }
            let before = try replica.budget(budgetId.key)
            let receipt = try replica.perform(
                CloseBudgetYear(
                    budgetId: budgetId, carryForwardTo: nextId, lapse: lapse, early: early, outEntryId: replica.newID(), inEntryId: replica.newID()))
            let closed = try replica.budget(budgetId.key)
            if output.json { return try Output.json(closed) }
            let moved = nextId == nil || before.available == .zero
                ? (before.available == .zero ? "nothing was left uncommitted" : "\(before.available) lapses")
                : "\(before.available) carried forward to \(try replica.budget(nextId!.key).name)"
            print("Closed \(closed.name): \(moved); queued for sync as change #\(receipt.sequence).")
        }
    }
}

extension OutcomeCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an outcome to the framework (administrators).",
            discussion: """
                Levels: strategic, then service or local beneath one, then individual.
                  locality outcome add --title "People live independently at home for longer" --level strategic
                  locality outcome add --title "Fewer falls at home" --level service --parent people-live-independently-at-home-for
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Option(help: "The outcome, as a result for people.") var title: String
        @Option(help: ArgumentHelp("strategic, service, local or individual.", valueName: "level")) var level: String
        @Option(help: ArgumentHelp("The outcome it serves: id, slug or title.", valueName: "ref")) var parent: String?
        @Option(help: ArgumentHelp("How people will refer to it (default: from the title).", valueName: "slug")) var slug: String?

        func run() throws {
            let replica = try home.openReplica()
            guard let parsedLevel = Outcome.Level(rawValue: level.lowercased()) else {
                throw CLIError("'\(level)' is not a level; use one of: \(Outcome.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let parentId = try replica.read { db in try parent.map { try References.outcome($0, db).id } }
            let outcomeId = replica.newID()
            let receipt = try replica.perform(AddOutcome(outcomeId: outcomeId, title: title, level: parsedLevel, parentId: parentId, slug: slug))
            guard let view = try replica.outcomes().first(where: { $0.id == outcomeId }) else { return }
            if output.json { return try Output.json(view) }
            print("Added the \(view.level.rawValue) outcome '\(view.title)' (\(view.slug)); queued for sync as change #\(receipt.sequence).")
        }
    }

    struct IndicatorCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "indicator", abstract: "Add an indicator to an outcome: how it is measured (administrators).",
            discussion: """
                  locality outcome indicator falls-prevented --name "Emergency admissions for falls, 65+" --unit "per 100,000" \\
                    --lower-is-better --baseline 2100 --target 1900 --source "OHID Fingertips"
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The outcome: id, slug or title.", valueName: "outcome")) var outcome: String
        @Option(help: "What is counted.") var name: String
        @Option(help: "Its unit: %, people, journeys, per 100,000…") var unit: String
        @Flag(help: "Which way is better.") var direction: Direction = .higherIsBetter
        @Option(help: "Where it started.") var baseline: Double?
        @Option(help: "Where it should get to.") var target: Double?
        @Option(help: "Where the figures come from.") var source: String = ""

        enum Direction: String, EnumerableFlag {
            case higherIsBetter, lowerIsBetter
            var value: Indicator.Direction { self == .higherIsBetter ? .higherIsBetter : .lowerIsBetter }
        }

        func run() throws {
            let replica = try home.openReplica()
            let outcomeId = try replica.read { try References.outcome(outcome, $0).id }
            let indicatorId = replica.newID()
            let receipt = try replica.perform(
                AddIndicator(
                    indicatorId: indicatorId, outcomeId: outcomeId, name: name, unit: unit, direction: direction.value, baseline: baseline,
                    target: target, source: source))
            let view = try replica.outcomes().first { $0.id == outcomeId }
            if output.json { return try Output.json(view?.indicators.first { $0.id == indicatorId }) }
            print("Added the indicator '\(name)' to '\(view?.title ?? "")' (\(indicatorId.shortReference)); queued for sync as change #\(receipt.sequence).")
        }
    }

    struct Measure: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a figure for an indicator (officers and administrators).",
            discussion: """
                  locality outcome measure "Community transport journeys a month" --value 355 --on 2026-10-31
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The indicator: its name, id or short reference.", valueName: "indicator")) var indicator: String
        @Option(help: "The figure.") var value: Double
        @Option(help: ArgumentHelp("The day (or period end) it is for, YYYY-MM-DD.", valueName: "date")) var on: String
        @Option(help: ArgumentHelp("For one locality rather than the whole authority.", valueName: "ref")) var locality: String?
        @Option(help: "A note on the figure.") var note: String = ""

        func run() throws {
            let replica = try home.openReplica()
            let (found, localityId) = try replica.read { db in
                (try References.indicator(indicator, db), try locality.map { try References.locality($0, db).id })
            }
            let measurementId = replica.newID()
            let receipt = try replica.perform(
                RecordMeasurement(measurementId: measurementId, indicatorId: found.id, value: value, measuredOn: on, localityId: localityId, note: note))
            let measurement = try replica.outcomes().flatMap(\.measurements).first { $0.id == measurementId }
            if output.json { return try Output.json(measurement) }
            let figures = [found.baseline.map { "baseline \(format($0))" }, found.target.map { "target \(format($0))" }].compactMap { $0 }
            print("Recorded \(format(value)) \(found.unit) for '\(found.name)' on \(on)\(figures.isEmpty ? "" : " (" + figures.joined(separator: ", ") + ")"); queued for sync as change #\(receipt.sequence).")
        }
    }
}

/// 14.0 → "14"; 14.5 → "14.5".
func format(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
}

extension DecisionCommand {
    struct SchemeSet: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Adopt a new version of the scheme of delegation (administrators).",
            discussion: """
                The new version replaces the whole scheme in force; earlier versions are kept, and every decision keeps \
                the version it was taken under. Give every line:
                  --line ROLE;SCOPE;UP-TO;WORDING        who may decide on proposals (scope own-wards or authority; UP-TO \
                a sum or "none")
                  --virement ROLE;UP-TO;WORDING          who may move money between funds
                  locality decision scheme set --note "Council, 14 May 2027, minute 23" \\
                    --line "councillor;own-wards;5000;Ward councillors, for their own wards" \\
                    --line "officer;authority;25000;The Locality Commissioner" --line "executive;authority;none;The Cabinet Member" \\
                    --virement "finance;10000;The Finance Business Partner" --virement "executive;none;The Cabinet Member"
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Option(help: ArgumentHelp("ROLE;SCOPE;UP-TO;WORDING: a line for decisions on proposals; repeat for each.", valueName: "line"))
        var line: [String] = []
        @Option(help: ArgumentHelp("ROLE;UP-TO;WORDING: a line for virements; repeat for each.", valueName: "line"))
        var virement: [String] = []
        @Option(help: "What adopted it (a meeting and minute); kept with every decision.") var note: String

        func run() throws {
            let replica = try home.openReplica()
            func role(_ text: String, _ option: String) throws -> Role {
                guard let role = Role(rawValue: text.lowercased()) else {
                    throw CLIError("--\(option): '\(text)' is not a role; use one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return role
            }
            func limit(_ text: String, _ option: String) throws -> Money? {
                ["none", "no limit", ""].contains(text.lowercased()) ? nil : try Money(parsing: text)
            }
            func fields(_ text: String, _ count: Int, _ option: String, _ shape: String) throws -> [String] {
                let parts = text.split(separator: ";", maxSplits: count - 1, omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == count else { throw CLIError("--\(option) '\(text)' needs \(shape)") }
                return parts
            }
            var lines: [AdoptScheme.Line] = []
            for text in line {
                let parts = try fields(text, 4, "line", "ROLE;SCOPE;UP-TO;WORDING, e.g. \"councillor;own-wards;5000;Ward councillors\"")
                guard let scope = Delegation.Scope(rawValue: parts[1].lowercased()) else {
                    throw CLIError("--line '\(text)': the scope is own-wards or authority, not '\(parts[1])'")
                }
                lines.append(.init(id: replica.newID(), role: try role(parts[0], "line"), scope: scope, maxAmount: try limit(parts[2], "line"), description: parts[3]))
            }
            for text in virement {
                let parts = try fields(text, 3, "virement", "ROLE;UP-TO;WORDING, e.g. \"finance;10000;The Finance Business Partner\"")
                lines.append(.init(
                    id: replica.newID(), matter: .virement, role: try role(parts[0], "virement"), scope: .authority,
                    maxAmount: try limit(parts[1], "virement"), description: parts[2]))
            }
            let current = try replica.read { try Delegation.currentVersion($0) }
            let receipt = try replica.perform(AdoptScheme(basedOnVersion: current, lines: lines, note: note))
            let scheme = try replica.read { db in try Delegation.scheme(db) + Delegation.scheme(db, matter: .virement) }
            if output.json { return try Output.json(scheme) }
            print("Adopted version \(current + 1) of the scheme of delegation (\(Output.count(lines.count, "line"))); queued for sync as change #\(receipt.sequence).")
        }
    }
}

extension OrgCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an organisation (officers and administrators).",
            discussion: """
                The org-id is checked against the register it names (GB-CHC charity numbers, GB-COH company numbers…); \
                a group with no registered number has none.
                  locality org add --name "Brockton Allotment Society" --kind community-group --serves brockton
                  locality org add --name "Marches Food Bank" --kind charity --org-id GB-CHC-1164323 --serves north-area
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Option(help: "Its name.") var name: String
        @Option(help: ArgumentHelp("One of: \(Organisation.Kind.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "kind"))
        var kind: String
        @Option(name: .customLong("org-id"), help: ArgumentHelp("Its org-id, e.g. GB-CHC-1099999.", valueName: "org-id")) var orgId: String?
        @Option(help: ArgumentHelp("A place it serves (id, slug, GSS code or name); repeat for more.", valueName: "ref")) var serves: [String] = []
        @Option(help: "How to reach it.") var contact: String = ""
        @Option(help: ArgumentHelp("How people will refer to it (default: from the name).", valueName: "slug")) var slug: String?

        func run() throws {
            let replica = try home.openReplica()
            let parsedKind = try OrgCommand.kind(kind)
            let places = try replica.read { db in try serves.map { try References.locality($0, db).id } }
            let organisationId = replica.newID()
            let receipt = try replica.perform(
                AddOrganisation(
                    organisationId: organisationId, name: name, kind: parsedKind, orgIdentifier: orgId, localityIds: places, contact: contact,
                    slug: slug))
            guard let view = try replica.organisations().first(where: { $0.id == organisationId }) else { return }
            if output.json { return try Output.json(view) }
            print("Added \(view.name) (\(view.slug)\(view.orgIdentifier.map { ", " + $0 } ?? "")); queued for sync as change #\(receipt.sequence).")
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an organisation's details (its members: name, contact and places; officers: anything).",
            discussion: """
                  locality org update whitmere-town-council --contact "clerk@whitmere-tc.example, 01234 567890"
                  locality org update brockton-allotment-society --serves brockton --serves brockton-heath
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The organisation: id, slug, org-id or name.", valueName: "org")) var organisation: String
        @Option(help: "A new name.") var name: String?
        @Option(help: ArgumentHelp("A new kind (officers).", valueName: "kind")) var kind: String?
        @Option(name: .customLong("org-id"), help: ArgumentHelp("A new org-id, or \"\" to remove it (officers).", valueName: "org-id"))
        var orgId: String?
        @Option(help: ArgumentHelp("The places it serves, replacing the list; repeat for more.", valueName: "ref")) var serves: [String] = []
        @Option(help: "How to reach it.") var contact: String?

        func run() throws {
            let replica = try home.openReplica()
            let (target, places) = try replica.read { db in
                (try References.organisation(organisation, db), try serves.map { try References.locality($0, db).id })
            }
            var update = UpdateOrganisation(organisationId: target.id)
            update.name = name
            update.kind = try kind.map(OrgCommand.kind)
            update.orgIdentifier = orgId
            update.localityIds = serves.isEmpty ? nil : places
            update.contact = contact
            let receipt = try replica.perform(update)
            guard let view = try replica.organisations().first(where: { $0.id == target.id }) else { return }
            if output.json { return try Output.json(view) }
            print("Updated \(view.name) (\(view.slug)); queued for sync as change #\(receipt.sequence).")
        }
    }

    static func kind(_ text: String) throws -> Organisation.Kind {
        guard let kind = Organisation.Kind(rawValue: text.lowercased().replacingOccurrences(of: " ", with: "-")) else {
            throw CLIError("'\(text)' is not a kind of organisation; use one of: \(Organisation.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return kind
    }
}
