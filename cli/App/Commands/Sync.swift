import ArgumentParser
import Foundation
import LocalityCore
import LocalityHTTPClient
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bind this home to an account on a sync server, then sync.",
        discussion: """
            Works on a new home (or one already logged in to the same account). The password is read \
            from standard input with --password-stdin, or asked for without echo; it is never an argument. \
            A demo home made by `init --demo` cannot sync: log in from a new --home.
            """)

    @OptionGroup var home: HomeOptions
    @OptionGroup var output: JSONOption

    @Option(help: ArgumentHelp("The sync server, e.g. http://127.0.0.1:8080.", valueName: "url"))
    var server: String
    @Option(help: ArgumentHelp("Your username on that server.", valueName: "username"))
    var user: String
    @Flag(help: "Read the password from the first line of standard input.")
    var passwordStdin = false
    @Option(help: ArgumentHelp(
        "A first login with the one-time activation code the council gave you: the password read is the one you choose (10 characters or more).",
        valueName: "code"))
    var activate: String?

    func validate() throws {
        guard server.hasPrefix("http://") || server.hasPrefix("https://"), URL(string: server)?.host != nil else {
            throw ValidationError("'\(server)' is not a server address; write it like http://127.0.0.1:8080")
        }
        guard !user.isEmpty else { throw ValidationError("--user needs a username") }
    }

    func run() async throws {
        let password = try readPassword()
        let fileManager = FileManager.default
        let existed = fileManager.fileExists(atPath: home.replicaPath)
        HomeOptions.opened = home.replicaPath
        try fileManager.createDirectory(at: home.directory, withIntermediateDirectories: true)
        let replica = try Replica.open(at: home.replicaPath)
        let identity = try replica.identity()
        if identity?.origin == "demo" {
            throw CLIError(
                "\(home.directory.path) holds a demo replica made by `init --demo`, which cannot sync; log in from a new home, e.g. --home ~/.locality-server")
        }
        let login: LoginResponse
        do {
            let transport = HTTPTransport(serverURL: server, token: nil)
            let deviceId = identity?.deviceId ?? replica.newID()
            if let activate {
                guard password.count >= 10 else { throw CLIError("choose a password of at least 10 characters") }
                login = try await transport.activate(
                    ActivateRequest(username: user, code: activate, password: password, deviceId: deviceId, deviceName: ProcessInfo.processInfo.hostName))
            } else {
                login = try await transport.login(
                    LoginRequest(username: user, password: password, deviceId: deviceId, deviceName: ProcessInfo.processInfo.hostName))
            }
            try replica.bind(serverURL: server, login: login)
        } catch {
            if !existed {
                for suffix in ["", "-wal", "-shm"] { try? fileManager.removeItem(atPath: home.replicaPath + suffix) }
            }
            throw error
        }
        if !output.json {
            print("\(activate == nil ? "Logged in" : "Activated your account and logged in") to \(server) as \(login.username) (device \(login.deviceId.key)).")
        }
        let summary = try await SyncCommand.run(replica, serverURL: server, token: login.token, json: output.json)
        if output.json { try Output.json(summary) }
    }

    private func readPassword() throws -> String {
        if passwordStdin || isatty(STDIN_FILENO) == 0 {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("no password on standard input")
            }
            return line
        }
        guard let entered = getpass(activate == nil ? "Password for \(user): " : "Choose a password for \(user) (10 characters or more): "),
            case let text = String(cString: entered), !text.isEmpty
        else {
            throw ValidationError("a password is required")
        }
        return text
    }
}

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Send your changes to the server, then receive everything new until caught up.",
        discussion: """
            Safe to interrupt and to repeat: nothing is ever applied twice, and a sync that stops part-way \
            resumes where it stopped. Transient failures are retried with backoff. Changes the server has \
            acknowledged are kept on the device for 14 days (--keep-sent-days): if the server is restored from \
            an older backup, the device notices at its next sync, sends them back and re-receives everything.
            """)

    @OptionGroup var home: HomeOptions
    @OptionGroup var output: JSONOption
    @Option(help: ArgumentHelp("How many days to keep changes the server acknowledged, for a server restored from a backup (kept from now on).", valueName: "days"))
    var keepSentDays: Int?

    func validate() throws {
        if let keepSentDays, !(1...3650).contains(keepSentDays) {
            throw ValidationError("--keep-sent-days must be from 1 to 3650, not \(keepSentDays)")
        }
    }

    func run() async throws {
        let replica = try home.openReplica()
        if let keepSentDays { try replica.setKeepSentDays(keepSentDays) }
        guard let settings = try replica.syncSettings(), let token = settings.token else {
            throw CLIError("this home is not logged in to a sync server; run `locality login --server URL --user NAME`")
        }
        let summary = try await Self.run(replica, serverURL: settings.serverURL, token: token, json: output.json)
        if output.json { try Output.json(summary) }
    }

    static func run(_ replica: Replica, serverURL: String, token: String, json: Bool) async throws -> SyncSummary {
        let engine = SyncEngine(replica: replica, transport: HTTPTransport(serverURL: serverURL, token: token))
        let summary: SyncSummary
        do {
            let meter = PullProgress(quiet: json)
            summary = try await engine.sync { meter.update($0) }
            meter.finish()
        } catch {
            try? replica.recordSyncError("\(error)")
            throw error
        }
        if !json { report(summary) }
        return summary
    }

    static func report(_ summary: SyncSummary) {
        print(
            "Sent \(summary.sent), accepted \(summary.accepted), rejected \(summary.rejected.count); received \(summary.received) change\(summary.received == 1 ? "" : "s").")
        if !summary.rejected.isEmpty {
            print("Refused by the server (see `locality rejected`):")
            for rejection in summary.rejected {
                let subject = rejection.summary.isEmpty ? "" : " '\(rejection.summary)'"
                print("  #\(rejection.sequence) \(rejection.name)\(subject): \(rejection.message)")
            }
        }
        if summary.scopeChanged {
            let labels = [
                "need": ("need", "needs"), "need_evidence": ("evidence item", "evidence items"), "proposal": ("proposal", "proposals"),
                "conflict": ("conflict", "conflicts"),
            ]
            let parts = summary.removed.sorted { $0.key < $1.key }.compactMap { table, count -> String? in
                guard let label = labels[table] else { return nil }
                return "\(count) \(count == 1 ? label.0 : label.1)"
            }
            print(
                "Your roles changed on the server, so this device re-received everything you may now see"
                    + (parts.isEmpty ? "; nothing had to leave it." : ". Removed from this device, as you may no longer see them: \(parts.joined(separator: ", "))."))
        }
        if summary.serverRestored {
            let left = summary.removed.values.reduce(0, +)
            print(
                "The server was restored from a backup since this device last synced. This device sent back "
                    + "\(summary.resent == 1 ? "1 change" : "\(summary.resent) changes") it had made (the server keeps what it already had) "
                    + "and re-received everything you may see"
                    + (left == 0 ? "; nothing had to leave it." : "; \(left == 1 ? "1 record" : "\(left) records") the server no longer has left this device."))
        }
        if summary.conflictsLost > 0 {
            print(
                "\(summary.conflictsLost == 1 ? "1 of your edits was" : "\(summary.conflictsLost) of your edits were") overwritten by a later edit of the same field; your value is kept in `locality conflicts`.")
        }
        if summary.conflictsWon > 0 {
            print(
                "\(summary.conflictsWon == 1 ? "1 of your edits" : "\(summary.conflictsWon) of your edits") overwrote someone's concurrent edit of the same field; theirs is kept in `locality conflicts`.")
        }
        let others = summary.conflicts - summary.conflictsLost - summary.conflictsWon
        if others > 0 {
            print("\(others == 1 ? "1 edit was" : "\(others) edits were") overwritten by a concurrent edit of the same field; see `locality conflicts`.")
        }
        if summary.pending > 0 { print("\(summary.pending) change\(summary.pending == 1 ? "" : "s") still waiting to sync.") }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the last sync, changes waiting, and changes the server refused.")

    @OptionGroup var home: HomeOptions
    @OptionGroup var output: JSONOption

    struct Status: Codable {
        var server: String?
        var loggedIn: Bool
        var lastSyncAt: Date?
        var lastError: String?
        var cursor: Int64
        var pending: Int
        var rejected: Int
        var conflicts: Int
    }

    func run() throws {
        let replica = try home.openReplica()
        let settings = try replica.syncSettings()
        let status = Status(
            server: settings?.serverURL, loggedIn: settings?.token != nil, lastSyncAt: settings?.lastSyncAt,
            lastError: settings?.lastError, cursor: settings?.cursor ?? 0, pending: try replica.outbox().count,
            rejected: try replica.rejectedMutations().count, conflicts: try replica.conflicts().count)
        if output.json { return try Output.json(status) }
        Output.field("Server", status.server ?? "none (a demo replica, offline only)")
        Output.field("Last sync", status.lastSyncAt.map(Output.moment) ?? (status.server == nil ? nil : "never"))
        Output.field("Last error", status.lastError)
        Output.field("Waiting", "\(status.pending) change\(status.pending == 1 ? "" : "s")")
        Output.field("Refused", status.rejected == 0 ? "none" : "\(status.rejected) (see `locality rejected`)")
        Output.field("Conflicts", status.conflicts == 0 ? "none open" : "\(status.conflicts) open (see `locality conflicts`)")
    }
}

