import Foundation
import Testing

/// Runs the built `locality` binary against a throw-away home, as a person at a terminal would.
struct CLI {
    let home: URL

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
        func object() throws -> [String: Any] { try #require(try json() as? [String: Any], "not a JSON object: \(stdout)") }
        func array() throws -> [[String: Any]] { try #require(try json() as? [[String: Any]], "not a JSON array: \(stdout)") }
    }

    init() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("locality-cli-\(UUID().uuidString)")
    }

    /// The directory the test binary was built into; the executables are built beside it.
    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["LOCALITY_BIN"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("locality")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        // `swift test` from the package root, debug build.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/locality")
    }()

    @discardableResult
    func run(_ arguments: String..., environment: [String: String] = [:]) throws -> Result {
        try run(arguments, environment: environment)
    }

    /// Starts the binary without waiting for it.
    func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["--home", home.path] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    @discardableResult
    func run(
        _ arguments: [String], withHome: Bool = true, environment: [String: String] = [:], stdin: String? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = withHome ? ["--home", home.path] + arguments : arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "LOCALITY_HOME")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        // Files rather than pipes: no risk of a full pipe blocking the child.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID().uuidString)")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("err-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: out.path, contents: nil),
            FileManager.default.createFile(atPath: err.path, contents: nil)
        else { throw CocoaError(.fileWriteUnknown) }
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        if let stdin {
            let input = Pipe()
            process.standardInput = input
            try process.run()
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
            stderr: try String(contentsOf: err, encoding: .utf8))
    }

    func cleanUp() { try? FileManager.default.removeItem(at: home) }
}

extension CLI {
    /// `locality login` to a server, the password on standard input as a person types it (with
    /// `activate`, a first login with a one-time code, choosing that password).
    func login(_ user: String, at server: ServerProcess, password: String = "demo-password", activate code: String? = nil) throws -> Result {
        try run(
            ["--home", home.path, "login", "--server", server.url, "--user", user] + (code.map { ["--activate", $0] } ?? []) + ["--password-stdin"],
            withHome: false, stdin: password + "\n")
    }
}
