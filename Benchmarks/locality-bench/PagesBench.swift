import ArgumentParser
import Foundation
import LocalityCore
import LocalitySyncServer

struct PagesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pages",
        abstract: "The public pages and open-data files of the demo council: size and time to render each.",
        discussion: """
            Loads the demo council into a fresh database, then renders every public page (/, each place \
            the index lists, /decisions, /awards, /open-data) and the open-data files (360Giving, OCDS) \
            --runs times each, as the server does for a request, and prints each one's size and median \
            and p99 render time. Targets: every page under 50 KB and rendered in under 20 ms.
            """)

    @Option(help: "Renders of each page.") var runs = 200
    @Flag(help: "Print the figures as JSON.") var json = false

    struct Figures: Codable {
        var path: String
        var bytes: Int
        var p50Millis: Double
        var p99Millis: Double
    }

    func validate() throws {
        guard runs >= 10 else { throw ValidationError("--runs must be at least 10") }
    }

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("locality-pages-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteSyncStore.open(at: folder.appendingPathComponent("demo.sqlite").path)
        try store.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))

        var resources: [(String, PublicResource)] = [
            ("/", .index), ("/decisions", .decisions(page: 1)), ("/awards", .awards(page: 1)), ("/open-data", .openData),
            ("/open-data/360giving.json", .grants), ("/open-data/ocds.json", .contracts),
        ]
        if case .page(_, let index)? = try await store.publicContent(.index), case .object(let members) = index,
            case .array(let places)? = members["places"]
        {
            for place in places {
                if case .object(let fields) = place, case .string(let url)? = fields["url"] {
                    resources.append((url, .place(String(url.dropFirst("/places/".count)))))
                }
            }
        }
        var results: [Figures] = []
        for (path, resource) in resources {
            var times: [Double] = []
            var bytes = 0
            for _ in 0..<runs {
                let started = ContinuousClock.now
                let content = try await store.publicContent(resource)
                let elapsed = ContinuousClock.now - started
                times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                switch content {
                case .page(let html, _)?: bytes = html.utf8.count
                case .file(let data, _, _)?: bytes = data.count
                case nil: throw ValidationError("\(path) is not served")
                }
            }
            times.sort()
            results.append(Figures(
                path: path, bytes: bytes, p50Millis: times[times.count / 2], p99Millis: times[min(times.count - 1, times.count * 99 / 100)]))
        }
        if json {
            print(String(decoding: try JSONCoding.prettyEncoder.encode(results), as: UTF8.self))
            return
        }
        print("public pages of the demo council, \(runs) renders each (targets: < 50 KB, < 20 ms):")
        for figures in results {
            print("  \(figures.path.padding(toLength: 34, withPad: " ", startingAt: 0)) "
                + "\(String(format: "%6.1f", Double(figures.bytes) / 1000)) KB   p50 \(String(format: "%5.2f", figures.p50Millis)) ms   "
                + "p99 \(String(format: "%5.2f", figures.p99Millis)) ms")
        }
        let largest = results.map(\.bytes).max() ?? 0
        let slowest = results.map(\.p99Millis).max() ?? 0
        print("largest \(String(format: "%.1f", Double(largest) / 1000)) KB, slowest p99 \(String(format: "%.2f", slowest)) ms")
    }
}
