import ArgumentParser
import Foundation
import LocalityCore
import LocalitySyncServer

/// An operator command's failure that is not a mistake in how it was typed: printed as
/// `Error: …` without the usage block, exit status 1.
struct OperatorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The server's database, for operator commands.
struct DatabaseOption: ParsableArguments {
    @Option(help: "The server's database file (default: $LOCALITY_SYNC_DB, else locality-sync.sqlite).")
    var db = ProcessInfo.processInfo.environment["LOCALITY_SYNC_DB"] ?? "locality-sync.sqlite"
    @Option(
        name: .customLong("database"),
        help: ArgumentHelp("A PostgreSQL database (postgres://user:password@host:5432/name) instead of --db; also $LOCALITY_SYNC_DATABASE_URL.", valueName: "url"))
    var postgres: String?

    /// Refuses a path that is not an existing file, in words.
    func requireFile() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: db, isDirectory: &isDirectory) else {
            throw OperatorError("there is no server database at \(db); start the server once, or give --db")
        }
        guard !isDirectory.boolValue else {
            throw OperatorError("\(db) is a directory, not a server database file; give --db the file itself")
        }
    }

    func open() throws -> SQLiteSyncStore {
        try requireFile()
        do {
            return try SQLiteSyncStore.open(at: db)
        } catch {
            throw OperatorError("cannot open the server database at \(db): \(DatabaseProblem.describe(error))")
        }
    }
}

struct JSONFlag: ParsableArguments {
    @Flag(help: "Print JSON for scripts.")
    var json = false
}

/// A table of data for the terminal.
func printTable(_ header: [String], _ rows: [[String]]) {
    for line in TextTable.lines(header, rows) { print(line) }
}

func printJSON(_ value: some Encodable) throws {
    print(String(decoding: try JSONCoding.prettyEncoder.encode(value), as: UTF8.self))
}

