import ArgumentParser
import Foundation
import LocalityCore

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locality-bench",
        abstract: "Measures Locality's speed and size targets. Build with -c release; prints its figures.",
        subcommands: [ReplicaBench.self, SyncBench.self, RulesBench.self, GeographyBench.self, PagesBench.self, PostgresBench.self, KillSoak.self], defaultSubcommand: ReplicaBench.self)
}

struct ReplicaBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replica",
        abstract: "need.record mutations per second through the core API, and database size per 10,000 needs.",
        discussion: """
            Each mutation is its own transaction, as a person's action would be: validated against the \
            acting councillor's wards, applied, and appended to the outbox. Target: at least 5,000/s.
            """)

    @Option(help: "How many needs to record.")
    var count = 20_000

    @Option(help: ArgumentHelp("Durability to measure: full (the default), normal, or both.", valueName: "mode"))
    var durability = "full"

    @Flag(help: "Print the figures as JSON.")
    var json = false

    func validate() throws {
        guard count >= 100 else { throw ValidationError("--count must be at least 100") }
        guard ["normal", "full", "both"].contains(durability) else {
            throw ValidationError("--durability must be normal, full or both")
        }
    }

    struct Figures: Codable {
        var durability: String
        var mutations: Int
        var seconds: Double
        var mutationsPerSecond: Double
        var p50Micros: Double
        var p99Micros: Double
        var p999Micros: Double
        var maxMicros: Double
        var meanMicros: Double
        var bytesPer10kNeedsWithOutbox: Int64
        var bytesPer10kNeedsAfterSync: Int64
    }

    func run() throws {
        let modes: [Durability] = durability == "both" ? [.full, .normal] : [Durability(rawValue: durability)!]
        // A discarded first run: the process's first thousands of changes are slower (allocator,
        // caches), which would otherwise favour whichever mode is measured second.
        FileHandle.standardError.write(Data("warming up…\n".utf8))
        _ = try measure(.full, count: 5_000)
        var results: [Figures] = []
        for mode in modes { results.append(try measure(mode, count: count)) }
        if json {
            let data = try JSONCoding.prettyEncoder.encode(results)
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for figures in results {
            print("""
                replica need.record, WAL + synchronous=\(figures.durability.uppercased()), \(figures.mutations) mutations:
                  \(String(format: "%.0f", figures.mutationsPerSecond)) mutations/s  (target ≥ 5,000)
                  latency mean \(String(format: "%.0f", figures.meanMicros)) µs, p50 \(String(format: "%.0f", figures.p50Micros)) µs, \
                p99 \(String(format: "%.0f", figures.p99Micros)) µs, p99.9 \(String(format: "%.0f", figures.p999Micros)) µs, \
                max \(String(format: "%.1f", figures.maxMicros / 1000)) ms
                  database per 10,000 needs: \(megabytes(figures.bytesPer10kNeedsWithOutbox)) with outbox, \
                \(megabytes(figures.bytesPer10kNeedsAfterSync)) once synced
                """)
        }
    }

    private func megabytes(_ bytes: Int64) -> String { String(format: "%.2f MB", Double(bytes) / 1_000_000) }

    private func measure(_ mode: Durability, count: Int) throws -> Figures {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("locality-bench-\(UUID().key)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("replica.sqlite").path

        let replica = try Replica.open(at: path, durability: mode)
        try replica.initialiseDemo(as: "cllr-north")
        let places = ["brockton", "brockton-heath", "whitmere-town", "ashby-parva"].map { UUID.stable("demo:locality:" + $0) }
        let baseline = try fileSize(replica, path)

        func record(_ index: Int) throws {
            var command = RecordNeed(
                needId: replica.newID(), localityId: places[index % places.count], title: "Need number \(index): blocked drain")
            command.description = "Reported by residents at the ward surgery; the road floods after heavy rain."
            command.severity = 1 + index % 5
            command.peopleAffected = index % 200
            command.evidence = [
                EvidenceInput(id: replica.newID(), kind: .residentContact, note: "Phone call from a resident", observedOn: "2026-11-01")
            ]
            try replica.perform(command)
        }

        for index in 0..<200 { try record(index) }  // warm the statement cache
        var latencies: [UInt64] = []
        latencies.reserveCapacity(count)
        let clock = ContinuousClock()
        let started = clock.now
        for index in 0..<count {
            let before = DispatchTime.now().uptimeNanoseconds
            try record(index)
            latencies.append(DispatchTime.now().uptimeNanoseconds - before)
            if (index + 1) % 5_000 == 0 {
                FileHandle.standardError.write(Data("  \(mode.rawValue): \(index + 1)/\(count)\r".utf8))
            }
        }
        let elapsed = started.duration(to: clock.now)
        FileHandle.standardError.write(Data("\n".utf8))
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18

        let recorded = Int64(count + 200)
        let withOutbox = try fileSize(replica, path) - baseline
        try replica.database.writeWithoutTransaction { db in
            try db.execute(sql: "DELETE FROM outbox")
            try db.execute(sql: "DELETE FROM undo_log")  // a sync empties both
            try db.execute(sql: "VACUUM")
        }
        let afterSync = try fileSize(replica, path) - baseline
        latencies.sort()
        return Figures(
            durability: mode.rawValue, mutations: count, seconds: seconds, mutationsPerSecond: Double(count) / seconds,
            p50Micros: Double(latencies[count / 2]) / 1000, p99Micros: Double(latencies[count * 99 / 100]) / 1000,
            p999Micros: Double(latencies[count * 999 / 1000]) / 1000, maxMicros: Double(latencies[count - 1]) / 1000,
            meanMicros: Double(latencies.reduce(0, +)) / Double(count) / 1000,
            bytesPer10kNeedsWithOutbox: withOutbox * 10_000 / recorded, bytesPer10kNeedsAfterSync: afterSync * 10_000 / recorded)
    }

    /// The size of the database file once the WAL has been folded into it.
    private func fileSize(_ replica: Replica, _ path: String) throws -> Int64 {
        try replica.database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.size] as? NSNumber)?.int64Value ?? 0
    }
}
