import ArgumentParser
import LocalityCore

@main
struct LocalitySync: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locality-sync",
        abstract: "The Locality sync server and its operator commands.",
        discussion: """
            Every device syncs with this server, which holds the authoritative copy and runs the same \
            rules as the devices before it accepts a change.
            """,
        subcommands: [Serve.self])
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the sync server on its embedded SQLite database.")

    @Option(help: "The server's database file.")
    var db = "locality-sync.sqlite"
    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"
    @Option(help: "The port to listen on.")
    var port = 8080
    @Flag(help: "Load the demo council (accounts: \(DemoCouncil.usernames.joined(separator: ", "))).")
    var demo = false

    func run() throws {
        throw ValidationError("the sync server is not built yet")
    }
}
