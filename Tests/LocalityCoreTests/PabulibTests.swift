import Foundation
import LocalityCore
import Testing

/// The reference instances and results (pabutools 1.2.3), copied from Pabulib with their README.
enum PabulibFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pabulib")

    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".pb") }.map { String($0.dropLast(3)) }.sorted()
    }

    static func instance(_ name: String) throws -> PBInstance {
        try Pabulib.parse(String(contentsOf: folder.appendingPathComponent(name + ".pb"), encoding: .utf8))
    }

    static func expected(_ name: String) throws -> [String: [String]] {
        let data = try Data(contentsOf: folder.appendingPathComponent(name + ".expected.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(object["funded"] as? [String: [String]])
    }
}

@Suite("Allocation rules match the reference implementation on real Pabulib instances")
struct AllocationRuleTests {
    @Test func theFixturesAreAllThere() {
        #expect(PabulibFixtures.names.count == 6)
    }

    @Test(arguments: PabulibFixtures.names)
    func everyRuleFundsExactlyWhatPabutoolsFunds(_ name: String) throws {
        let instance = try PabulibFixtures.instance(name)
        let expected = try PabulibFixtures.expected(name)
        let election = try instance.election()
        for rule in AllocationRule.allCases {
            let allocation = try AllocationRules.allocate(election, rule: rule)
            #expect(allocation.funded.sorted() == expected[rule.rawValue], "\(name) under \(rule.rawValue)")
            #expect(allocation.spent <= election.budget)
            #expect(allocation.projects.count == instance.projects.count)
            #expect(allocation.projects.filter(\.funded).map(\.id) == allocation.funded)
        }
    }

    /// Four voters, budget 100: a small tie, a tie broken by id ("10" before "9" as strings),
    /// and Equal Shares declining what only one voter wants.
    @Test func tiesGoToTheSmallerIdAsAStringAndEqualSharesIsProportional() throws {
        let projects = [("9", 40), ("10", 40), ("big", 60), ("solo", 30)].map { PBElection.Project(id: $0.0, cost: Rational($0.1)) }
        // "9" and "10" have two approvals each; "big" has three; "solo" has one.
        let ballots = [[0, 2], [1, 2], [0, 1, 2], [3]]
        let election = PBElection(projects: projects, budget: Rational(100), ballots: ballots)
        let greedy = try AllocationRules.allocate(election, rule: .greedy)
        #expect(greedy.funded == ["big", "10"])  // 60, then the tie between "10" and "9" goes to "10"
        #expect(greedy.projects.first { $0.id == "9" }?.explanation.contains("did not fit") == true)
        let mes = try AllocationRules.allocate(election, rule: .mes)
        // Each voter holds 25. "big" costs 60 among 3 (20 each): ρ = 1/3. "9" and "10": 20 each, ρ = 1/2;
        // after "big" the three have 5 each, so nothing else is affordable, nor "solo" (25 < 30).
        #expect(mes.funded == ["big"])
        #expect(mes.projects.first?.largestShare == Rational(20) && mes.projects.first?.payers == 3)
        #expect(mes.projects.first { $0.id == "solo" }?.explanation.contains("not enough support") == true)
        // Phragmén: "big", "9" and "10" all tie at a load of 20; "10" goes first. Then "9" and "solo"
        // tie at 30 and "9" goes; "solo" is next but 30 does not fit in the 20 left, so the count stops.
        let phragmen = try AllocationRules.allocate(election, rule: .phragmen)
        #expect(phragmen.funded == ["10", "9"])
        #expect(phragmen.projects.first { $0.id == "solo" }?.explanation.contains("the count stopped") == true)
    }

    @Test func rationalsAreExactAndMoveToBigNumbersWithoutLosingIt() {
        #expect(Rational(1, 3) + Rational(1, 6) == Rational(1, 2))
        #expect(Rational(2, 4).hashValue == Rational(1, 2).hashValue)
        #expect(Rational(decimal: "1500.50") == Rational(3001, 2))
        #expect(Rational(decimal: "-0.125") == -Rational(1, 8))
        #expect(Rational(decimal: "1e5") == nil && Rational(decimal: "") == nil && Rational(decimal: "1.") == nil)
        // Past 128 bits and back.
        var value = Rational(1, 7)
        for _ in 0..<60 { value = value * Rational(1, 7) }
        for _ in 0..<60 { value = value * Rational(7) }
        #expect(value == Rational(1, 7))
        var sum = Rational.zero
        for n in 1...60 { sum += Rational(1, n) }
        #expect(sum > Rational(4) && sum < Rational(5))
        // Sums of big numbers whose denominators share factors (added as Knuth does: their common
        // divisor first), checked against identities that hold only if each sum is exact.
        var small7 = Rational(1)
        for _ in 0..<30 { small7 = small7 * Rational(1, 7) }
        let x = small7 + Rational(1, 3), y = small7 * Rational(5, 6) + Rational(1, 14), z = small7 * Rational(7, 9)
        #expect((x + y) - y == x && (x + y) - x == y)
        #expect((x + y) + z == x + (y + z))
        #expect(x + -x == .zero && (x - x).hashValue == Rational.zero.hashValue)
        #expect((x + y) * Rational(6) == x * Rational(6) + y * Rational(6))
        #expect(small7 * Rational(7) + small7 * Rational(-6) == small7)
        #expect(Rational(7, 3).decimal(places: 2) == "2.33" && Rational(-5, 2).decimal(places: 0) == "-3")
    }
}

@Suite("Pabulib files: read, refused with the line and the problem, written back")
struct PabulibFileTests {
    static let good = """
        META
        key;value
        description;Test
        num_projects;2
        num_votes;3
        budget;100
        vote_type;approval
        PROJECTS
        project_id;cost;name
        1;60;"Benches; six"
        2;50;Planters
        VOTES
        voter_id;vote
        a;1,2
        b;"1"
        c;2
        """

    @Test func readsAFileWithQuotedFields() throws {
        let instance = try Pabulib.parse(Self.good)
        #expect(instance.projects.map(\.name) == ["Benches; six", "Planters"])
        #expect(instance.voters.map(\.approvals) == [["1", "2"], ["1"], ["2"]])
        #expect(try instance.budget == Rational(100))
        let again = try Pabulib.parse(Pabulib.write(instance))
        #expect(again.projects == instance.projects && again.voters.map(\.approvals) == instance.voters.map(\.approvals))
    }

    @Test(arguments: [
        ("PROJECTS\n", 1, "PROJECTS comes before META"),
        ("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;name\n", 5, "no 'cost' column"),
        ("META\nkey;value\nbudget;ten\nPROJECTS\nproject_id;cost\nVOTES\nvoter_id;vote\n", 0, "budget 'ten'"),
        ("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;5\n1;6\nVOTES\nvoter_id;vote\n", 7, "project '1' appears twice"),
        ("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;-5\nVOTES\nvoter_id;vote\n", 6, "cost '-5'"),
        ("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\nv;1,7\n", 9, "project '7', which is not in PROJECTS"),
        ("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;5\nVOTES\nvoter_id;vote\nv;1\nv;1\n", 10, "voter 'v' votes twice"),
        ("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;5;extra\n", 6, "3 fields where the PROJECTS header has 2"),
        ("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n\"1;5\n", 6, "quoted field is not closed"),
        ("META\nkey;value\nbudget;10\nPROJECTS\nproject_id;cost\n1;5\n", 0, "no VOTES section"),
        ("META\nkey;value\nbudget;10\nvote_type;ordinal\nPROJECTS\nproject_id;cost\nVOTES\nvoter_id;vote\n", 0, "vote_type 'ordinal'"),
    ])
    func refusesAMalformedFileSayingWhereAndWhy(_ text: String, _ line: Int, _ problem: String) {
        do {
            _ = try Pabulib.parse(text)
            Issue.record("accepted a malformed file: \(problem)")
        } catch let error as PabulibError {
            #expect(error.line == line, "\(error)")
            #expect(error.message.contains(problem), "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