/// A role and where it applies, as `user add` and `user set-roles` take them.
struct RoleOptions: ParsableArguments {
    @Option(help: ArgumentHelp("One of: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "role"))
    var role: String
    @Option(help: ArgumentHelp("A ward, for a councillor (id, slug or GSS code; repeat for more); where a resident lives.", valueName: "ref"))
    var locality: [String] = []
    @Option(help: ArgumentHelp("An organisation, for a member (id, slug or org-id); repeat for more.", valueName: "ref"))
    var org: [String] = []

    func parsedRole() throws -> Role {
        guard let parsed = Role(rawValue: role) else {
            throw ValidationError("'\(role)' is not a role; use one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return parsed
    }
}

struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Accounts: add, list, change roles, disable.",
        subcommands: [Add.self, Import.self, Activation.self, List.self, SetRoles.self, Disable.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an account. The password is read from the first line of standard input.",
            discussion: """
                Example: printf '%s\\n' "$PASSWORD" | locality-sync user add --username cllr-east \\
                  --role councillor --locality E05900005 --display-name "Cllr Sam Lee"
                """)

        @OptionGroup var database: DatabaseOption
        @OptionGroup var output: JSONFlag
        @Option var username: String
        @Option(help: "The name people see (default: the username).")
        var displayName = ""
        @OptionGroup var roles: RoleOptions

        @Flag(help: "Give the person a one-time activation code to choose their own password with, instead of a password.")
        var activation = false
        @Option(help: "With --activation: how many days the code is valid.") var validDays = 14

        func run() async throws {
            let role = try roles.parsedRole()
            if activation {
                let code = ActivationCodes.make()
                let account = NewAccount(
                    username: username, displayName: displayName, role: role, localities: roles.locality, organisations: roles.org, passwordHash: "")
                var issued = try await database.with { database in
                    try await database.administer(
                        .addAccountsForActivation(accounts: [AccountLine(line: nil, account: account)], days: validDays, codeHashes: [ActivationCodes.hash(code)]),
                        as: [IssuedCode].self)
                }
                issued[0].code = code
                if output.json { return try printJSON(issued) }
                print("Added \(username). Activation code (give it to them; it works once, until \(Timestamps.day(issued[0].expiresAt))): \(issued[0].code)")
                print("They run: locality login --server URL --user \(username) --activate CODE")
                return
            }
            guard let password = readLine(strippingNewline: true), password.count >= 10 else {
                throw ValidationError("give a password of at least 10 characters on standard input (never as an argument), or use --activation")
            }
            let new = NewAccount(
                username: username, displayName: displayName, role: role, localities: roles.locality, organisations: roles.org,
                passwordHash: Passwords.hash(password))
            let account = try await database.with { database in try await database.administer(.addAccount(new), as: AccountSummary.self) }
            if output.json { return try printJSON(account) }
            print("Added \(account.username) (\(account.roles.joined(separator: "; "))).")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add the accounts in a file, each with a one-time activation code: all of them, or none.",
            discussion: """
                A CSV file with a header naming its columns: username, display name, role, places \
                (wards or places, separated by ';'), organisation. No password is ever made up: each \
                account gets an activation code, valid for --valid-days, with which the person chooses \
                their password on their own device (`locality login --activate CODE`). The codes are \
                printed, or written to --codes-to FILE (readable by its owner only); they are never logged.
                """)
        @OptionGroup var database: DatabaseOption
        @OptionGroup var output: JSONFlag
        @Argument(help: ArgumentHelp("The file (CSV).", valueName: "file.csv")) var file: String
        @Option(help: ArgumentHelp("Write the codes to this file instead of printing them.", valueName: "file")) var codesTo: String?
        @Option(help: "How many days the codes are valid.") var validDays = 14
        @Flag(help: "Check the whole file and say what would be added, adding nothing.") var dryRun = false

        func run() async throws {
            let text = try readSetUpFile(file)
            let accounts: [AccountLine]
            do { accounts = try AccountFile.parse(text).map { AccountLine(line: $0.line, account: $0.account) } } catch let error as LocalityError {
                throw OperatorError("\(file): \(error.message); nothing was added")
            }
            let codes = accounts.map { _ in ActivationCodes.make() }
            let issued: [IssuedCode] = try await database.with { database in
                if dryRun {
                    do {
                        return try await database.reading().addAccountsForActivation(
                            accounts, days: validDays, codeHashes: codes.map(ActivationCodes.hash), now: Date(), dryRun: true, seed: 0)
                    } catch let error as LocalityError {
                        throw OperatorError("\(file): \(error.message); nothing was added")
                    }
                }
                let added = try await database.administer(
                    .addAccountsForActivation(accounts: accounts, days: validDays, codeHashes: codes.map(ActivationCodes.hash)), as: [IssuedCode].self,
                    context: file)
                return zip(added, codes).map { IssuedCode(username: $0.username, code: $1, expiresAt: $0.expiresAt) }
            }
            if let codesTo, !dryRun {
                let lines = ["username,activation code,valid until"] + issued.map { "\($0.username),\($0.code),\(Timestamps.day($0.expiresAt))" }
                guard FileManager.default.createFile(
                    atPath: codesTo, contents: Data((lines.joined(separator: "\n") + "\n").utf8), attributes: [.posixPermissions: 0o600])
                else { throw OperatorError("cannot write \(codesTo); the accounts were added: issue fresh codes with `user activation USERNAME`") }
                if output.json { return try printJSON(issued.map { ["username": $0.username, "validUntil": Timestamps.day($0.expiresAt)] }) }
                print("Added \(issued.count) account\(issued.count == 1 ? "" : "s"); their activation codes are in \(codesTo) (readable by you only).")
                return
            }
            if output.json { return try printJSON(issued) }
            print("\(dryRun ? "Would add" : "Added") \(issued.count) account\(issued.count == 1 ? "" : "s"). Each code works once, until the day shown:")
            printTable(["Username", "Activation code", "Valid until"], issued.map { [$0.username, $0.code, Timestamps.day($0.expiresAt)] })
        }
    }

    struct Activation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "activation",
            abstract: "Issue a fresh one-time activation code for an account (a forgotten password, a lost code).",
            discussion: "Any earlier code stops working. The person then runs `locality login --activate CODE` and chooses a new password.")
        @OptionGroup var database: DatabaseOption
        @OptionGroup var output: JSONFlag
        @Argument(help: ArgumentHelp("The username.", valueName: "username")) var username: String
        @Option(help: "How many days the code is valid.") var validDays = 14

        func run() async throws {
            let code = ActivationCodes.make()
            var issued = try await database.with { database in
                try await database.administer(
                    .issueActivation(username: username, days: validDays, codeHash: ActivationCodes.hash(code)), as: IssuedCode.self)
            }
            issued.code = code
            if output.json { return try printJSON(issued) }
            print("Activation code for \(issued.username) (works once, until \(Timestamps.day(issued.expiresAt))): \(issued.code)")
        }
    }

