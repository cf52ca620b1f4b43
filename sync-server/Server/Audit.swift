import Foundation
import GRDB
import LocalityCore

/// The append-only audit trail: every decision, ledger entry and change of a proposal's status,
/// with who, when, what and why. Triggers write the entries (see `ServerSchema`); `seal` chains
/// each to the one before it by SHA-256 in the transaction that made it; `verify` recomputes the
/// chain and names the first entry that does not match.
public enum Audit {
    /// Hashes every entry not yet sealed, in order, each over its own fields and the previous hash.
    public static func seal(_ db: Database) throws {
        let unsealed = try Row.fetchAll(
            db, sql: "SELECT * FROM audit_entry WHERE hash IS NULL ORDER BY sequence")
        guard !unsealed.isEmpty else { return }
        var previous = try String.fetchOne(
            db, sql: "SELECT hash FROM audit_entry WHERE hash IS NOT NULL ORDER BY sequence DESC LIMIT 1")
        let statement = try db.cachedStatement(sql: "UPDATE audit_entry SET previous_hash = ?, hash = ? WHERE sequence = ?")
        for row in unsealed {
            let hash = digest(row, previous: previous)
            try statement.execute(arguments: [previous, hash, row["sequence"] as Int64])
            previous = hash
        }
    }

    /// Sets who the entries made in this transaction are attributed to (nil: the system).
    static func setActor(_ personId: UUID?, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE audit_actor SET person_id = ? WHERE id = 1").execute(arguments: [personId?.key])
    }

    static func digest(_ row: Row, previous: String?) -> String {
        let fields: [String?] = [
            previous, String(row["sequence"] as Int64), row["recorded_at"], row["actor_id"], row["action"],
            row["record_type"], row["record_id"], row["detail"], row["reason"],
        ]
        // Unit separators between fields, and a marker for absent ones, so no two entries share a text.
        let text = fields.map { $0.map { "v" + $0 } ?? "-" }.joined(separator: "\u{1F}")
        return SHA256Hex.of(text)
    }

    /// What `verify` found.
    public struct Verification: Codable, Sendable {
        public var entries: Int
        /// Entries written but not yet sealed (none once every transaction has committed).
        public var unsealed: Int
        public var firstBroken: Broken?
        public var intact: Bool { firstBroken == nil }

        public struct Broken: Codable, Sendable {
            public var sequence: Int64
            public var action: String
            public var recordId: String
            public var problem: String
        }
    }

    /// Walks the chain from the first entry, recomputing every hash.
    public static func verify(_ db: Database) throws -> Verification {
        var result = Verification(entries: 0, unsealed: 0, firstBroken: nil)
        var previous: String?
        var expectedSequence: Int64?
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit_entry ORDER BY sequence")
        while let row = try rows.next() {
            result.entries += 1
            let sequence: Int64 = row["sequence"]
            func broken(_ problem: String) -> Verification.Broken {
                Verification.Broken(sequence: sequence, action: row["action"], recordId: row["record_id"], problem: problem)
            }
            guard result.firstBroken == nil else { continue }
            if let expected = expectedSequence, sequence != expected {
                result.firstBroken = broken("entries \(expected) to \(sequence - 1) are missing")
                continue
            }
            expectedSequence = sequence + 1
            guard let hash: String = row["hash"] else {
                result.unsealed += 1
                continue
            }
            if result.unsealed > 0 {
                result.firstBroken = broken("it is sealed after entries that are not")
                continue
            }
            let stored: String? = row["previous_hash"]
            if stored != previous {
                result.firstBroken = broken("it does not point to the entry before it")
            } else if digest(row, previous: previous) != hash {
                result.firstBroken = broken("its contents do not match its hash: it was changed after it was written")
            }
            previous = hash
        }
        return result
    }
}

extension Audit {
    /// Verifies the chain in the database at `path`, opened read-only: checking it writes nothing.
    public static func verify(databaseAt path: String) throws -> Verification {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try queue.read { db in
            guard try db.tableExists("audit_entry") else {
                throw LocalityError.invalidInput("\(path) has no audit trail yet: start the server on it once to migrate it")
            }
            return try verify(db)
        }
    }
}
