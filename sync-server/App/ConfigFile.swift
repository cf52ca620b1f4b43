import Foundation

/// `serve --config FILE` (or `LOCALITY_SYNC_CONFIG`): settings from a file, one `key = value` per
/// line (`#` starts a comment). One precedence order for every setting: a command-line option,
/// then the environment, then the file, then the built-in default. The file's values are placed in
/// the environment before the command line is parsed, never over a variable already set.
enum ConfigFile {
    /// The keys a file may set, and the environment variable each stands for.
    static let keys: [String: String] = [
        "db": "LOCALITY_SYNC_DB", "host": "LOCALITY_SYNC_HOST", "port": "LOCALITY_SYNC_PORT",
        "log-level": "LOCALITY_SYNC_LOG_LEVEL", "log-format": "LOCALITY_SYNC_LOG_FORMAT",
        "metrics-token-file": "LOCALITY_SYNC_METRICS_TOKEN_FILE", "backup-dir": "LOCALITY_SYNC_BACKUP_DIR",
        "backup-every": "LOCALITY_SYNC_BACKUP_EVERY", "keep": "LOCALITY_SYNC_BACKUP_KEEP",
        "database": "LOCALITY_SYNC_DATABASE_URL",
    ]

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// The file named by `--config FILE` / `--config=FILE` among the arguments, else by the environment.
    static func path(in arguments: [String]) -> String? {
        for (index, argument) in arguments.enumerated() {
            if argument == "--config", index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix("--config=") { return String(argument.dropFirst("--config=".count)) }
        }
        let fromEnvironment = ProcessInfo.processInfo.environment["LOCALITY_SYNC_CONFIG"]
        return fromEnvironment?.isEmpty == false ? fromEnvironment : nil
    }

    /// The file's settings as environment variables, or the first problem, naming its line.
    static func parse(_ text: String, file: String) throws -> [(String, String)] {
        var settings: [(String, String)] = []
        var seen = Set<String>()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            let at = "\(file) line \(index + 1)"
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw Problem(description: "\(at): '\(trimmed.prefix(60))' is not a setting; write key = value")
            }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            guard let variable = keys[key] else {
                throw Problem(description: "\(at): '\(key.prefix(40))' is not a setting; the settings are \(keys.keys.sorted().joined(separator: ", "))")
            }
            guard !value.isEmpty, !value.contains(where: { $0.isNewline || ($0.asciiValue.map { $0 < 32 } ?? false) }) else {
                throw Problem(description: "\(at): \(key) needs a value")
            }
            guard seen.insert(key).inserted else { throw Problem(description: "\(at): \(key) is set twice") }
            settings.append((variable, value))
        }
        return settings
    }

    /// Reads the file (when one is named) into the environment, under what is already set there.
    static func apply(arguments: [String]) throws {
        guard let path = path(in: arguments) else { return }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Problem(description: "the configuration file \(path) cannot be read")
        }
        for (variable, value) in try parse(text, file: path) where ProcessInfo.processInfo.environment[variable] == nil {
            setenv(variable, value, 0)
        }
    }
}