struct RejectedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rejected", abstract: "List the changes the server refused, with its reasons.")

    @OptionGroup var home: HomeOptions
    @OptionGroup var output: JSONOption

    func run() throws {
        let rejected = try home.openReplica().rejectedMutations()
        if output.json { return try Output.json(rejected) }
        guard !rejected.isEmpty else { return print("The server has refused none of your changes.") }
        Output.table(
            ["#", "Made", "Change", "Reason"],
            rejected.map {
                ["\($0.sequence)", Output.moment($0.createdAt), $0.name + ($0.summary.isEmpty ? "" : " '\($0.summary)'"), $0.message]
            })
    }
}

/// Progress of a long pull on standard error: how many changes have arrived, how far through the
/// server's history that is, and the rate. Rewritten in place on a terminal (at most ten times a
/// second), a line every two seconds otherwise; nothing for a short sync or under `--json`.
final class PullProgress: Sendable {
    private struct State {
        var startCursor: Int64?
        var shown = false
        var lastShown: ContinuousClock.Instant?
    }
    private let quiet: Bool
    private let terminal = isatty(STDERR_FILENO) == 1
    private let started = ContinuousClock.now
    private let state = Mutex(State())

    init(quiet: Bool) { self.quiet = quiet }

    func update(_ progress: SyncSummary) {
        guard !quiet else { return }
        let line: String? = state.withLock { state in
            if state.startCursor == nil { state.startCursor = progress.cursor - Int64(progress.received) }
            let now = ContinuousClock.now
            // Only a pull that runs to several pages is worth a meter.
            guard progress.pages > 1 || progress.received >= SyncProtocol.defaultPullLimit else { return nil }
            if let last = state.lastShown, now - last < (terminal ? .milliseconds(100) : .seconds(2)) { return nil }
            state.lastShown = now
            state.shown = true
            let elapsed = (now - started).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            var text = "  received \(Output.count(progress.received, "change"))"
            if let head = progress.head, let start = state.startCursor, head > start {
                let done = Double(progress.cursor - start) / Double(head - start)
                text += String(format: " (%.0f%% of the way)", min(max(done, 0), 1) * 100)
            }
            if seconds >= 0.5 { text += ", \(Int(Double(progress.received) / seconds)) a second" }
            return text + "…"
        }
        guard let line else { return }
        FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func finish() {
        guard !quiet, terminal, state.withLock({ $0.shown }) else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
