import Foundation
import LocalityCore
import Testing

@Suite("The locality terminal client, end to end through the built binary", .serialized)
struct CLITests {
    @Test func aCouncillorRecordsNeedsOfflineAndSeesThemQueued() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let created = try cli.run("init", "--demo", "--as", "cllr-north")
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("Cllr Tom Hughes"))

        let me = try cli.run("whoami", "--json").object()
        #expect(me["username"] as? String == "cllr-north")
        #expect((me["wards"] as? [[String: Any]])?.compactMap { $0["slug"] as? String }.sorted() == ["brockton-ward", "whitmere-ward"])

        let added = try cli.run(
            "need", "add", "--locality", "E04900003", "--title", "Flooding on Mill Lane", "--severity", "4",
            "--affected", "30", "--evidence", "petition: 212 signatures", "--evidence", "Calls to the surgery", "--json")
        #expect(added.status == 0, "\(added.stderr)")
        let need = try added.object()
        let id = try #require(need["id"] as? String)
        #expect(need["locality"] as? String == "Brockton")
        #expect(need["status"] as? String == "open")
        let evidence = try #require(need["evidence"] as? [[String: Any]])
        #expect(evidence.compactMap { $0["kind"] as? String }.sorted() == ["petition", "resident-contact"])

        let listed = try cli.run("need", "list", "--locality", "brockton-ward", "--json").array()
        #expect(listed.contains { ($0["id"] as? String)?.lowercased() == id.lowercased() })
        let reference = try #require(need["reference"] as? String)
        let shown = try cli.run("need", "show", reference)
        #expect(shown.status == 0 && shown.stdout.contains("Flooding on Mill Lane") && shown.stdout.contains("212 signatures"))

        #expect(try cli.run("need", "update", reference, "--severity", "5").status == 0)
        #expect(try cli.run("need", "status", reference, "prioritised").status == 0)
        let refused = try cli.run("need", "status", reference, "closed")
        #expect(refused.status != 0 && refused.stderr.contains("reason is required"))
        #expect(try cli.run("need", "close", reference, "--reason", "Highways fixed the drain").status == 0)

        let outbox = try cli.run("outbox", "--json").array()
        #expect(outbox.compactMap { $0["name"] as? String } == ["need.record", "need.update", "need.setStatus", "need.close"])
        #expect(outbox.compactMap { $0["sequence"] as? Int } == [1, 2, 3, 4])
        let text = try cli.run("outbox")
        #expect(text.stdout.contains("4 changes waiting to sync"))
        let dashboard = try cli.run([])
        #expect(dashboard.status == 0 && dashboard.stdout.contains("4 changes waiting to sync"))
    }

    @Test func aClerkDraftsEditsSubmitsAndWithdrawsAProposal() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try cli.run("init", "--demo", "--as", "clerk-north")
        let drafted = try cli.run(
            "proposal", "draft", "--budget", "north-2026-27", "--title", "Market-day minibus", "--amount", "£4,800",
            "--outcome", "rural-transport", "--json")
        #expect(drafted.status == 0, "\(drafted.stderr)")
        let proposal = try drafted.object()
        let reference = try #require(proposal["reference"] as? String)
        #expect(proposal["amountRequested"] as? Int == 480_000)
        #expect(proposal["organisation"] as? String == "Whitmere Town Council")
        #expect(proposal["locality"] as? String == "Whitmere")
        #expect(proposal["status"] as? String == "draft")

        let early = try cli.run("proposal", "submit", reference)
        #expect(early.status != 0 && early.stderr.contains("needs a summary"))
        let edited = try cli.run(
            "proposal", "edit", reference, "--summary", "Volunteer minibus to the surgery", "--amount", "1250.5", "--json")
        #expect(try edited.object()["amountRequested"] as? Int == 125_050)
        let submitted = try cli.run("proposal", "submit", reference, "--json")
        #expect(try submitted.object()["status"] as? String == "submitted")
        let frozen = try cli.run("proposal", "edit", reference, "--title", "Too late")
        #expect(frozen.status != 0 && frozen.stderr.contains("can no longer be edited"))
        #expect(try cli.run("proposal", "withdraw", reference, "--reason", "Town council paid").status == 0)

        let mine = try cli.run("proposal", "list", "--json").array()
            .filter { !DemoCouncil.cycleProposalTitles.contains($0["title"] as? String ?? "") }
        #expect(mine.count == 1 && mine[0]["status"] as? String == "withdrawn")
        #expect(try cli.run("outbox", "--json").array().count == 4)
    }

    @Test func anOfficerDecidesAndTheBudgetReportShowsTheCommitment() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try cli.run("init", "--demo", "--as", "officer")
        let drafted = try cli.run(
            "proposal", "draft", "--budget", "north-2026-27", "--title", "Market-day minibus", "--amount", "4800",
            "--summary", "Volunteer minibus", "--locality", "brockton", "--json")
        let reference = try #require(try drafted.object()["reference"] as? String)
        #expect(try cli.run("proposal", "submit", reference).status == 0)

        let unexplained = try cli.run("decide", reference, "--approve", "--amount", "3000")
        #expect(unexplained.status != 0 && unexplained.stderr.contains("reasons are required"))
        let both = try cli.run("decide", reference, "--approve", "--reject")
        #expect(both.status != 0 && both.stderr.contains("choose one of --approve, --reject or --defer"))
        let decided = try cli.run("decide", reference, "--approve", "--amount", "£3,000", "--reason", "Year two from the parish", "--json")
        #expect(decided.status == 0, "\(decided.stderr)")
        let decision = try decided.object()
        #expect(decision["outcome"] as? String == "part-funded")
        #expect(decision["amount"] as? Int == 300_000)
        #expect(decision["awaitingConfirmation"] as? Bool == true)
        #expect((decision["authority"] as? String)?.hasPrefix("officer up to £25,000.00") == true)

        let report = try cli.run("report", "budget", "north-2026-27", "--json").object()
        #expect(report["allocated"] as? Int == 7_500_000)
        #expect(report["committed"] as? Int == 300_000)
        #expect(report["paid"] as? Int == 0)
        #expect(report["available"] as? Int == 7_200_000)
        #expect((report["funded"] as? [[String: Any]])?.first?["proposalReference"] as? String == reference)
        let text = try cli.run("report", "budget", "north-2026-27")
        #expect(text.stdout.contains("Committed") && text.stdout.contains("£3,000.00") && text.stdout.contains("█"))
        let list = try cli.run("decision", "list", "--json").array()
            .filter { !DemoCouncil.cycleProposalTitles.contains($0["proposalTitle"] as? String ?? "") }
        #expect(list.count == 1 && list[0]["id"] as? String != nil)
        #expect(try cli.run("decide", reference, "--reject", "--reason", "Again").stderr.contains("already been decided"))
    }

    @Test func theDemoShowsTheWholeCycleToScripts() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try cli.run("init", "--demo", "--as", "cllr-south")
        let rounds = try cli.run("round", "list", "--json").array()
        // Each area fund's open call, the South small grants round the cycle runs through, Ledwyche's
        // You Decide, and the GP transport commission's call for bids.
        #expect(rounds.count == 5 && rounds.allSatisfy { $0["id"] as? String != nil })
        let smallGrants = try #require(rounds.first { $0["title"] as? String == "South small grants 2026/27" })
        #expect(smallGrants["isOpen"] as? Bool == true)
        let ranking = try #require(smallGrants["ranking"] as? [[String: Any]])
        #expect(ranking.map { $0["status"] as? String } == ["approved", "submitted", "rejected"])
        let awards = try cli.run("award", "list", "--json").array()
        #expect(awards.count == 2 && awards.allSatisfy { $0["id"] as? String != nil })
        let lunch = try #require(awards.first { $0["title"] as? String == "Winter lunch club at the chapel" })
        #expect((lunch["reports"] as? [Any])?.count == 1 && (lunch["reviews"] as? [Any])?.count == 1)
        let commissions = try cli.run("commission", "list", "--json").array()
        #expect(commissions.count == 1 && commissions[0]["stage"] as? Int == 7)
        let budget = try cli.run("report", "budget", "south-2026-27", "--json").object()
        #expect(budget["allocated"] as? Int == 6_000_000 && budget["committed"] as? Int == 450_000)
        #expect(budget["paid"] as? Int == 225_000 && budget["available"] as? Int == 5_550_000)
        let outcome = ((budget["awards"] as? [[String: Any]])?.first?["outcomes"] as? [[String: Any]])?.first
        #expect(outcome?["latest"] as? Double == 14 && outcome?["target"] as? Double == 20)
        let place = try cli.run("report", "locality", "hopton-cross", "--json").object()
        #expect((place["awards"] as? [[String: Any]])?.first?["title"] as? String == "Winter lunch club at the chapel")
        let text = try cli.run("report", "locality", "south-area")
        #expect(text.status == 0 && text.stdout.contains("Regular guests") && text.stdout.contains("Friday youth evenings") == false)
        let started = try cli.run(
            "commission", "start", "--title", "Isolation in Clunbury", "--level", "parish", "--locality", "clunbury", "--json")
        #expect(try started.object()["stage"] as? Int == 1)
        let early = try cli.run("commission", "advance", try #require(try started.object()["reference"] as? String))
        #expect(early.status != 0 && early.stderr.contains("no needs are linked"))
    }

    @Test func badInputGetsAClearErrorAndChangesNothing() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try cli.run("init", "--demo", "--as", "clerk-north")
        let cases: [([String], String)] = [
            (["proposal", "draft", "--budget", "north-2026-27", "--title", "X", "--amount", "12,50"], "thousands separators"),
            (["proposal", "draft", "--budget", "north-2026-27", "--title", "X", "--amount=-5"], "negative"),
            (["proposal", "draft", "--budget", "north-2026-27", "--title", "X", "--amount", "lots"], "not a sum of money"),
            (["proposal", "draft", "--budget", "north-2026-27", "--title", "X", "--amount", "£1.999"], "two decimal places"),
            (["proposal", "draft", "--budget", "nowhere", "--title", "X", "--amount", "5"], "no budget 'nowhere'"),
            (["proposal", "draft", "--budget", "north-2026-27", "--title", "", "--amount", "5"], "title is required"),
            (["proposal", "draft", "--budget", "north-2026-27", "--org", "clunbury-parish-council", "--title", "X", "--amount", "5"],
             "only its members may"),
            (["proposal", "draft", "--budget", "south-2026-27", "--title", "X", "--amount", "5"], "serves nowhere within South Area"),
            (["need", "add", "--locality", "whitmere-town", "--title", "X"], "recording needs is for councillors and officers"),
            (["need", "show", "deadbeef"], "no need 'deadbeef'"),
            (["proposal", "submit", "12345678-1234-1234-1234-123456789012"], "no proposal with id"),
            (["proposal", "draft", "--budget", "north-2026-27", "--title", "X", "--amount", "5", "--delivery-model", "magic"],
             "not a delivery model"),
        ]
        for (arguments, message) in cases {
            let result = try cli.run(arguments)
            #expect(result.status != 0, "\(arguments) succeeded")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(arguments) printed \(result.stdout)")
        }
        #expect(try cli.run("outbox", "--json").array().isEmpty)
        #expect(try cli.run("proposal", "list", "--json").array().allSatisfy { DemoCouncil.cycleProposalTitles.contains($0["title"] as? String ?? "") })
    }

    @Test func referenceListsAndBudgetsAreReadableAndScriptable() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try cli.run("init", "--demo", "--as", "officer")
        let localities = try cli.run("localities", "--json").array()
        #expect(localities.count >= 15)
        #expect(localities.filter { $0["kind"] as? String == "ward" }.count >= 4)
        #expect(localities.filter { ($0["gssCode"] as? String)?.hasPrefix("E04") == true }.count >= 6)
        #expect(try cli.run("org", "list", "--json").array().count >= 6)
        #expect(try cli.run("outcome", "list", "--json").array().contains { $0["level"] as? String == "strategic" })
        let budgets = try cli.run("budget", "list", "--json").array()
        #expect(budgets.count == 3)  // the two area funds and the GP transport commission's
        let north = try cli.run("budget", "show", "north-2026-27", "--json").object()
        #expect(north["allocated"] as? Int == 7_500_000)
        #expect(north["committed"] as? Int == 0)
        #expect(north["available"] as? Int == 7_500_000)
        #expect(north["financialYear"] as? String == "2026/27")
        let text = try cli.run("budget", "show", "north-2026-27")
        #expect(text.stdout.contains("£75,000.00") && text.stdout.contains("Available"))
    }

    @Test func homesAreChosenByFlagOrEnvironmentAndNeverCreatedByAccident() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let missing = try cli.run("need", "list")
        #expect(missing.status != 0 && missing.stderr.contains("locality init --demo"))
        #expect(!FileManager.default.fileExists(atPath: cli.home.appendingPathComponent("replica.sqlite").path))

        let unknown = try cli.run("init", "--demo", "--as", "mayor")
        #expect(unknown.status != 0 && unknown.stderr.contains("cllr-north"))
        #expect(!FileManager.default.fileExists(atPath: cli.home.appendingPathComponent("replica.sqlite").path))

        let viaEnvironment = try cli.run(
            ["init", "--demo", "--as", "cllr-south"], withHome: false, environment: ["LOCALITY_HOME": cli.home.path])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.stderr)")
        #expect(try cli.run("whoami", "--json").object()["username"] as? String == "cllr-south")
        let again = try cli.run("init", "--demo", "--as", "cllr-north")
        #expect(again.status != 0 && again.stderr.contains("already holds a replica"))
        #expect(try cli.run("whoami", "--json").object()["username"] as? String == "cllr-south")
    }

    @Test(arguments: [
        [], ["init"], ["whoami"], ["localities"], ["org", "list"], ["budget", "list"], ["budget", "show"], ["outcome", "list"],
        ["need", "add"], ["need", "list"], ["need", "show"], ["need", "update"], ["need", "evidence"], ["need", "status"],
        ["need", "close"], ["proposal", "draft"], ["proposal", "edit"], ["proposal", "submit"], ["proposal", "withdraw"],
        ["proposal", "list"], ["proposal", "show"], ["outbox"], ["decide"], ["decision", "list"], ["decision", "scheme"],
        ["interest", "declare"], ["report", "budget"], ["report", "locality"], ["report", "round"], ["round", "list"],
        ["round", "show"], ["round", "open"], ["assess"], ["award", "list"], ["award", "show"], ["award", "create"],
        ["award", "pay"], ["award", "report"], ["award", "review"], ["commission", "list"], ["commission", "show"],
        ["commission", "start"], ["commission", "record"], ["commission", "advance"], ["commission", "option"],
        ["commission", "risk"], ["decision", "correct"],
    ])
    func everyCommandHasHelp(_ command: [String]) throws {
        let result = try CLI().run(command + ["--help"], withHome: false)
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE:"))
    }

    @Test func pbAllocateRunsARuleOnAFileAndRefusesAMalformedOne() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("LocalityCoreTests/Fixtures/pabulib")
        let file = fixtures.appendingPathComponent("Poland_Gdynia_2022_Redlowo__small.pb").path
        let result = try cli.run("pb", "allocate", file, "--rule", "mes", "--json").object()
        #expect(result["funded"] as? [String] == ["2022/RED/0009"])
        let greedy = try cli.run("pb", "allocate", file, "--rule", "greedy")
        #expect(greedy.status == 0 && greedy.stdout.contains("did not fit"))
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).pb")
        defer { try? FileManager.default.removeItem(at: bad) }
        try "META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;five\nVOTES\nvoter_id;vote\n".write(to: bad, atomically: true, encoding: .utf8)
        let refused = try cli.run("pb", "allocate", bad.path, "--rule", "mes")
        #expect(refused.status != 0 && refused.stderr.contains("line 6") && refused.stderr.contains("'five'"))
        #expect(try cli.run("pb", "allocate", file, "--rule", "borda").stderr.contains("not an allocation rule"))
    }

    @Test func anOfficerOpensAVoteAndCapturesPaperBallotsOffline() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try cli.run("init", "--demo", "--as", "officer")
        let opened = try cli.run(
            "vote", "open", "Ledwyche: You Decide 2026/27", "--title", "You Decide", "--rule", "phragmen", "--amount", "10000",
            "--opens", "today", "--closes", "today", "--all-submitted", "--max", "2")
        #expect(opened.status == 0 && opened.stdout.contains("4 proposals"))
        let votes = try cli.run("vote", "list", "--json").array()
        #expect(votes.count == 1 && votes[0]["id"] as? String != nil && votes[0]["takingBallots"] as? Bool == true)
        #expect(try cli.run("vote", "cast", "You Decide", "--paper", "0001", "--code", "AB12", "--choose", "1", "--choose", "4").status == 0)
        let again = try cli.run("vote", "cast", "You Decide", "--paper", "0002", "--code", "ab12", "--choose", "2")
        #expect(again.status != 0 && again.stderr.contains("voting code AB12 has already voted"))
        let three = try cli.run("vote", "cast", "You Decide", "--paper", "0003", "--code", "CD34", "--choose", "1", "--choose", "2", "--choose", "3")
        #expect(three.status != 0 && three.stderr.contains("at most 2"))
        #expect(try cli.run("vote", "cast", "You Decide", "--paper", "0004", "--code", "EF56", "--choose", "9").stderr.contains("no proposal 9"))
        let pending = try cli.run("vote", "ballots", "--json").array()
        let listing = try cli.run("vote", "ballots").stdout
        #expect(pending.count == 1 && pending[0]["paperSerial"] as? String == "0001" && !listing.contains("AB12"))
        #expect(try cli.run("vote", "close", "You Decide").stderr.isEmpty)
        #expect(try cli.run("vote", "show", "You Decide", "--json").object()["status"] as? String == "closing")
    }

    /// Every reference a list prints works wherever that kind of record is named; ids in JSON are
    /// lowercase, as the protocol writes them; a misspelt evidence kind is refused, not misfiled.
    @Test func whatAListPrintsWorksEverywhereAndScriptsGetLowercaseIds() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try cli.run("init", "--demo", "--as", "officer")
        let rounds = try cli.run("round", "list").stdout.split(separator: "\n").dropFirst(2)
        #expect(!rounds.isEmpty)
        for line in rounds {
            let reference = String(line.prefix(while: { $0 != " " }))
            #expect(try cli.run("round", "show", reference).status == 0, "round show \(reference)")
            #expect(try cli.run("report", "round", reference).status == 0, "report round \(reference)")
        }
        try cli.run(
            "vote", "open", "Ledwyche: You Decide 2026/27", "--title", "You Decide", "--rule", "mes", "--amount", "10000",
            "--opens", "today", "--closes", "today", "--all-submitted")
        let vote = try #require(try cli.run("vote", "list").stdout.split(separator: "\n").dropFirst(2).first).prefix(while: { $0 != " " })
        #expect(try cli.run("vote", "show", String(vote)).status == 0)
        let closed = try cli.run("vote", "close", String(vote))
        #expect(closed.status == 0 && closed.stdout.contains("Paper ballots captured offline"))
        let shownBy = try #require(closed.stdout.components(separatedBy: "`locality vote show ").dropFirst().first?.prefix(while: { $0 != "`" }))
        #expect(try cli.run("vote", "show", String(shownBy)).status == 0)
        let past = try cli.run(
            "vote", "open", "Ledwyche: You Decide 2026/27", "--title", "Yesterday's", "--rule", "mes", "--amount", "100",
            "--opens", "2026-01-01", "--closes", "2026-01-02", "--all-submitted")
        #expect(past.status != 0 && past.stderr.contains("which has passed"))

        let me = try cli.run("whoami", "--json")
        let ids = me.stdout.matches(of: /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/).map { String($0.output) }
        #expect(!ids.isEmpty && ids.allSatisfy { $0 == $0.lowercased() })

        let misspelt = try cli.run("need", "add", "--locality", "brockton-heath", "--title", "Verges", "--evidence", "petiton: 20 names")
        #expect(misspelt.status != 0 && misspelt.stderr.contains("did you mean 'petition'"))
        let hostile = try cli.run("need", "add", "--locality", "brockton-heath", "--title", "Ford \u{1B}[2J floods")
        #expect(hostile.status != 0 && hostile.stderr.contains("control character") && !hostile.stderr.contains("\u{1B}"))
        #expect(try cli.run("outbox", "--json").array().isEmpty == false)
    }
}
