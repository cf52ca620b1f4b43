import Foundation
import LocalityCore
import PostgresNIO
@testable import LocalitySyncServer
import Testing

/// PostgreSQL out of disk space, as the server meets it: a statement refused with SQLSTATE 53100.
/// A trigger on the log raises exactly that (the soak `scripts/disk-full-soak.sh --postgres` fills a
/// real filesystem instead).
@Suite("PostgreSQL: a full disk", .serialized, .enabled(if: TestPostgres.url != nil, "set LOCALITY_TEST_POSTGRES_URL"))
struct PostgresDiskFullTests {
    static func fillDisk(_ log: PostgresLog) async throws {
        try await log.client.query(
            """
            CREATE OR REPLACE FUNCTION locality_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device' USING ERRCODE = 'disk_full'; END $$
            """, logger: log.logger)
        try await log.client.query(
            "CREATE TRIGGER locality_test_disk_full BEFORE INSERT ON locality_log FOR EACH ROW EXECUTE FUNCTION locality_test_disk_full()",
            logger: log.logger)
    }

    static func makeRoom(_ log: PostgresLog) async throws {
        try await log.client.query("DROP TRIGGER locality_test_disk_full ON locality_log", logger: log.logger)
    }

    /// The push that does not fit is a 503 naming the full disk; nothing of it is kept, by this
    /// process (which starts again from the newest snapshot) or any other; once there is room the
    /// device's retry is applied exactly once, without a restart.
    @Test func aPushThatDoesNotFitIsRefusedWholeAndAppliedOnceThereIsRoom() async throws {
        let location = try await TestPostgres.freshDatabase()
        let process = try await TestPostgres.process(location)
        try await process.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let councillor = try await SyncedDevice("cllr-north", store: process)
        _ = try await councillor.sync()
        _ = try councillor.recordNeed(in: "brockton", title: "Before the disk filled")
        _ = try await councillor.sync()
        let officer = try await SyncedDevice("officer", store: process)
        let other = try await TestPostgres.process(location)
        let elsewhere = try await SyncedDevice("officer", store: other)
        let snapshot = try await process.snapshot()
        _ = try councillor.recordNeed(in: "brockton", title: "While the disk was full")

        try await Self.fillDisk(process.log)
        let refusal = await #expect(throws: LocalityError.self) { try await councillor.sync() }
        #expect(refusal?.code == .unavailable)
        #expect(refusal?.message.contains("disk is full") == true, "\(refusal?.message ?? "")")
        #expect(try councillor.replica.outbox().count == 1)
        // The process threw away what it had applied but could not log, from the snapshot on.
        #expect(await process.materialisation.restoredFrom == snapshot.sequence)

        // Reads go on while the disk is full (a login is a write, and waits for room), and nobody
        // sees the refused need.
        _ = try await officer.sync()
        #expect(try officer.needTitles().contains("Before the disk filled"))
        #expect(try !officer.needTitles().contains("While the disk was full"))
        _ = try await elsewhere.sync()
        #expect(try !elsewhere.needTitles().contains("While the disk was full"))

        try await Self.makeRoom(process.log)
        _ = try await councillor.sync()
        #expect(try councillor.replica.outbox().isEmpty)
        _ = try await (officer.sync(), elsewhere.sync())
        for device in [officer, elsewhere] {
            #expect(try device.replica.needs().filter { $0.need.title == "While the disk was full" }.count == 1)
        }
        #expect(try await process.verifyAudit()?.firstBroken == nil)
    }

    /// An operator's command refused by the rules inside the PostgreSQL transaction is that refusal,
    /// not "the database is unavailable".
    @Test func aRefusalInsideTheTransactionIsNamedAsItself() async throws {
        let process = try await TestPostgres.process(try await TestPostgres.freshDatabase())
        try await process.loadDemoIfEmpty(passwordHash: Passwords.hash(DemoCouncil.password, cost: 4))
        let refusal = await #expect(throws: LocalityError.self) {
            _ = try await process.administer(.revokeDevice(reference: "no-such-device"), now: Date())
        }
        #expect(refusal?.code != .unavailable, "\(refusal?.message ?? "")")
        #expect(refusal?.message.contains("no-such-device") == true, "\(refusal?.message ?? "")")
    }
}
