import ArgumentParser
import Foundation
import LocalityCore

struct AwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "award", abstract: "Awards: milestones, payments and monitoring.",
        subcommands: [List.self, Show.self, Create.self, Pay.self, Report.self, ReviewCommand.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List awards with paid, remaining and anything overdue.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Flag(help: "Only awards with an overdue report or milestone that are yours to chase (officers: all; councillors: your wards).")
        var overdue = false

        func run() throws {
            let replica = try home.openReplica()
            let awards = try overdue ? replica.overdueAwards() : replica.awards()
            if output.json { return try Output.json(awards) }
            guard !awards.isEmpty else { return print(overdue ? "Nothing overdue." : "No awards yet.") }
            AwardCommand.table(awards)
        }
    }

    static func table(_ awards: [AwardView]) {
        Output.table(
            ["Ref", "Amount", "Paid", "Ends", "Overdue", "Organisation", "Title"],
            awards.map {
                let overdue = ($0.reportOverdue ? ["report"] : []) + $0.overdueMilestones.map { "milestone '\($0.clipped(20))'" }
                return ["\($0.reference)", "\($0.amount)", "\($0.paid)", $0.endsOn, overdue.joined(separator: ", "),
                        $0.organisation.clipped(28), $0.title.clipped(36)]
            })
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an award: schedule, milestones, indicators and reports.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The award: its id or short reference.", valueName: "ref")) var ref: String

        func run() throws {
            let award = try home.openReplica().award(ref)
            if output.json { return try Output.json(award) }
            AwardCommand.show(award)
        }
    }

    static func show(_ award: AwardView) {
        print("\(award.title) — \(award.organisation)")
        Output.field("Award", "\(award.reference) (\(award.status.rawValue)), \(award.startsOn) to \(award.endsOn)")
        Output.field("Amount", "\(award.amount) from \(award.budget)")
        if award.released > .zero {
            Output.field("Committed", "\(award.committed) (\(award.released) released)")
        }
        Output.field("Paid", "\(award.paid); \(award.remaining) can still be paid")
        if award.reportOverdue { Output.field("Overdue", "a monitoring report (due every quarter)") }
        if !award.milestones.isEmpty {
            print("")
            Output.table(
                ["Milestone", "Due", "Status", "Title"],
                award.milestones.map {
                    [$0.id.shortReference, $0.dueOn, $0.status.rawValue + (award.overdueMilestones.contains($0.title) ? " (overdue)" : ""), $0.title]
                })
        }
        if !award.instalments.isEmpty {
            print("")
            Output.table(
                ["Instalment", "Amount", "When"],
                award.instalments.map {
                    [$0.id.shortReference, "\($0.amount)",
                     ($0.dueOn ?? "on evidence: \($0.onOutcome ?? "")")
                        + (award.unpayableInstalments.contains($0.id) ? " — no longer payable: past what is still committed" : "")]
                })
        }
        if !award.indicators.isEmpty {
            print("")
            Output.table(
                ["Indicator", "Name", "Baseline", "Target", "Latest"],
                award.indicators.map { indicator in
                    let latest = MonitoringReport.latest(of: indicator.id, in: award.reports)
                    return [indicator.id.shortReference, "\(indicator.name) (\(indicator.unit))", indicator.baseline.map { "\($0)" } ?? "",
                            "\(indicator.target)", latest.map { "\($0)" } ?? "—"]
                })
        }
        for review in award.reviews {
            print("")
            print("Reviewed \(Output.day(review.reviewedAt)): \(review.verdict.rawValue). \(review.summary)")
            if !review.lessons.isEmpty { print("Lessons: \(review.lessons)") }
        }
        if !award.reports.isEmpty {
            print("")
            Output.table(
                ["Period to", "Spend", "Progress", "Issues"],
                award.reports.map { [$0.periodEnd, "\($0.spend)", $0.progress.clipped(50), $0.issues.clipped(30)] })
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an award for an approved proposal (officers and executive members).",
            discussion: """
                The award is for the amount approved. Give milestones, a payment schedule and the \
                indicators the recipient will report against:

                  locality award create 4f2a9c1e --starts 2026-12-01 --ends 2027-11-30 \\
                    --milestone "2027-01-31=Minibus leased" --milestone "2027-06-30=500 journeys" \\
                    --instalment "2026-12-01=£2,000" --pay-on-outcome "£1,000=500 journeys a month" \\
                    --indicator "Journeys a month;journeys;320;500"
                """)

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The approved proposal: its id or short reference.", valueName: "proposal")) var proposal: String
        @Option(help: ArgumentHelp("The first day of the award, e.g. 2026-12-01.", valueName: "date")) var starts: String
        @Option(help: ArgumentHelp("The last day of the award.", valueName: "date")) var ends: String
        @Option(help: ArgumentHelp("DATE=TITLE; repeat for more.", valueName: "milestone")) var milestone: [String] = []
        @Option(help: ArgumentHelp("DATE=AMOUNT, an instalment paid on a date; repeat for more.", valueName: "instalment"))
        var instalment: [String] = []
        @Option(help: ArgumentHelp("AMOUNT=OUTCOME, paid once the outcome is evidenced; repeat for more.", valueName: "payment"))
        var payOnOutcome: [String] = []
        @Option(help: ArgumentHelp("NAME;UNIT;BASELINE;TARGET (baseline may be empty); repeat for more.", valueName: "indicator"))
        var indicator: [String] = []

        func run() throws {
            let replica = try home.openReplica()
            let proposalId = try replica.read { try References.proposal(proposal, $0).id }
            func pair(_ text: String, _ option: String) throws -> (String, String) {
                guard let index = text.firstIndex(of: "=") else {
                    throw CLIError("--\(option) '\(text)' needs the form LEFT=RIGHT, e.g. see `locality award create --help`")
                }
                return (String(text[..<index]).trimmingCharacters(in: .whitespaces), String(text[text.index(after: index)...]).trimmingCharacters(in: .whitespaces))
            }
            let milestones = try milestone.map { text in
                let (date, title) = try pair(text, "milestone")
                return CreateAward.MilestoneInput(id: replica.newID(), title: title, dueOn: date)
            }
            let instalments = try instalment.map { text in
                let (date, amount) = try pair(text, "instalment")
                return CreateAward.InstalmentInput(id: replica.newID(), amount: try Money(parsing: amount), dueOn: date)
            } + payOnOutcome.map { text in
                let (amount, outcome) = try pair(text, "pay-on-outcome")
                return CreateAward.InstalmentInput(id: replica.newID(), amount: try Money(parsing: amount), onOutcome: outcome)
            }
            let indicators = try indicator.map { text in
                let parts = text.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 4, let target = Double(parts[3]), parts[2].isEmpty || Double(parts[2]) != nil else {
                    throw CLIError("--indicator '\(text)' needs NAME;UNIT;BASELINE;TARGET with numbers, e.g. \"Journeys a month;journeys;320;500\"")
                }
                return CreateAward.IndicatorInput(
                    id: replica.newID(), name: parts[0], unit: parts[1], baseline: Double(parts[2]), target: target)
            }
            let awardId = replica.newID()
            let receipt = try replica.perform(
                CreateAward(
                    awardId: awardId, proposalId: proposalId, startsOn: starts, endsOn: ends, milestones: milestones,
                    instalments: instalments, indicators: indicators))
            let view = try replica.award(awardId.key)
            if output.json { return try Output.json(view) }
            print("Awarded \(view.amount) to \(view.organisation) for '\(view.title)' (award \(view.reference)).")
            print("Queued for sync as change #\(receipt.sequence).")
        }
    }

    struct Pay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a payment under an award (officers); never more than the award commits.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The award: its id or short reference.", valueName: "award")) var award: String
        @Option(help: ArgumentHelp("The amount paid, e.g. £2,000.", valueName: "£")) var amount: String
        @Option(help: "What it is for, e.g. \"first instalment\".") var note: String = ""

        func run() throws {
            let replica = try home.openReplica()
            let awardId = try replica.read { try References.award(award, $0).id }
            let receipt = try replica.perform(
                RecordPayment(ledgerEntryId: replica.newID(), awardId: awardId, amount: try Money(parsing: amount), note: note))
            let view = try replica.award(awardId.key)
            if output.json { return try Output.json(view) }
            print("Paid \(try Money(parsing: amount)) under '\(view.title)': \(view.paid) of \(view.amount) paid, \(view.remaining) remaining.")
            print("Queued for sync as change #\(receipt.sequence); the server checks it against the award again.")
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit a monitoring report for an award (the recipient, or an officer on its behalf).")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The award: its id or short reference.", valueName: "award")) var award: String
        @Option(help: ArgumentHelp("The last day the report covers, e.g. 2027-03-31.", valueName: "date")) var periodEnd: String
        @Option(help: "What has been done.") var progress: String
        @Option(help: ArgumentHelp("Spent in the period, e.g. £1,200.", valueName: "£")) var spend: String
        @Option(help: "Anything going wrong.") var issues: String = ""
        @Option(help: ArgumentHelp("INDICATOR=VALUE (indicator by short reference); repeat for more.", valueName: "measure"))
        var measure: [String] = []
        @Option(help: ArgumentHelp("A milestone met (short reference); repeat for more.", valueName: "milestone"))
        var milestoneMet: [String] = []

        func run() throws {
            let replica = try home.openReplica()
            let view = try replica.award(award)
            let measurements = try measure.map { text -> SubmitMonitoringReport.Measurement in
                let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let value = Double(parts[1].trimmingCharacters(in: .whitespaces)),
                    let indicator = view.indicators.first(where: { $0.id.key.hasSuffix(parts[0].lowercased()) || $0.name == parts[0] })
                else { throw CLIError("--measure '\(text)' needs INDICATOR=VALUE with one of: \(view.indicators.map { "\($0.id.shortReference) (\($0.name))" }.joined(separator: ", "))") }
                return SubmitMonitoringReport.Measurement(indicatorId: indicator.id, value: value)
            }
            let met = try milestoneMet.map { ref -> UUID in
                guard let milestone = view.milestones.first(where: { $0.id.key.hasSuffix(ref.lowercased()) || $0.title == ref }) else {
                    throw CLIError("no milestone '\(ref)' in this award; `locality award show \(view.reference)` lists them")
                }
                return milestone.id
            }
            let receipt = try replica.perform(
                SubmitMonitoringReport(
                    reportId: replica.newID(), awardId: view.id, periodEnd: periodEnd, progress: progress,
                    spend: try Money(parsing: spend), issues: issues, measurements: measurements, milestonesMet: met))
            if output.json { return try Output.json(try replica.award(view.id.key)) }
            print("Reported on '\(view.title)' to \(periodEnd); queued for sync as change #\(receipt.sequence).")
        }
    }

    struct ReviewCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "review",
            abstract: "Review an award: outcomes against targets, the verdict and lessons; lessons can raise new needs.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var output: JSONOption
        @Argument(help: ArgumentHelp("The award: its id or short reference.", valueName: "award")) var award: String
        @OptionGroup var review: ReviewOptions

        func run() throws {
            let replica = try home.openReplica()
            let awardId = try replica.read { try References.award(award, $0).id }
            try review.record(replica, awardId: awardId, json: output.json)
        }
    }
}

