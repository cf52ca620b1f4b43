import ArgumentParser
import Foundation
import LocalityCore
import LocalitySyncServer

struct GeographyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "geography",
        abstract: "Importing ONS's parish–ward–district lookup for every district of England and Wales at once.",
        discussion: """
            Generates a lookup of the national file's size (by default 13,500 rows over 330 districts, \
            about 8,000 wards and 11,000 parishes, some in several wards, names with commas), then times \
            parsing it and importing it into a fresh server database under a county authority, and \
            re-importing it unchanged (the boundary-review path). Target: the import under 5 s.
            """)

    @Option(help: "Rows to generate.") var rows = 13_500
    @Option(help: "Districts to spread them over.") var districts = 330
    @Flag(help: "Print the figures as JSON.") var json = false

    struct Figures: Codable {
        var rows: Int
        var bytes: Int
        var parseSeconds: Double
        var importSeconds: Double
        var reimportSeconds: Double
        var added: Int
        var multiWardParishes: Int
    }

    /// A lookup shaped like the real one: each district's wards, most parishes in one ward, some in several.
    static func lookup(rows: Int, districts: Int) -> String {
        var random = SeededGenerator(seed: 2019)
        var lines = ["FID,PAR19CD,PAR19NM,WD19CD,WD19NM,LAD19CD,LAD19NM,PAR19NMW"]
        let perDistrict = max(1, rows / districts)
        var parish = 0
        var ward = 0
        var fid = 1
        for district in 0..<districts {
            let lad = String(format: "E07%06d", district + 1)
            let wards = max(1, perDistrict * 3 / 5)
            let firstWard = ward
            ward += wards
            var made = 0
            while made < perDistrict {
                parish += 1
                let spans = Int.random(in: 0..<20, using: &random) == 0 ? Int.random(in: 2...4, using: &random) : 1
                let start = firstWard + Int.random(in: 0..<wards, using: &random)
                for offset in 0..<spans where made < perDistrict {
                    let wardIndex = firstWard + (start - firstWard + offset) % wards
                    lines.append(
                        "\(fid),\(String(format: "E04%06d", parish)),\"Parish \(parish), upper and lower\",\(String(format: "E05%06d", wardIndex + 1)),"
                            + "Ward \(wardIndex + 1),\(lad),District \(district + 1),")
                    fid += 1
                    made += 1
                }
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    func run() throws {
        let text = Self.lookup(rows: rows, districts: districts)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("locality-geography-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        var lookup: ONSParishLookup?
        let parse = try seconds { lookup = try ONSParishLookup.parse(text) }
        let store = try SQLiteSyncStore.open(at: folder.appendingPathComponent("server.sqlite").path)
        _ = try store.initialiseCouncil(name: "England and Wales", orgId: nil, gss: "E10000001", now: Date())
        var changes: GeographyChanges?
        let first = try seconds { changes = try store.importLocalities(text, districts: [], dryRun: false, today: "2026-11-30") }
        var again: GeographyChanges?
        let second = try seconds { again = try store.importLocalities(text, districts: [], dryRun: false, today: "2026-12-01") }
        precondition(again?.isEmpty == true, "an unchanged re-import changed something")
        let figures = Figures(
            rows: lookup?.rows.count ?? 0, bytes: text.utf8.count, parseSeconds: parse, importSeconds: first, reimportSeconds: second,
            added: changes?.added.count ?? 0, multiWardParishes: changes?.multiWard.count ?? 0)
        if json {
            print(String(decoding: try JSONCoding.prettyEncoder.encode(figures), as: UTF8.self))
            return
        }
        print("ONS lookup import, release build: \(figures.rows) rows (\(figures.bytes / 1024) KiB), \(figures.added) places, \(figures.multiWardParishes) parishes in several wards")
        print(String(format: "parse %.3f s; import into a fresh database %.2f s (target < 5 s); unchanged re-import %.2f s", parse, first, second))
    }
}
