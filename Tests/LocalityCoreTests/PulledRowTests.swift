import Foundation
import GRDB
import Testing

@testable import LocalityCore

@Suite("Pulled rows written into a replica")
struct PulledRowTests {
    @Test func everyKindOfValueIsWrittenAsTheServerSentIt() throws {
        let replica = try demoReplica(as: "officer")
        let id = UUID().key
        let awkward = "Verge \u{0} cut — “quoted”, émigré, 🚜, \\ and \" and a\nnewline"
        var row: [String: JSONValue] = [
            "id": .string(id), "locality_id": .string(Demo.locality("marcher").key), "title": .string(awkward),
            "description": .string(""), "severity": .int(4), "latitude": .double(52.7071), "holds_personal_data": .bool(true),
            "status": .string("open"), "recorded_by": .string(DemoCouncil.personID("officer").key),
            "recorded_at": .string("2026-11-30T10:00:00.000Z"), "updated_at": .string("2026-11-30T10:00:00.000Z"),
            "field_clocks": .string("{}"),
        ]
        // Columns the row lacks are written as NULL.
        #expect(row["category"] == nil && row["longitude"] == nil)
        try replica.database.write { db in
            let upsert = try RowWriter.prepare(table: "need", key: ["id"], db)
            try RowWriter.upsert(upsert, values: row)
            let stored = try Row.fetchOne(db, sql: "SELECT * FROM need WHERE id = ?", arguments: [id])
            // (Read as bytes: reading text stops at a NUL, binding it must not.)
            let title = try Data.fetchOne(db, sql: "SELECT CAST(title AS BLOB) FROM need WHERE id = ?", arguments: [id])
            #expect(title.map { String(decoding: $0, as: UTF8.self) } == awkward, "text with a NUL, quotes and non-ASCII is bound whole")
            #expect((stored?["description"] as String?) == "", "an empty string is not NULL")
            #expect((stored?["severity"] as Int?) == 4)
            #expect((stored?["latitude"] as Double?) == 52.7071)
            #expect((stored?["holds_personal_data"] as Int?) == 1)
            #expect((stored?["category"] as DatabaseValue?) == .null && (stored?["longitude"] as DatabaseValue?) == .null)
            // The same statement again, for an update of the same row: every value bound afresh.
            row["title"] = .string("Verges cut")
            row["description"] = .null
            row["severity"] = .int(2)
            #expect(throws: DatabaseError.self) { try RowWriter.upsert(upsert, values: row) }  // description is NOT NULL
            row["description"] = .string("Cut on Tuesday")
            try RowWriter.upsert(upsert, values: row)
            let updated = try Row.fetchOne(db, sql: "SELECT title, description, severity FROM need WHERE id = ?", arguments: [id])
            #expect((updated?["title"] as String?) == "Verges cut")
            #expect((updated?["description"] as String?) == "Cut on Tuesday")
            #expect((updated?["severity"] as Int?) == 2)
        }
    }

    @Test func aDeviceFarBehindAsksForPagesAsLargeAsTheServerTakes() {
        func page(cursor: Int64, head: Int64?, more: Bool = true, maxLimit: Int?) -> PullResponse {
            PullResponse(changes: [], cursor: cursor, more: more, head: head, maxLimit: maxLimit)
        }
        // Far behind a server that says how large a page it takes.
        #expect(SyncEngine.limit(after: page(cursor: 1_000, head: 1_000_000, maxLimit: 2_000), base: 500) == 2_000)
        #expect(SyncEngine.limit(after: page(cursor: 1_000, head: 1_000_000, maxLimit: 1_500), base: 500) == 1_500)
        // Never more than this build takes itself, never less than the engine's own.
        #expect(SyncEngine.limit(after: page(cursor: 0, head: 10_000_000, maxLimit: 1_000_000), base: 500) == SyncProtocol.maxPullLimit)
        #expect(SyncEngine.limit(after: page(cursor: 0, head: 10_000_000, maxLimit: 100), base: 500) == 500)
        // A server that does not say takes what servers always took.
        #expect(SyncEngine.limit(after: page(cursor: 0, head: 1_000_000, maxLimit: nil), base: 500) == SyncProtocol.classicMaxPullLimit)
        // Nearly caught up, or caught up, or a server that gives no head: the engine's own size.
        #expect(SyncEngine.limit(after: page(cursor: 999_000, head: 1_000_000, maxLimit: 5_000), base: 500) == 500)
        #expect(SyncEngine.limit(after: page(cursor: 0, head: 1_000_000, more: false, maxLimit: 5_000), base: 500) == 500)
        #expect(SyncEngine.limit(after: page(cursor: 0, head: nil, maxLimit: 5_000), base: 500) == 500)
    }

    @Test func theServersLargestPageSurvivesTheWire() throws {
        let page = PullResponse(changes: [], cursor: 7, more: true, head: 9, maxLimit: 2_000)
        let bytes = try JSONCoding.encode(page)
        #expect(try JSONCoding.decode(PullResponse.self, from: bytes).maxLimit == 2_000)
        let parsed = PullResponse(json: try JSONParser.parse(JSONWriter.write(.object(["changes": .array([]), "cursor": .int(7), "more": .bool(true), "maxLimit": .int(-3)]))))
        #expect(parsed != nil && parsed?.maxLimit == nil, "a nonsensical size is ignored, not trusted")
    }
}