/// A review's verdict, findings and lessons: `award review` and `commission review` take the same.
struct ReviewOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "One of: \(Review.Verdict.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "verdict"))
    var verdict: String
    @Option(help: "What was achieved against the targets.") var summary: String
    @Option(help: "What was learned.") var lessons: String = ""
    @Option(help: ArgumentHelp("PLACE=TITLE, a need the lessons raise; repeat for more.", valueName: "need")) var newNeed: [String] = []

    /// Records a review of the award (a commission's review is of its award).
    func record(_ replica: Replica, awardId: UUID, json: Bool) throws {
        guard let verdict = Review.Verdict(rawValue: verdict) else {
            throw CLIError("'\(verdict)' is not a verdict; use one of: \(Review.Verdict.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let needs = try newNeed.map { text -> RecordReview.NewNeed in
            guard let index = text.firstIndex(of: "=") else { throw CLIError("--new-need '\(text)' needs PLACE=TITLE") }
            let place = try replica.read { try References.locality(String(text[..<index]), $0).id }
            return RecordReview.NewNeed(needId: replica.newID(), localityId: place, title: String(text[text.index(after: index)...]))
        }
        let receipt = try replica.perform(
            RecordReview(reviewId: replica.newID(), awardId: awardId, verdict: verdict, summary: summary, lessons: lessons, newNeeds: needs))
        let view = try replica.award(awardId.key)
        if json { return try Output.json(view) }
        print("Reviewed '\(view.title)': \(verdict.rawValue)\(needs.isEmpty ? "" : "; raised \(needs.count) new need(s)"). Award \(view.status.rawValue).")
        print("Queued for sync as change #\(receipt.sequence).")
    }
}
