import Foundation
import GRDB
import LocalityCore
import LocalitySyncServer
import Testing

/// A disk that fills up, here as SQLite's page limit (which fails a write as a full disk does, with
/// SQLITE_FULL); `scripts/disk-full-soak.sh` fills a real small filesystem under the binaries.
@Suite("A full disk")
struct DiskFullTests {
    /// Allows the database no more pages than it has (or, with nil, lifts the limit).
    static func limit(_ database: any DatabaseWriter, growth: Bool) async throws {
        try await database.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(growth ? 1_073_741_823 : pages)")
        }
    }

    /// A need with a long description (space to fill).
    static func recordLong(_ device: TestDevice, _ title: String) throws {
        var need = RecordNeed(needId: device.replica.newID(), localityId: UUID.stable("demo:locality:brockton"), title: title)
        need.description = String(repeating: "Seen every week since the spring. ", count: 40)
        try device.replica.perform(need)
    }

    @Test func aPushOnAFullDiskIsRefusedWithA503ChangesNothingAndSucceedsOnceThereIsRoom() async throws {
        let server = try TestServer()
        let device = try TestDevice("cllr-north")
        for index in 0..<30 { try Self.recordLong(device, "Need \(index)") }
        let outbox = try device.replica.outbox()
        @Sendable func needs() async throws -> Int { try await server.store.database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM need") ?? 0 } }
        let before = try await needs()
        try await server.run { client in
            let token = try await client.login("cllr-north", device: device.id)
            try await Self.limit(server.store.database, growth: false)
            let refused = try await client.push(outbox, device: device.id, token: token)
            #expect(refused.status == .serviceUnavailable)
            #expect(try client.errorCode(refused) == "unavailable" && String(buffer: refused.body).contains("disk is full"))
            #expect(try await needs() == before)
            // Room again: the same push is applied whole, once.
            try await Self.limit(server.store.database, growth: true)
            let accepted = try await client.push(outbox, device: device.id, token: token)
            #expect(accepted.status == .ok)
            let results = try client.decode(PushResponse.self, accepted).results
            #expect(results.count == 30 && results.allSatisfy { $0.outcome == .applied })
            #expect(try await needs() == before + 30)
        }
        let check = try await server.store.database.read { try DatabaseCheck.run($0) }
        #expect(check.ok)
    }

    @Test func recordingOnADeviceWhoseDiskIsFullFailsAndLeavesTheOutboxAsItWas() async throws {
        let device = try TestDevice("cllr-north")
        try device.recordNeed(in: "brockton", title: "Recorded while there was room")
        let outbox = try device.replica.outbox()
        try await Self.limit(device.replica.database, growth: false)
        var failures = 0
        for index in 0..<50 {
            do {
                try Self.recordLong(device, "Full \(index)")
            } catch {
                #expect(DatabaseProblem.isFull(error), "\(error)")
                failures += 1
            }
        }
        #expect(failures > 0)
        // What was recorded is still there and still waits; nothing half-recorded joined it.
        let after = try device.replica.outbox()
        #expect(after.count == outbox.count + (50 - failures))
        #expect(try device.replica.needs().filter { $0.need.title.hasPrefix("Full ") }.count == 50 - failures)
        try await Self.limit(device.replica.database, growth: true)
        try device.recordNeed(in: "brockton", title: "Recorded once there was room again")
        #expect(try device.replica.outbox().count == after.count + 1)
    }
}
