import GRDB
import LocalityCore

/// What became of each pushed mutation, kept so that a retried push gets the same answer.
///
/// One row a batch (`push_result`), not one a mutation: the results of the mutations a batch
/// applied, in sequence order, as one JSON array. A retry is rare and reads its batch back whole;
/// a push, which is what the server does all day, writes one row for up to 2,000 mutations instead
/// of a row each (nine arguments bound, a statement run and a B-tree insert a mutation).
/// `mutation_result` is a view with a row a mutation, for the operator's queries and the tests,
/// as the table of that name was before `server v17`.
enum StoredResults {
    static func register(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("server v17 stored results a batch at a time") { db in
            try db.execute(sql: """
                CREATE TABLE push_result (
                    device_id TEXT NOT NULL REFERENCES device(id),
                    -- The batch's mutations from first_sequence to last_sequence, each once, in order.
                    first_sequence INTEGER NOT NULL,
                    last_sequence INTEGER NOT NULL,
                    received_at TEXT NOT NULL,
                    -- [{"sequence", "mutationId", "name", "outcome", "changeSequence"?, "error"?: {"code", "message"}}]
                    results TEXT NOT NULL,
                    PRIMARY KEY (device_id, last_sequence),
                    CHECK (first_sequence <= last_sequence)
                ) STRICT;
                INSERT INTO push_result (device_id, first_sequence, last_sequence, received_at, results)
                    SELECT device_id, sequence, sequence, received_at, json_array(json_object(
                        'sequence', sequence, 'mutationId', mutation_id, 'name', name, 'outcome', outcome,
                        'changeSequence', change_sequence,
                        'error', CASE WHEN error_code IS NOT NULL THEN json_object('code', error_code, 'message', error_message) END))
                    FROM mutation_result;
                DROP TABLE mutation_result;
                CREATE VIEW mutation_result AS
                    SELECT push_result.device_id, json_extract(result.value, '$.sequence') AS sequence,
                        json_extract(result.value, '$.mutationId') AS mutation_id, json_extract(result.value, '$.name') AS name,
                        json_extract(result.value, '$.outcome') AS outcome, json_extract(result.value, '$.changeSequence') AS change_sequence,
                        json_extract(result.value, '$.error.code') AS error_code, json_extract(result.value, '$.error.message') AS error_message,
                        push_result.received_at
                    FROM push_result, json_each(push_result.results) AS result;
                """)
        }
    }

    /// Stores the results of the mutations a batch applied (not the retries it answered from
    /// earlier batches), in sequence order, with the names of their mutations.
    static func record(_ results: [(result: MutationResult, name: String)], device: String, receivedAt: String, _ db: Database) throws {
        guard let first = results.first?.result.sequence, let last = results.last?.result.sequence else { return }
        var json: [UInt8] = []
        json.reserveCapacity(results.count * 140)
        json.append(UInt8(ascii: "["))
        for (index, (result, name)) in results.enumerated() {
            if index > 0 { json.append(UInt8(ascii: ",")) }
            var object = JSONObjectWriter(into: &json)
            object.integer("sequence", result.sequence, into: &json)
            object.string("mutationId", result.mutationId.key, into: &json)
            object.string("name", name, into: &json)
            object.string("outcome", result.outcome.rawValue, into: &json)
            if let changeSequence = result.changeSequence { object.integer("changeSequence", changeSequence, into: &json) }
            if let error = result.error {
                object.value("error", .object(["code": .string(error.code.rawValue), "message": .string(error.message)]), into: &json)
            }
            object.end(into: &json)
        }
        json.append(UInt8(ascii: "]"))
        try db.cachedStatement(
            sql: "INSERT INTO push_result (device_id, first_sequence, last_sequence, received_at, results) VALUES (?, ?, ?, ?, ?)"
        ).execute(arguments: [device, first, last, receivedAt, String(decoding: json, as: UTF8.self)])
    }

    /// What `check` finds wrong with the stored results (at most 20): each device's answers must
    /// cover its mutations from 1 to its last applied sequence, each once — a retry of any of them
    /// is answered from there — and each batch must hold as many results as its range.
    static func problems(_ db: Database) throws -> [String] {
        // A database from before the stored results were a batch's has nothing of this to check.
        guard try db.tableExists("push_result") else { return [] }
        let batches = try Row.fetchAll(
            db,
            sql: """
                SELECT device_id, first_sequence, last_sequence, previous, size FROM (
                    SELECT device_id, first_sequence, last_sequence, CASE WHEN json_valid(results) THEN json_array_length(results) END AS size,
                        LAG(last_sequence, 1, 0) OVER (PARTITION BY device_id ORDER BY last_sequence) AS previous
                    FROM push_result)
                WHERE first_sequence != previous + 1 OR size IS NOT last_sequence - first_sequence + 1
                LIMIT 20
                """)
        var problems = batches.map { row -> String in
            let (device, first, last, previous): (String, Int64, Int64, Int64) =
                (row["device_id"], row["first_sequence"], row["last_sequence"], row["previous"])
            if first <= previous { return "device \(device): mutations \(first)–\(last) answered twice (the batch before ends at \(previous))" }
            if first > previous + 1 { return "device \(device): no answers kept for mutations \(previous + 1)–\(first - 1)" }
            return "device \(device): the batch of mutations \(first)–\(last) holds \((row["size"] as Int64?).map { "\($0) results" } ?? "unreadable results")"
        }
        let devices = try Row.fetchAll(
            db,
            sql: """
                SELECT device.id, device.last_sequence, COALESCE(MAX(push_result.last_sequence), 0) AS answered
                FROM device LEFT JOIN push_result ON push_result.device_id = device.id
                GROUP BY device.id HAVING answered != device.last_sequence LIMIT 20
                """)
        for row in devices {
            problems.append(
                "device \(row["id"] as String): applied up to \(row["last_sequence"] as Int64), answers kept up to \(row["answered"] as Int64)")
        }
        return Array(problems.prefix(20))
    }

    /// Reads stored results for a batch's retried mutations, a stored batch at a time.
    struct Reader {
        let device: String
        private var batch: [MutationResult] = []

        init(device: String) { self.device = device }

        /// The stored result of this device's mutation `sequence`, or nil if none is stored.
        mutating func result(for sequence: Int64, _ db: Database) throws -> MutationResult? {
            if let found = Self.find(sequence, in: batch) { return found }
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT first_sequence, results FROM push_result
                            WHERE device_id = ? AND last_sequence >= ? ORDER BY last_sequence LIMIT 1
                            """),
                    arguments: [device, sequence]),
                (row["first_sequence"] as Int64) <= sequence
            else { return nil }
            let text: String = row["results"]
            batch = try JSONCoding.decode([MutationResult].self, from: Array(text.utf8))
            return Self.find(sequence, in: batch)
        }

        private static func find(_ sequence: Int64, in batch: [MutationResult]) -> MutationResult? {
            guard let first = batch.first?.sequence, sequence >= first else { return nil }
            let index = Int(sequence - first)
            if index < batch.count, batch[index].sequence == sequence { return batch[index] }
            return batch.first { $0.sequence == sequence }
        }
    }
}
