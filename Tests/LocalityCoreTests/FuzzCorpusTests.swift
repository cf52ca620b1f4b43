import Foundation
import LocalityFuzzTargets
import Testing

/// Every input in the fuzzing corpora (`Fuzz/corpus/TARGET`, grown by `scripts/fuzz.sh`, findings
/// included) runs through its parser again on every test run: a crash the fuzzer once found
/// would crash this suite, and a broken round trip fails it by name.
@Suite struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/corpus").standardized

    @Test(arguments: FuzzTarget.allCases)
    func everyCorpusInputStillPasses(_ target: FuzzTarget) throws {
        let directory = Self.corpus.appendingPathComponent(target.rawValue)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(!names.isEmpty, "no corpus for \(target.rawValue) in \(directory.path)")
        for name in names {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            do {
                try target.run(Array(data))
            } catch {
                Issue.record("\(target.rawValue)/\(name): \(error)")
            }
        }
    }

}
