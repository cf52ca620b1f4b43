import Foundation
import LocalityCore
import Testing

/// Random small elections with the edges real files rarely show — projects nobody approved, ties
/// in cost and support, projects dearer than the budget, one voter, everyone approving everything,
/// ids whose text and numeric orders differ — counted by all four rules here and by the reference
/// implementation (pabutools, installed from PyPI by `.ci/run`), which must agree on every one.
///
/// The reference runs through `scripts/pabutools_reference.py` with the Python named by
/// `LOCALITY_PABUTOOLS_PYTHON` (CI sets it to its virtual environment). Without it the comparison
/// is skipped on a developer's machine, and fails under CI. Seeds: `LOCALITY_PB_SEED`,
/// `LOCALITY_PB_ELECTIONS` (default 150); a disagreement prints its seed and the `.pb` file.
@Suite("Allocation rules against the reference on random edge-case elections")
struct DifferentialRulesTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/pabutools_reference.py")

    static var python: String? {
        ProcessInfo.processInfo.environment["LOCALITY_PABUTOOLS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var runs: Bool { python != nil || ProcessInfo.processInfo.environment["CI"] != nil }

    @Test(.enabled(if: runs, "set LOCALITY_PABUTOOLS_PYTHON to a Python with pabutools to compare with the reference"))
    func everyRuleAgreesWithPabutoolsOnRandomEdgeCases() throws {
        let python = try #require(Self.python, "CI must set LOCALITY_PABUTOOLS_PYTHON to a Python with pabutools installed")
        let environment = ProcessInfo.processInfo.environment
        let first = environment["LOCALITY_PB_SEED"].flatMap(UInt64.init) ?? 20_261_130
        let total = environment["LOCALITY_PB_ELECTIONS"].flatMap(Int.init) ?? 150
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pb-differential-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        var files: [(seed: UInt64, path: String, instance: PBInstance)] = []
        for seed in first..<(first + UInt64(total)) {
            let instance = RandomElection.make(seed: seed)
            let path = folder.appendingPathComponent("seed-\(seed).pb").path
            try Pabulib.write(instance).write(toFile: path, atomically: true, encoding: .utf8)
            files.append((seed, path, instance))
        }
        let reference = try Self.reference(python: python, files: files.map(\.path))
        print("pb differential: \(files.count) elections from seed \(first), 4 rules each, against pabutools")
        var disagreements = 0
        for file in files {
            let expected = try #require(reference[file.path], "the reference said nothing about \(file.path)")
            let election = try file.instance.election()
            for rule in AllocationRule.allCases {
                let funded = try AllocationRules.allocate(election, rule: rule).funded
                let ascending = funded.sorted { $0.unicodeScalars.map(\.value).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
                if ascending != expected[rule.rawValue] {
                    disagreements += 1
                    Issue.record("""
                        seed \(file.seed), \(rule.rawValue): Locality funds \(ascending), pabutools \(expected[rule.rawValue] ?? []) \
                        — rerun with LOCALITY_PB_SEED=\(file.seed) LOCALITY_PB_ELECTIONS=1
                        \(Pabulib.write(file.instance))
                        """)
                }
            }
        }
        #expect(disagreements == 0)
    }

    /// The reference's funded ids (sorted as text) per file and rule.
    static func reference(python: String, files: [String]) throws -> [String: [String: [String]]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path] + files
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LocalityError.invalidInput("the reference script failed (\(process.terminationStatus)): \(errorText.suffix(2000))")
        }
        var results: [String: [String: [String]]] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            guard let file = object?["file"] as? String, let funded = object?["funded"] as? [String: [String]] else { continue }
            results[file] = funded
        }
        return results
    }
}

/// Small elections built to hit the edges, one per seed.
enum RandomElection {
    static func make(seed: UInt64) -> PBInstance {
        var random = SeededGenerator(seed: seed)
        let shape = Int.random(in: 0..<8, using: &random)
        let projectCount = Int.random(in: 1...7, using: &random)
        let budget = [10, 100, 1000, 10_000][Int.random(in: 0..<4, using: &random)]
        // Ids whose text order differs from their numeric order ("10" < "9"), or plain words.
        let numericIds = Bool.random(using: &random)
        let ids = (0..<projectCount).map { numericIds ? String([1, 2, 9, 10, 11, 20, 100][$0]) : ["b", "a", "c", "ab", "B", "z1", "z10"][$0] }
        // Costs: a few values, so that costs tie; some dearer than the budget, some tiny.
        let palette = [budget / 10, budget / 4, budget / 4, budget * 2 / 5, budget / 2, budget * 3 / 5, budget + budget / 2, 1]
        let costs = (0..<projectCount).map { _ in max(1, palette[Int.random(in: 0..<palette.count, using: &random)]) }
        let voterCount = shape == 0 ? 1 : Int.random(in: 1...9, using: &random)
        var ballots: [[String]] = []
        // A project nobody may approve in this election (when the shape says so).
        let shunned = shape == 1 || shape == 2 ? Int.random(in: 0..<projectCount, using: &random) : nil
        for _ in 0..<voterCount {
            var approvals: [String] = []
            switch shape {
            case 3:  // everyone approves everything
                approvals = ids
            case 4:  // everyone approves the same one or two: ties in support
                approvals = Array(ids.prefix(min(2, projectCount)))
            default:
                for (index, id) in ids.enumerated() where index != shunned && Int.random(in: 0..<3, using: &random) == 0 {
                    approvals.append(id)
                }
                if approvals.isEmpty, let pick = ids.indices.filter({ $0 != shunned }).randomElement(using: &random) {
                    approvals = [ids[pick]]
                }
            }
            if !approvals.isEmpty { ballots.append(approvals) }
        }
        let projects = zip(ids, costs).map { PBProject(id: $0.0, cost: Rational($0.1), name: "Project \($0.0)") }
        let voters = ballots.enumerated().map { PBVoter(id: String($0.offset + 1), approvals: $0.element) }
        return PBInstance(
            meta: [
                ("description", "random election, seed \(seed)"), ("num_projects", String(projectCount)),
                ("num_votes", String(voters.count)), ("budget", String(budget)), ("vote_type", "approval"),
            ],
            projects: projects, voters: voters)
    }
}

