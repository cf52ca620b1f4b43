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

    /// A page of two needs whose rows name different columns, a proposal with its linked needs,
    /// and a deletion.
    private func mixedPage() -> PullResponse {
        let locality = JSONValue.string(Demo.locality("marcher").key)
        let officer = JSONValue.string(DemoCouncil.personID("officer").key)
        func need(_ id: String, _ title: String) -> [String: JSONValue] {
            [
                "id": .string(id), "locality_id": locality, "title": .string(title), "description": .string(""),
                "severity": .int(3), "holds_personal_data": .int(0), "status": .string("open"), "recorded_by": officer,
                "recorded_at": .string("2026-11-30T10:00:00.000Z"), "updated_at": .string("2026-11-30T10:00:00.000Z"),
                "field_clocks": .string("{}"),
            ]
        }
        let (first, second) = ("0199a6f0-0000-7000-8000-000000000001", "0199a6f0-0000-7000-8000-000000000002")
        var withCategory = need(second, "Bus shelter")
        withCategory["category"] = .string("transport")
        withCategory["latitude"] = .double(52.5)
        let proposal = "0199a6f0-0000-7000-8000-0000000000p1".replacingOccurrences(of: "p", with: "a")
        let proposalRow: [String: JSONValue] = [
            "id": .string(proposal), "budget_id": .string(Demo.budget("marcher-2026").key),
            "locality_id": locality, "organisation_id": .string(Demo.organisation("clunbury-parish").key),
            "title": .string("Shelter and verges"), "summary": .string(""), "amount_requested": .int(150_000),
            "social_value": .string(""), "status": .string("submitted"), "created_by": officer,
            "created_at": .string("2026-11-30T10:00:00.000Z"), "updated_at": .string("2026-11-30T10:00:00.000Z"),
            "field_clocks": .string("{}"), "need_ids": .array([.string(first), .string(second)]), "outcome_ids": .array([]),
        ]
        return PullResponse(
            changes: [
                RowChange(table: "need", key: first, sequence: 1, deleted: false, row: need(first, "Verges")),
                RowChange(table: "need", key: second, sequence: 2, deleted: false, row: withCategory),
                RowChange(table: "proposal", key: proposal, sequence: 3, deleted: false, row: proposalRow),
                RowChange(table: "need", key: Demo.need("brockton-bus").key, sequence: 4, deleted: true, row: nil),
            ],
            cursor: 4, more: false)
    }

    @Test func aPageInColumnsWritesWhatThePageInRowsWrites() throws {
        let page = mixedPage()
        let columns = page.inColumns()
        #expect(columns.columns?["need"]?.contains("category") == true, "every name any need row has")
        #expect(columns.changes.allSatisfy { $0.row == nil } && columns.changes[0].values?.count == columns.columns?["need"]?.count)
        // Through the wire, as a device receives it.
        let received = try JSONCoding.decode(PullResponse.self, from: JSONCoding.encode(columns))
        #expect(received.columns == columns.columns && received.changes == columns.changes)
        func contents(after page: PullResponse) throws -> [String] {
            let replica = try demoReplica(as: "officer")
            return try replica.database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA foreign_keys = OFF")
                try PulledRows.apply(page.changes, columns: page.columns, db)
                return try String.fetchAll(db, sql: """
                    SELECT json_array('need', id, locality_id, title, description, category, severity, latitude, longitude, status) FROM need
                    UNION ALL SELECT json_array('link', proposal_id, need_id) FROM proposal_need
                    UNION ALL SELECT json_array('proposal', id, title, status) FROM proposal
                    ORDER BY 1
                    """)
            }
        }
        let asRows = try contents(after: page)
        #expect(try contents(after: received) == asRows)
        #expect(asRows.contains { $0.contains("Bus shelter") && $0.contains("transport") && $0.contains("52.5") })
        let deleted = "[\"need\",\"\(Demo.need("brockton-bus").key)\""
        #expect(try contents(after: PullResponse(changes: [], cursor: 0, more: false)).contains { $0.hasPrefix(deleted) })
        #expect(!asRows.contains { $0.hasPrefix(deleted) }, "the deleted need is gone")
        #expect(asRows.filter { $0.hasPrefix("[\"link\",\"0199a6f0") }.count == 2, "the proposal's two needs linked")
        #expect(page.field("category", of: page.changes[1]) == .string("transport"))
        #expect(received.field("category", of: received.changes[1]) == .string("transport"))
        #expect(received.field("category", of: received.changes[0]) == .null)
    }

    @Test func aRowInColumnsThatDoesNotFitItsColumnsIsRefusedAndWritesNothing() throws {
        var page = mixedPage().inColumns()
        page.changes[1].values?.removeLast()
        let replica = try demoReplica(as: "officer")
        let before = try replica.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM need") }
        #expect(throws: LocalityError.self) { try replica.database.write { db in try PulledRows.apply(page.changes, columns: page.columns, db) } }
        var unnamed = mixedPage().inColumns()
        unnamed.columns?["need"] = nil
        #expect(throws: LocalityError.self) { try replica.database.write { db in try PulledRows.apply(unnamed.changes, columns: unnamed.columns, db) } }
        #expect(try replica.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM need") } == before)
    }

    /// A page in columns is input from outside: whatever its names and values, applying it writes
    /// or refuses — never crashes, and never reads a value from outside its row.
    @Test func oddPagesInColumnsAreWrittenOrRefusedNeverACrash() throws {
        let replica = try demoReplica(as: "officer")
        let id = "0199a6f0-0000-7000-8000-0000000000b1"
        let pages: [(columns: [String: [String]]?, table: String, values: [JSONValue])] = [
            (["need": ["id", "id", "title"]], "need", [.string(id), .string(id), .string("twice named")]),  // a name twice
            (["need": ["nonsense", "id"]], "need", [.int(1), .string(id)]),  // a name the table lacks
            (["need": []], "need", []),  // no columns at all
            (["need": ["id", "title", "severity"]], "need", [.object(["a": .int(1)]), .array([]), .double(.infinity)]),
            (["proposal": ["id", "need_ids", "outcome_ids"]], "proposal", [.string(id), .string("not a list"), .array([.int(3)])]),
            (["no_such_table": ["id"]], "no_such_table", [.string(id)]),
            (["need": ["id"]], "need", [.string(id), .string("one too many")]),
        ]
        for (index, page) in pages.enumerated() {
            let change = RowChange(table: page.table, key: id, sequence: Int64(index + 1), deleted: false, row: nil, values: page.values)
            let outcome = Result {
                try replica.database.write { db in try PulledRows.apply([change], columns: page.columns, db) }
            }
            if case .failure(let error) = outcome {
                #expect(error is LocalityError || error is DatabaseError, "page \(index): \(error)")
            }
        }
        #expect(try replica.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM need WHERE title = 'twice named'") } == 0,
            "a need row without its required columns is refused, not half-written")
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
