import Foundation
import GRDB
import LocalityCore

/// Reads synced rows as JSON, with the links they own.
enum RowLoader {
    static func load(table: String, key: String, _ db: Database) throws -> [String: JSONValue]? {
        guard ServerSchema.syncedTables.contains(where: { $0.table == table }) else { return nil }
        let statement: Statement
        let arguments: StatementArguments
        if table == "need_evidence" {
            let parts = key.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            statement = try db.cachedStatement(sql: "SELECT * FROM need_evidence WHERE need_id = ? AND id = ?")
            arguments = [parts[0], parts[1]]
        } else {
            // Cached per table: a pull loads rows one by one.
            statement = try db.cachedStatement(sql: "SELECT * FROM \(table) WHERE id = ?")
            arguments = [key]
        }
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        guard try cursor.next() != nil else { return nil }
        var json = current(statement)
        try addLinks(table: table, key: key, to: &json, db)
        return json
    }

    /// The rows of `table` with these keys (single-column `id` keys), read with one statement
    /// rather than one a row: a page of a first sync is a thousand rows of the same few tables.
    /// Keys with no row are absent from the result.
    static func load(table: String, keys: [String], _ db: Database) throws -> [String: [String: JSONValue]] {
        guard table != "need_evidence", ServerSchema.syncedTables.contains(where: { $0.table == table }) else {
            var rows: [String: [String: JSONValue]] = [:]
            for key in keys { rows[key] = try load(table: table, key: key, db) }
            return rows
        }
        let statement = try db.cachedStatement(sql: "SELECT * FROM \(table) WHERE id IN (SELECT value FROM json_each(?))")
        let list = JSONValue.array(keys.map(JSONValue.string)).jsonText
        var rows: [String: [String: JSONValue]] = [:]
        rows.reserveCapacity(keys.count)
        let cursor = try Row.fetchCursor(statement, arguments: [list])
        while try cursor.next() != nil {
            var json = current(statement)
            guard case .string(let key)? = json["id"] else { continue }
            try addLinks(table: table, key: key, to: &json, db)
            rows[key] = json
        }
        return rows
    }

    /// The statement's current row as JSON: its values read in place, with the column names made
    /// once per statement (a copied row makes every name afresh).
    private static func current(_ statement: Statement) -> [String: JSONValue] {
        let names = statement.columnNames
        var json: [String: JSONValue] = [:]
        json.reserveCapacity(names.count + 2)  // the columns and up to two owned lists: no rehashing
        for (index, name) in names.enumerated() {
            json[name] = JSONValue(DatabaseValue(sqliteStatement: statement.sqliteStatement, index: CInt(index)))
        }
        return json
    }

    private static func addLinks(table: String, key: String, to json: inout [String: JSONValue], _ db: Database) throws {
        switch table {
        case "proposal":
            json["need_ids"] = .array(try String.fetchAll(
                try db.cachedStatement(sql: "SELECT need_id FROM proposal_need WHERE proposal_id = ? ORDER BY need_id"),
                arguments: [key]
            ).map(JSONValue.string))
            json["outcome_ids"] = .array(try String.fetchAll(
                try db.cachedStatement(sql: "SELECT outcome_id FROM proposal_outcome WHERE proposal_id = ? ORDER BY outcome_id"),
                arguments: [key]
            ).map(JSONValue.string))
        case "organisation":
            json["locality_ids"] = .array(try String.fetchAll(
                db, sql: "SELECT locality_id FROM organisation_locality WHERE organisation_id = ? ORDER BY locality_id",
                arguments: [key]
            ).map(JSONValue.string))
        default: break
        }
    }
}
