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
            Each figure is the best of --repeat runs. Results must equal the reference exactly.
            """)

    @Option(help: ArgumentHelp("Folder of NAME.pb files (with NAME.expected.json where there is a reference).", valueName: "dir"))
    var fixtures = "Tests/LocalityCoreTests/Fixtures/pabulib"

    @Option(help: "Runs of each rule per instance; the best is reported.")
    var `repeat` = 3

    @Flag(help: "Also time the instances in the folder's extra/ subfolder (no reference results).")
    var extra = false

    @Flag(help: "Print the figures as JSON.")
    var json = false

    struct Figure: Codable {
        var instance: String
        var voters: Int
        var projects: Int
        var rule: String
        var milliseconds: Double
        var matchesReference: Bool?
        var referenceSeconds: Double?
        var speedup: Double?
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
                    speedup: rule == .mesAdd1Greedy ? reference.map { $0 * 1000 / best } : nil))
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
        }
        if !failures.isEmpty { throw ValidationError("results differ from the reference: \(failures.joined(separator: ", "))") }
    }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String { count >= width ? " " + self : String(repeating: " ", count: width - count) + self }
}