    struct SetRoles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-roles",
            abstract: "Replace an account's roles, e.g. after an election or a change of wards.",
            discussion: """
                The account's devices learn at their next sync: records the new roles let them see \
                arrive, and records they may no longer see leave the device (after any changes \
                made on it have been sent and answered). Example: locality-sync user set-roles \
                cllr-north --role councillor --locality whitmere-ward
                """)

        @OptionGroup var database: DatabaseOption
        @OptionGroup var output: JSONFlag
        @Argument(help: ArgumentHelp("The username.", valueName: "username"))
        var username: String
        @OptionGroup var roles: RoleOptions

        func run() async throws {
            let role = try roles.parsedRole()
            let account = try await database.with { database in
                try await database.administer(
                    .setRoles(username: username, role: role, localities: roles.locality, organisations: roles.org), as: AccountSummary.self)
            }
            if output.json { return try printJSON(account) }
            print("\(account.username) is now: \(account.roles.joined(separator: "; ")). Their devices follow at their next sync.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts with their roles and devices.")
        @OptionGroup var database: DatabaseOption
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let accounts = try await database.with { try await $0.reading().accounts() }
            if output.json { return try printJSON(accounts) }
            let rows = accounts.map { account in
                [account.username, account.displayName, account.roles.joined(separator: "; "), String(account.devices),
                 account.disabled ? "disabled" : account.accessEnds.map { "active until \(Timestamps.day($0))" } ?? "active"]
            }
            printTable(["Username", "Name", "Roles", "Devices", "State"], rows)
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End an account's access: at once, or from a day to come (a councillor leaving office).",
            discussion: "Example, after an election: locality-sync user disable cllr-north --on 2027-05-07")
        @OptionGroup var database: DatabaseOption
        @Argument(help: ArgumentHelp("The username.", valueName: "username"))
        var username: String
        @Option(help: ArgumentHelp("The first day without access (YYYY-MM-DD); today if not given.", valueName: "day"))
        var on: String?

        func run() async throws {
            var from: Date?
            if let on {
                guard on.count == 10, let day = Timestamps.parse(on + "T00:00:00.000Z") else {
                    throw ValidationError("--on takes a day written YYYY-MM-DD, not '\(on)'")
                }
                from = day
            }
            _ = try await database.with { database in
                try await database.administer(.disableAccount(username: username, from: from), as: [String: String].self)
            }
            if let from, from > Date() {
                print("\(username) keeps access until \(Timestamps.day(from)); from that day their devices can no longer sync.")
            } else {
                print("Disabled \(username); its devices can no longer sync.")
            }
        }
    }
}

struct DeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device", abstract: "Devices: list, revoke.", subcommands: [List.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List devices, their users and when they last synced.")
        @OptionGroup var database: DatabaseOption
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let devices = try await database.with { try await $0.reading().devices() }
            if output.json { return try printJSON(devices) }
            guard !devices.isEmpty else { return print("No device has logged in yet.") }
            for device in devices {
                let seen = device.lastSeenAt.map(Timestamps.format) ?? "never"
                print("\(device.id.key)  \(device.username.padding(toLength: 12, withPad: " ", startingAt: 0))  last seen \(seen)  mutations \(device.lastSequence)\(device.revoked ? "  [revoked]" : "")")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a device: its token stops working at once.")
        @OptionGroup var database: DatabaseOption
        @Argument(help: ArgumentHelp("The device id (or at least its last 6 characters).", valueName: "id"))
        var id: String

        func run() async throws {
            let device = try await database.with { try await $0.administer(.revokeDevice(reference: id), as: DeviceSummary.self) }
            print("Revoked \(device.id.key) (\(device.username)).")
        }
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit trail of decisions, ledger entries and status changes.",
        subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the audit trail's hash chain; exits non-zero at the first broken link.",
            discussion: """
                Every entry carries the hash of the one before it. This recomputes the chain from the first \
                entry and reports the first entry whose contents or link do not match. The database is \
                opened read-only. With --database postgres://…, the chain checked is PostgreSQL's log of every \
                operation, whichever server process wrote each entry.
                """)
        @OptionGroup var database: DatabaseOption
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let result: Audit.Verification
            do {
                if let url = database.databaseURL {
                    let log = try await PostgresLog(try PostgresLocation(url: url))
                    defer { log.shutdown() }
                    result = try await log.verify()
                } else {
                    try database.requireFile()
                    result = try Audit.verify(databaseAt: database.db)
                }
            } catch let error as LocalityError {
                throw OperatorError(error.message)
            } catch {
                throw OperatorError("cannot read the audit trail: \(PostgresLog.describe(error))")
            }
            if output.json {
                try printJSON(result)
            } else if let broken = result.firstBroken {
                print("BROKEN at entry \(broken.sequence) (\(broken.action) \(broken.recordId)): \(broken.problem).")
                print("\(result.entries) entries checked; everything from entry \(broken.sequence) on is unverified.")
            } else {
                print("Intact: \(result.entries) entries, each chained to the one before it"
                    + (result.unsealed > 0 ? "; \(result.unsealed) written by a transaction still open" : "") + ".")
            }
            if !result.intact { throw ExitCode(2) }
        }
    }
}