@Suite("Allocation rules: the edges, and a bound on every count's work")
struct RuleEdgeTests {
    /// Budget 10,000; one voter approves 1 and 2; 3 and 4 have no support. Equal Shares with
    /// rising shares must stop (it used to run for ever, waiting to buy what nobody approved).
    static let unapproved = PBElection(
        projects: [("1", 4000), ("2", 1500), ("3", 6000), ("4", 3500)].map { .init(id: $0.0, cost: Rational($0.1)) },
        budget: Rational(10_000), ballots: [[0, 1]])

    @Test func equalSharesWithRisingSharesStopsWhenOnlyUnapprovedProjectsAreLeft() throws {
        #expect(try AllocationRules.allocate(Self.unapproved, rule: .mesAdd1Greedy).funded == ["1", "2", "4"])
        #expect(try AllocationRules.allocate(Self.unapproved, rule: .greedy).funded == ["1", "2", "4"])
        #expect(try AllocationRules.allocate(Self.unapproved, rule: .mes).funded == ["1", "2"])
        // Phragmén: 3 and 4 carry infinite loads, tied; 3 no longer fits, so the count stops there.
        let phragmen = try AllocationRules.allocate(Self.unapproved, rule: .phragmen)
        #expect(phragmen.funded.sorted() == ["1", "2"])
        #expect(phragmen.projects.first { $0.id == "3" }?.explanation.contains("count stopped") == true)
    }

    @Test func aCouncilsVoteNeverFundsWhatNobodyChose() throws {
        var election = Self.unapproved
        election.fundsUnapproved = false
        for rule in AllocationRule.allCases {
            let allocation = try AllocationRules.allocate(election, rule: rule)
            #expect(Set(allocation.funded) == ["1", "2"], "\(rule.rawValue)")
            #expect(allocation.projects.first { $0.id == "4" }?.explanation == "nobody voted for it", "\(rule.rawValue)")
        }
    }

    @Test func phragmenDropsProjectsDearerThanTheBudgetAndStopsAtATiedProjectThatNoLongerFits() throws {
        // "big" costs more than the budget: dropped, so it cannot stop the count.
        let dear = PBElection(
            projects: [("big", 150), ("a", 40), ("b", 50)].map { .init(id: $0.0, cost: Rational($0.1)) },
            budget: Rational(100), ballots: [[0], [0], [0], [1], [2]])
        #expect(try AllocationRules.allocate(dear, rule: .phragmen).funded == ["a", "b"])
        // "x" first (load 5). Then "a" (40 over 2) and "b" (60 over 3) tie at load 20; "a" would win
        // the tie and fits, but "b" does not fit in the 55 left: the reference stops there.
        let tie = PBElection(
            projects: [("a", 40), ("b", 60), ("x", 15)].map { .init(id: $0.0, cost: Rational($0.1)) },
            budget: Rational(70), ballots: [[0], [0], [1], [1], [1], [2], [2], [2]])
        let tied = try AllocationRules.allocate(tie, rule: .phragmen)
        #expect(tied.funded == ["x"])
        #expect(tied.projects.first { $0.id == "b" }?.explanation.contains("the count stopped") == true)
    }

    @Test func noElectionMakesACountRunAway() throws {
        // One supporter of the dearest project among a thousand voters: shares must rise a unit at a
        // time ten million times before Equal Shares could buy it. The bound stops the count.
        let ballots = [[0]] + Array(repeating: [1], count: 999)
        let election = PBElection(
            projects: [.init(id: "dear", cost: Rational(9_000_000)), .init(id: "cheap", cost: Rational(1))],
            budget: Rational(10_000_000), ballots: ballots)
        let started = ContinuousClock.now
        #expect(throws: CountStopped.self) { try AllocationRules.allocate(election, rule: .mesAdd1Greedy, limit: CountLimit(steps: 2_000_000)) }
        #expect(ContinuousClock.now - started < .seconds(5))
        do {
            _ = try AllocationRules.allocate(election, rule: .mesAdd1Greedy, limit: CountLimit(steps: 2_000_000))
        } catch {
            #expect(error.description.contains("mes-add1-greedy needs more than 2000000 steps"))
        }
        // Every rule is bounded, not only the one that iterates.
        for rule in AllocationRule.allCases where rule != .greedy {
            #expect(throws: CountStopped.self, "\(rule.rawValue)") { try AllocationRules.allocate(election, rule: rule, limit: CountLimit(steps: 1)) }
        }
    }
}
