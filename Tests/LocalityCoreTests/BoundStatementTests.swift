import Foundation
import GRDB
import GRDBSQLite
import LocalityCore
import Testing

@Suite("Bound statements: values bound one by one, as GRDB's arguments would bind them")
struct BoundStatementTests {
    private let insert = "INSERT INTO sample (t, n, i, r, b) VALUES (?, ?, ?, ?, ?)"

    private func database() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE sample (t TEXT, n TEXT, i INTEGER, r REAL, b INTEGER, UNIQUE (t)) STRICT")
        }
        return queue
    }

    @Test func eachKindOfValueIsStoredAsGRDBStoresIt() throws {
        let queue = try database()
        try queue.write { db in
            try db.executeBound(sql: insert) { bind in
                bind.text("")  // empty, not NULL
                bind.text(nil)
                bind.integer(-42)
                bind.real(51.5)
                bind.bool(true)
            }
            try db.executeBound(sql: insert) { bind in
                bind.text("Café \u{1F3E1} ünïcödé")
                bind.text("x")
                bind.integer(nil)
                bind.real(nil)
                bind.bool(false)
            }
            // The same rows through GRDB's arguments, for comparison.
            try db.execute(sql: insert, arguments: ["g", nil, -42, 51.5, true])
        }
        let rows = try queue.read { try Row.fetchAll($0, sql: "SELECT t, n, i, r, b, typeof(t), typeof(n) FROM sample ORDER BY rowid") }
        #expect(rows.count == 3)
        #expect(rows[0][0] as String == "" && rows[0][5] as String == "text")
        #expect(rows[0][6] as String == "null")
        #expect(rows[0][2] as Int == -42 && rows[0][3] as Double == 51.5 && rows[0][4] as Int == 1)
        #expect(rows[1][0] as String == "Café \u{1F3E1} ünïcödé")
        #expect(rows[1][2] as Int? == nil && rows[1][3] as Double? == nil && rows[1][4] as Int == 0)
        #expect(Array(rows[0].databaseValues)[1...4] == Array(rows[2].databaseValues)[1...4])
    }

    @Test func tooFewValuesAreRefusedAndWriteNothing() throws {
        let queue = try database()
        #expect(throws: DatabaseError.self) {
            try queue.write { db in
                try db.executeBound(sql: insert) { bind in
                    bind.text("short")
                    bind.integer(1)
                }
            }
        }
        // The statement is whole again for the next run, bound in full.
        try queue.write { db in
            try db.executeBound(sql: insert) { bind in
                bind.text("first")
                bind.text("kept?")
                bind.integer(1)
                bind.real(1)
                bind.bool(true)
            }
        }
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sample") } == 1)
    }

    @Test func aValueSQLiteRefusesToBindIsAnErrorAndWritesNothing() throws {
        let queue = try database()
        try queue.write { db in
            // Texts longer than 16 bytes are too big for this connection: SQLite refuses to bind one.
            let connection = try #require(db.sqliteConnection)
            let limit = sqlite3_limit(connection, SQLITE_LIMIT_LENGTH, 16)
            defer { sqlite3_limit(connection, SQLITE_LIMIT_LENGTH, limit) }
            let error = #expect(throws: DatabaseError.self) {
                try db.executeBound(sql: insert) { bind in
                    bind.text("short")
                    bind.text("far longer than sixteen bytes")
                    bind.integer(1)
                    bind.real(nil)
                    bind.bool(false)
                }
            }
            #expect(error?.resultCode == .SQLITE_TOOBIG)
        }
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sample") } == 0)
    }

    @Test func aConstraintFailureIsGRDBsErrorAndTheStatementRunsAgain() throws {
        let queue = try database()
        func add(_ text: String, _ db: Database) throws {
            try db.executeBound(sql: insert) { bind in
                bind.text(text)
                bind.text(nil)
                bind.integer(nil)
                bind.real(nil)
                bind.bool(false)
            }
        }
        try queue.write { db in
            try add("one", db)
            let error = #expect(throws: DatabaseError.self) { try add("one", db) }
            #expect(error?.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE)
            try add("two", db)  // GRDB dropped the failed statement from its cache: a fresh one is bound
        }
        #expect(try queue.read { try String.fetchAll($0, sql: "SELECT t FROM sample ORDER BY t") } == ["one", "two"])
    }

    @Test func fetchIntegerReadsOneValueOrNil() throws {
        let queue = try database()
        try queue.write { db in
            #expect(try db.fetchInteger(sql: "SELECT i FROM sample WHERE t = 'none'") == nil)
            try db.execute(sql: insert, arguments: ["a", nil, 7, nil, false])
            #expect(try db.fetchInteger(sql: "SELECT i FROM sample WHERE t = 'a'") == 7)
            #expect(try db.fetchInteger(sql: "SELECT r FROM sample WHERE t = 'a'") == nil)
            try db.execute(sql: "UPDATE sample SET i = 8")
            #expect(try db.fetchInteger(sql: "SELECT i FROM sample WHERE t = 'a'") == 8)  // the cached statement, read again
        }
    }
}
