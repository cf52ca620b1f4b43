import ArgumentParser
import Foundation
import LocalityCore

/// Times each allocation rule on each reference instance, against the targets of issue 5.
struct RulesBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Times each allocation rule on each Pabulib instance and checks the results against the reference.",
        discussion: """
            Targets: greedy, mes and phragmen under 100 ms per instance; mes-add1-greedy at least 20× \
            faster than the reference implementation (pabutools) on the same instance, whose time for \
            the four rules together is in each NAME.expected.json (almost all of it mes-add1-greedy). \
            Each figure is the best of --repeat runs. Results must equal the reference exactly. \
            With --reference-python (or LOCALITY_PABUTOOLS_PYTHON) naming a Python with pabutools, the \
            reference is run in the same benchmark run (scripts/pabutools_reference.py, rule time only, \
            parsing excluded) and each rule is compared like with like: the speed-up is pabutools' time \
            for that rule over ours (issue 16: past 100× on every instance for mes-add1-greedy).
            """)

    @Option(help: ArgumentHelp("Folder of NAME.pb files (with NAME.expected.json where there is a reference).", valueName: "dir"))
    var fixtures = "Tests/LocalityCoreTests/Fixtures/pabulib"

    @Option(help: "Runs of each rule per instance; the best is reported.")
    var `repeat` = 3

    @Flag(help: "Also time the instances in the folder's extra/ subfolder (no reference results).")
    var extra = false

    @Flag(help: "Print the figures as JSON.")
    var json = false

    @Option(help: ArgumentHelp("A Python with pabutools installed: run the reference in this run, rule by rule.", valueName: "python"))
    var referencePython: String?

    @Option(help: ArgumentHelp("The reference script.", valueName: "file"))
    var referenceScript = "scripts/pabutools_reference.py"

    struct Figure: Codable {
        var instance: String
        var voters: Int
        var projects: Int
        var rule: String
        var milliseconds: Double
        var matchesReference: Bool?
        var referenceSeconds: Double?
        var speedup: Double?
        /// pabutools' time for this rule on this instance, measured in this run; and ours against it.
        var sameRuleReferenceSeconds: Double?
        var sameRuleSpeedup: Double?
    }

    /// pabutools' time for each rule on each file, run now: [file name: [rule: seconds]].
    func referenceTimes(_ files: [URL]) throws -> [String: [String: Double]] {
        guard let python = referencePython ?? ProcessInfo.processInfo.environment["LOCALITY_PABUTOOLS_PYTHON"], !python.isEmpty else {
            return [:]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [referenceScript] + files.map(\.path)
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("the reference (\(python) \(referenceScript)) failed") }
        var times: [String: [String: Double]] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let file = object["file"] as? String, let seconds = object["seconds"] as? [String: Double]
            else { continue }
            times[URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent] = seconds
        }
        return times
    }

    func run() throws {
        let folder = URL(fileURLWithPath: fixtures)
        var files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".pb") }.sorted()
            .map { folder.appendingPathComponent($0) }
        if extra {
            let more = folder.appendingPathComponent("extra")
            files += ((try? FileManager.default.contentsOfDirectory(atPath: more.path)) ?? []).filter { $0.hasSuffix(".pb") }.sorted()
                .map { more.appendingPathComponent($0) }
        }
        guard !files.isEmpty else { throw ValidationError("no .pb files in \(folder.path)") }
        if !json, referencePython != nil || ProcessInfo.processInfo.environment["LOCALITY_PABUTOOLS_PYTHON"] != nil {
            FileHandle.standardError.write(Data("running the reference (pabutools) on \(files.count) instances…\n".utf8))
        }
        let sameRule = try referenceTimes(files)
        var figures: [Figure] = []
        var failures: [String] = []
        for file in files {
            let name = file.deletingPathExtension().lastPathComponent
            let instance = try Pabulib.parse(String(contentsOf: file, encoding: .utf8))
            let election = try instance.election()
            var funded: [String: [String]]?
            var reference: Double?
            let expectedFile = file.deletingPathExtension().appendingPathExtension("expected.json")
            if let data = try? Data(contentsOf: expectedFile), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                funded = object["funded"] as? [String: [String]]
                reference = object["reference_seconds_all_four_rules"] as? Double
            }
            for rule in AllocationRule.allCases {
                var best = Double.infinity
                var result: Allocation?
                for _ in 0..<max(1, `repeat`) {
                    let start = DispatchTime.now().uptimeNanoseconds
                    result = try AllocationRules.allocate(election, rule: rule)
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                }
                let matches = funded.map { $0[rule.rawValue] == result?.funded.sorted() }
                if matches == false { failures.append("\(name) \(rule.rawValue)") }
                figures.append(Figure(
                    instance: name, voters: instance.voters.count, projects: instance.projects.count, rule: rule.rawValue,
                    milliseconds: best, matchesReference: matches, referenceSeconds: rule == .mesAdd1Greedy ? reference : nil,
                    speedup: rule == .mesAdd1Greedy ? reference.map { $0 * 1000 / best } : nil,
                    sameRuleReferenceSeconds: sameRule[name]?[rule.rawValue],
                    sameRuleSpeedup: sameRule[name]?[rule.rawValue].map { $0 * 1000 / best }))
                if !json {
                    FileHandle.standardError.write(Data("\(name) \(rule.rawValue): \(String(format: "%.2f", best)) ms\n".utf8))
                }
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(figures), as: UTF8.self))
        } else {
            print("Allocation rules, release build, best of \(`repeat`) (ms; reference = pabutools, all four rules, seconds)")
            print("instance".padding(toLength: 58, withPad: " ", startingAt: 0) + "  voters  greedy     mes  phragmen  add1-greedy  reference  speed-up  same")
            for name in Set(figures.map(\.instance)).sorted() {
                let rows = figures.filter { $0.instance == name }
                func ms(_ rule: AllocationRule) -> String {
                    String(format: "%.2f", rows.first { $0.rule == rule.rawValue }?.milliseconds ?? .nan)
                }
                let add1 = rows.first { $0.rule == AllocationRule.mesAdd1Greedy.rawValue }
                let same = rows.allSatisfy { $0.matchesReference ?? true } ? (rows[0].matchesReference == nil ? "n/a" : "yes") : "NO"
                print(
                    String(name.prefix(58)).padding(toLength: 58, withPad: " ", startingAt: 0)
                        + String(format: "  %6d", rows[0].voters) + ms(.greedy).leftPad(8) + ms(.mes).leftPad(8) + ms(.phragmen).leftPad(10)
                        + ms(.mesAdd1Greedy).leftPad(13) + (add1?.referenceSeconds.map { String(format: "%.2f s", $0) } ?? "—").leftPad(11)
                        + (add1?.speedup.map { String(format: "%.0f×", $0) } ?? "—").leftPad(10) + same.leftPad(6))
            }
            let slowest = figures.filter { $0.rule != AllocationRule.mesAdd1Greedy.rawValue }.map(\.milliseconds).max() ?? 0
            let weakest = figures.compactMap(\.speedup).min()
            print("Slowest greedy/mes/phragmen: \(String(format: "%.2f", slowest)) ms (target < 100 ms)")
            if let weakest { print("Smallest mes-add1-greedy speed-up over the reference: \(String(format: "%.0f", weakest))× (target ≥ 20×)") }
            if !sameRule.isEmpty {
                print("Like for like (pabutools run now, the same rule, rule time only): speed-up by instance")
                print("instance".padding(toLength: 58, withPad: " ", startingAt: 0) + "    greedy       mes  phragmen  add1-greedy")
                for name in Set(figures.map(\.instance)).sorted() {
                    let rows = figures.filter { $0.instance == name }
                    func speedup(_ rule: AllocationRule, _ width: Int) -> String {
                        (rows.first { $0.rule == rule.rawValue }?.sameRuleSpeedup.map { String(format: "%.0f×", $0) } ?? "—").leftPad(width)
                    }
                    print(String(name.prefix(58)).padding(toLength: 58, withPad: " ", startingAt: 0)
                        + speedup(.greedy, 10) + speedup(.mes, 10) + speedup(.phragmen, 10) + speedup(.mesAdd1Greedy, 13))
                }
                let add1 = figures.filter { $0.rule == AllocationRule.mesAdd1Greedy.rawValue }.compactMap(\.sameRuleSpeedup)
                if let least = add1.min() {
                    print("Smallest like-for-like mes-add1-greedy speed-up: \(String(format: "%.0f", least))× over \(add1.count) instances (target > 100× on every one)")
                }
            }
        }
        if !failures.isEmpty { throw ValidationError("results differ from the reference: \(failures.joined(separator: ", "))") }
    }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String { count >= width ? " " + self : String(repeating: " ", count: width - count) + self }
}
