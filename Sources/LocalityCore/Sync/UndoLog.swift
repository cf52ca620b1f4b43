import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Before-images of what local mutations changed, so that a pull can set them aside, apply the
/// server's rows, and put the still-unconfirmed ones back on top (rebase).
///
/// TEMP triggers on every synced table record a row's previous state (or its absence) while
/// `temp.undo_control.sequence` names the mutation being applied; at any other time — applying
/// pulled rows, undoing — nothing is captured. The flag and the triggers live in the writer
/// connection's temporary schema: setting the flag costs no write to the database file.
enum UndoLog {
    /// Installs the capture triggers on the connection that applies local mutations.
    static func install(_ db: Database) throws {
        try db.execute(sql: """
            PRAGMA temp_store = MEMORY;
            CREATE TEMP TABLE IF NOT EXISTS undo_control (id INTEGER PRIMARY KEY CHECK (id = 1), sequence INTEGER);
            INSERT OR IGNORE INTO temp.undo_control (id, sequence) VALUES (1, NULL);
            """)
        let capturing = "(SELECT sequence FROM temp.undo_control WHERE id = 1)"
        for (table, key) in Schema.syncedTables {
            let columns = try db.columns(in: table, in: "main").map(\.name)
            func object(_ row: String, _ names: [String]) -> String {
                "json_object(" + names.map { "'\($0)', \(row).\($0)" }.joined(separator: ", ") + ")"
            }
            func capture(_ row: String, before: String) -> String {
                """
                INSERT INTO undo_log (outbox_sequence, table_name, row_key, before)
                VALUES (\(capturing), '\(table)', \(object(row, key)), \(before));
                """
            }
            try db.execute(sql: """
                CREATE TEMP TRIGGER IF NOT EXISTS \(table)_undo_insert AFTER INSERT ON main.\(table)
                WHEN \(capturing) IS NOT NULL BEGIN
                    \(capture("NEW", before: "NULL"))
                END;
                CREATE TEMP TRIGGER IF NOT EXISTS \(table)_undo_update AFTER UPDATE ON main.\(table)
                WHEN \(capturing) IS NOT NULL BEGIN
                    \(capture("OLD", before: object("OLD", columns)))
                END;
                CREATE TEMP TRIGGER IF NOT EXISTS \(table)_undo_delete AFTER DELETE ON main.\(table)
                WHEN \(capturing) IS NOT NULL BEGIN
                    \(capture("OLD", before: object("OLD", columns)))
                END;
                """)
        }
    }

    /// Starts or stops capturing changes for the mutation with this outbox sequence number.
    static func capture(_ sequence: Int64?, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE temp.undo_control SET sequence = ? WHERE id = 1").execute(arguments: [sequence])
    }

    /// Restores every captured before-image, newest first, and empties the log.
    static func undoAll(_ db: Database) throws {
        try capture(nil, db)
        let entries = try Row.fetchAll(db, sql: "SELECT table_name, row_key, before FROM undo_log ORDER BY id DESC")
        for entry in entries {
            let table: String = entry["table_name"]
            guard let key = Schema.syncedTables.first(where: { $0.table == table })?.key else { continue }
            let rowKey: String = entry["row_key"]
            if let before: String = entry["before"] {
                try RowWriter.upsert(table: table, key: key, json: before, db)
            } else {
                try db.execute(
                    sql: "DELETE FROM \(table) WHERE " + key.map { "\($0) = json_extract(?, '$.\($0)')" }.joined(separator: " AND "),
                    arguments: StatementArguments(Array(repeating: rowKey, count: key.count)))
            }
        }
        try db.execute(sql: "DELETE FROM undo_log")
    }
}

/// Writes rows into a replica's tables by column name.
enum RowWriter {
    /// The statement that upserts a pulled row of one table, with the columns it binds in order.
    /// Made once per table and page: every row of every pull goes through `upsert`.
    struct Upsert {
        let columns: [String]
        let statement: Statement
    }