struct PBServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pb",
        abstract: "Participatory budgeting votes as Pabulib files (pabulib.org): export a vote, import ballots into one.",
        discussion: """
            Only the server holds every ballot, so votes are exported and imported here. An export numbers \
            voters 1, 2, … in a random order and carries no voter reference, serial number or capturer.
            """,
        subcommands: [Export.self, Import.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a vote's proposals and anonymous ballots as a Pabulib file.")
        @OptionGroup var database: DatabaseOption
        @Argument(help: ArgumentHelp("The vote: its id, short reference or title.", valueName: "vote")) var vote: String
        @Option(help: ArgumentHelp("Where to write the file.", valueName: "file.pb")) var out: String

        func run() async throws {
            let store = try await database.with { try await $0.reading() }
            let (text, title) = try await store.database.read { db -> (String, String) in
                let vote = try References.vote(vote, db)
                return (try Pabulib.export(vote: vote.id, db), vote.title)
            }
            do {
                try text.write(toFile: out, atomically: true, encoding: .utf8)
            } catch {
                throw OperatorError("cannot write \(out): \(error.localizedDescription)")
            }
            let ballots = text.split(separator: "\n").drop { $0 != "VOTES" }.count - 2
            print("Wrote '\(title)' to \(out): \(max(0, ballots)) anonymous ballots.")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a Pabulib file's ballots to an open vote: all of them, or none.",
            discussion: """
                Every project id in the file must name a proposal on the vote's ballot (its id, short \
                reference or exact title), and every ballot must keep the vote's limits. A file's voters \
                are counted once: importing the same file again is refused. A malformed file is refused \
                with its line and problem; nothing is half-imported.
                """)
        @OptionGroup var database: DatabaseOption
        @Argument(help: ArgumentHelp("The Pabulib file.", valueName: "file.pb")) var file: String
        @Option(help: ArgumentHelp("The open vote to add its ballots to.", valueName: "vote")) var vote: String
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch { throw OperatorError("cannot read \(file): \(error.localizedDescription)") }
            do { _ = try Pabulib.parse(text) } catch let error as PabulibError {
                throw OperatorError("\(file): \(error.description); nothing was imported")
            }
            let source = URL(fileURLWithPath: file).lastPathComponent
            let count: Int
            do {
                count = try await database.with { database in
                    try await database.administer(.importBallots(pabulib: text, vote: vote, source: source), as: ImportedBallots.self).imported
                }
            } catch let error as OperatorError {
                throw OperatorError("\(error.description); nothing was imported")
            }
            if output.json { return try printJSON(["imported": count]) }
            print("Imported \(count) ballot\(count == 1 ? "" : "s") from \(file).")
        }
    }
}

/// A file of accounts: username, display name, role, places, organisation.
enum AccountFile {
    static func parse(_ text: String) throws -> [(line: Int?, account: NewAccount)] {
        let records: [(line: Int, fields: [String])]
        do { records = try CSV.records(text) } catch { throw LocalityError.invalidInput(error.description) }
        guard let header = records.first else { throw LocalityError.invalidInput("the file is empty") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: " ") }
        func column(_ options: [String]) -> Int? { names.firstIndex { options.contains($0) } }
        guard let username = column(["username", "user"]), let role = column(["role"]) else {
            throw LocalityError.invalidInput("line \(header.line): the header must name the columns username, display name, role, places and organisation")
        }
        let display = column(["display name", "name", "displayname"])
        let places = column(["places", "wards", "localities", "locality", "ward"])
        let organisation = column(["organisation", "organization", "org"])
        let accounts = try records.dropFirst().map { record -> (line: Int?, account: NewAccount) in
            guard record.fields.count == header.fields.count else {
                throw LocalityError.invalidInput("line \(record.line): \(record.fields.count) fields where the header has \(header.fields.count)")
            }
            let value = { (index: Int?) in index.map { record.fields[$0].trimmingCharacters(in: .whitespaces) } ?? "" }
            guard let parsedRole = Role(rawValue: value(role).lowercased()) else {
                throw LocalityError.invalidInput(
                    "line \(record.line): '\(TerminalText.safe(value(role)))' is not a role; use one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let split = { (text: String) in text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            return (record.line, NewAccount(
                username: value(username), displayName: value(display), role: parsedRole, localities: split(value(places)),
                organisations: split(value(organisation)), passwordHash: ""))
        }
        guard !accounts.isEmpty else { throw LocalityError.invalidInput("the file has no accounts after its header") }
        return accounts
    }
}
