import Foundation
import Testing

/// The README's tour, command by command, against a fresh demo server: what a newcomer pastes
/// must work. A command followed by a `#   Error:` line must fail; every other must succeed; an
/// inline comment that quotes output (`# Sent 1, accepted 1, …`) must match what was printed,
/// its `…` standing for anything.
@Suite("The README tour runs as written", .serialized)
struct TourTests {
    struct Step {
        var command: String
        var expectFailure: Bool
        var quotedOutput: String?
        var line: Int
    }

    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("README.md")

    /// The shell blocks of a README section, joined across `\` continuations, without the tour's
    /// server start and alias.
    static func steps(from first: String = "## A tour:", to last: String = "### Participatory budgeting: allocation rules") throws -> [Step] {
        let text = try String(contentsOf: readme, encoding: .utf8)
        guard let start = text.range(of: first), let end = text.range(of: last, range: start.upperBound..<text.endIndex) else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "the README has no section \(first)"])
        }
        let lines = text[start.lowerBound..<end.lowerBound].components(separatedBy: "\n")
        let offset = text[..<start.lowerBound].components(separatedBy: "\n").count
        var steps: [Step] = []
        var inBlock = false
        var pending = ""
        var pendingLine = 0
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```") {
                inBlock = line == "```sh"
                continue
            }
            guard inBlock else { continue }
            if line.hasPrefix("#   Error:"), !steps.isEmpty {
                steps[steps.count - 1].expectFailure = true
                continue
            }
            if pending.isEmpty && (line.isEmpty || line.hasPrefix("#")) { continue }
            if pending.isEmpty { pendingLine = offset + index }
            if line.hasSuffix("\\") {
                pending += String(line.dropLast()) + " "
                continue
            }
            let full = pending + line
            pending = ""
            if full.hasPrefix("swift run locality-sync serve") || full.hasPrefix("alias ") { continue }
            // An inline comment: the command before it; output quoted in it, if it quotes output.
            var command = full
            var quoted: String?
            if let hash = full.range(of: "  #") ?? full.range(of: " # ") {
                command = String(full[..<hash.lowerBound]).trimmingCharacters(in: .whitespaces)
                let comment = full[hash.upperBound...].trimmingCharacters(in: .whitespaces)
                let outputs = ["Sent ", "rejected ", "Your ballot", "funded ", "part-funded", "… ballot paper"]
                if outputs.contains(where: { comment.hasPrefix($0) }) { quoted = comment }
            }
            steps.append(Step(command: command, expectFailure: false, quotedOutput: quoted, line: pendingLine))
        }
        return steps
    }

    @Test func theTourHasItsSteps() throws {
        let steps = try Self.steps()
        #expect(steps.count > 60)
        #expect(steps.filter(\.expectFailure).count >= 3)
        #expect(!steps.contains { $0.command.contains("<") || $0.command.contains("uuidgen") }, "placeholders left in the tour")
    }

    @Test func everyCommandOfTheTourDoesWhatTheREADMESays() throws {
        try Self.run(try Self.steps())
    }

    /// "Set up your council": from an empty database to Shropshire's real wards and parishes, its
    /// organisations and an imported councillor who activates their account and records a need in
    /// a parish spanning sixteen wards. Its `serve` line starts the server the rest then uses.
    @Test func settingUpACouncilWorksAsTheREADMESays() throws {
        let steps = try Self.steps(from: "## Set up your council", to: "## Running the server")
        #expect(steps.count >= 10)
        try Self.run(steps, demo: false)
    }

    static func run(_ steps: [Step], demo: Bool = true) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("locality-tour-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let server = demo ? ServerProcess() : ServerProcess(demo: false, database: scratch.appendingPathComponent("shropshire.sqlite"))
        defer { server.cleanUp() }
        if demo { try server.start() }
        let repository = readme.deletingLastPathComponent()
        let bin = scratch.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        for name in ["locality", "locality-sync"] {
            try FileManager.default.createSymbolicLink(
                at: bin.appendingPathComponent(name), withDestinationURL: CLI.binary.deletingLastPathComponent().appendingPathComponent(name))
        }
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = bin.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment.removeValue(forKey: "LOCALITY_HOME")

        for step in steps {
            let command = step.command
                .replacingOccurrences(of: ".build/debug/locality-sync", with: "locality-sync")
                .replacingOccurrences(of: ".build/debug/locality", with: "locality")
                .replacingOccurrences(of: "/tmp/council.sqlite", with: "@DATABASE@")
                .replacingOccurrences(of: "/tmp/", with: scratch.path + "/")
                .replacingOccurrences(of: "@DATABASE@", with: server.database.path)
                .replacingOccurrences(of: "http://127.0.0.1:8080", with: server.url)
            if command.hasPrefix("locality-sync serve") {
                // The set-up's server, left running in the README: started here on its database.
                try server.start()
                continue
            }
            let commandWithServer = command.replacingOccurrences(of: "http://127.0.0.1:8081", with: server.url)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", commandWithServer]
            process.environment = environment
            process.currentDirectoryURL = repository  // the README's commands run from the repository's folder
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let failed = process.terminationStatus != 0
            #expect(failed == step.expectFailure, "README line \(step.line): `\(step.command)` exited \(process.terminationStatus)\n\(stdout)\n\(stderr)")
            if let quoted = step.quotedOutput {
                // Each piece between the ellipses, in order (an explanation after " — " is not output).
                var rest = Substring(stdout + stderr)
                let output = quoted.components(separatedBy: " — ").first ?? quoted
                for piece in output.components(separatedBy: "…").map({ $0.trimmingCharacters(in: .whitespaces) }) where !piece.isEmpty {
                    guard let found = rest.range(of: piece) else {
                        Issue.record("README line \(step.line): the comment says '\(quoted)' but `\(step.command)` printed:\n\(stdout)\(stderr)")
                        break
                    }
                    rest = rest[found.upperBound...]
                }
            }
        }
    }
}