    static func prepare(table: String, key: [String], _ db: Database) throws -> Upsert {
        let (columns, sql) = try upsertStatement(table: table, key: key, db)
        let statement = try db.cachedStatement(sql: sql)
        // Marks the arguments as bound, so `execute()` runs with what `upsert` binds directly.
        statement.setUncheckedArguments(StatementArguments(Array(repeating: DatabaseValue.null, count: columns.count)))
        return Upsert(columns: columns, statement: statement)
    }

    /// Inserts or updates a pulled row, binding its values straight into the statement: no JSON
    /// round trip, and no argument array made for every row (an initial sync binds millions).
    /// Columns the row lacks are written as NULL, as `upsert(json:)` does.
    static func upsert(_ upsert: Upsert, values: [String: JSONValue]) throws {
        let statement = upsert.statement.sqliteStatement
        sqlite3_reset(statement)  // (its error, if any, was the last execution's, already thrown)
        for (offset, column) in upsert.columns.enumerated() {
            let code = bind(values[column] ?? .null, statement, CInt(offset + 1))
            guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "binding \(column)") }
        }
        try upsert.statement.execute()
    }

    /// Where a table's columns sit in the values of a page's rows in columns (nil: the page does
    /// not carry that column, written as NULL), and where its owned link lists sit. Made once per
    /// table and page.
    struct Places {
        let columns: [Int?]
        let links: [(field: String, index: Int)]
        /// How many values each row carries.
        let width: Int

        init(columns: [String], names: [String], links: [String]) {
            let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            self.columns = columns.map { index[$0] }
            self.links = links.compactMap { field in index[field].map { (field, $0) } }
            width = names.count
        }
    }

    /// The same for a row of a page in columns: each column's value taken by its place.
    static func upsert(_ upsert: Upsert, values: [JSONValue], places: [Int?]) throws {
        let statement = upsert.statement.sqliteStatement
        sqlite3_reset(statement)
        for (offset, place) in places.enumerated() {
            let code = bind(place.map { values[$0] } ?? .null, statement, CInt(offset + 1))
            guard code == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "binding \(upsert.columns[offset])")
            }
        }
        try upsert.statement.execute()
    }

    private static func bind(_ value: JSONValue, _ statement: SQLiteStatement, _ index: CInt) -> CInt {
        switch value {
        case .null: sqlite3_bind_null(statement, index)
        case .bool(let value): sqlite3_bind_int64(statement, index, value ? 1 : 0)
        case .int(let value): sqlite3_bind_int64(statement, index, value)
        case .double(let value): sqlite3_bind_double(statement, index, value)
        case .string(let value): StatementBinder.bindText(value, statement, index)
        case let value: StatementBinder.bindText(value.jsonText, statement, index)  // an array or an object: its JSON
        }
    }

    /// The columns of `table` and the statement that upserts one row of it, made once per table
    /// and schema: a page applies hundreds of rows.
    private static func upsertStatement(table: String, key: [String], _ db: Database) throws -> ([String], String) {
        let columns = try db.columns(in: table, in: "main").map(\.name)
        if let known = upserts.withLock({ $0[table] }), known.columns == columns { return known }
        let updates = columns.filter { !key.contains($0) }
        var sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES ("
        sql += columns.map { _ in "?" }.joined(separator: ", ") + ") ON CONFLICT (\(key.joined(separator: ", "))) DO "
        sql += updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        upserts.withLock { $0[table] = (columns, sql) }
        return (columns, sql)
    }

    private static let upserts = Mutex<[String: (columns: [String], sql: String)]>([:])

    /// Inserts or updates the row held in `json` (a JSON object of column values).
    static func upsert(table: String, key: [String], json: String, _ db: Database) throws {
        let columns = try db.columns(in: table, in: "main").map(\.name)
        let updates = columns.filter { !key.contains($0) }
        var sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) SELECT "
        sql += columns.map { "json_extract(?1, '$.\($0)')" }.joined(separator: ", ")
        sql += " WHERE 1 ON CONFLICT (\(key.joined(separator: ", "))) DO "
        sql += updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        try db.cachedStatement(sql: sql).execute(arguments: [json])
    }
}
