import Foundation
import GRDB
import GRDBSQLite

/// A cached statement executed with its values bound straight into SQLite, for the statements a
/// push runs once per mutation (a need's insert, the change counter's read). GRDB's
/// `execute(arguments:)` first builds an array of boxed values, checks it against the statement
/// and binds each through nested closures: on the server that was about a seventh of a need's
/// insert, 6% of a push's samples. Here each value is bound as it is given.
public struct StatementBinder: ~Copyable {
    let statement: SQLiteStatement
    private(set) var index: CInt = 0
    /// The first binding SQLite refused (out of memory, too big), if any: the statement is then not run.
    private(set) var refusal: CInt = SQLITE_OK

    init(_ statement: SQLiteStatement) { self.statement = statement }

    public mutating func text(_ value: String?) {
        index += 1
        guard let value else {
            check(sqlite3_bind_null(statement, index))
            return
        }
        check(Self.bindText(value, statement, index))
    }

    /// Binds `text` at `index` (also how a pulled row's text is bound, see `RowWriter`).
    static func bindText(_ text: String, _ statement: SQLiteStatement, _ index: CInt) -> CInt {
        var text = text
        return text.withUTF8 { bytes in
            // An empty buffer may have no address, which SQLite would take for NULL. SQLite copies
            // the text (SQLITE_TRANSIENT), so the buffer need not outlive the call.
            let start = UnsafeRawPointer(bytes.baseAddress ?? emptyText.utf8Start).assumingMemoryBound(to: CChar.self)
            return sqlite3_bind_text(statement, index, start, CInt(bytes.count), transient)
        }
    }

    public mutating func integer(_ value: Int?) {
        index += 1
        if let value { check(sqlite3_bind_int64(statement, index, Int64(value))) } else { check(sqlite3_bind_null(statement, index)) }
    }

    public mutating func bool(_ value: Bool) {
        index += 1
        check(sqlite3_bind_int64(statement, index, value ? 1 : 0))
    }

    public mutating func real(_ value: Double?) {
        index += 1
        if let value { check(sqlite3_bind_double(statement, index, value)) } else { check(sqlite3_bind_null(statement, index)) }
    }

    private mutating func check(_ code: CInt) {
        if code != SQLITE_OK, refusal == SQLITE_OK { refusal = code }
    }

    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
    private static let emptyText: StaticString = ""
}

extension Database {
    /// Runs the cached statement `sql` with the values `bind` gives, in order. It must give one for
    /// each parameter (checked: a statement run with a stale value would write it silently).
    /// Errors are GRDB's own (`DatabaseError` with SQLite's code), as from `execute(arguments:)`.
    public func executeBound(sql: String, _ bind: (inout StatementBinder) -> Void) throws {
        let statement = try cachedStatement(sql: sql)
        // Marks the arguments as bound for GRDB (and resets the statement): `execute()` then runs
        // what is bound below. A statement GRDB made afresh (after a failure) is marked again here.
        let count = sqlite3_bind_parameter_count(statement.sqliteStatement)
        statement.setUncheckedArguments(Self.unboundArguments(Int(count)))
        var binder = StatementBinder(statement.sqliteStatement)
        bind(&binder)
        guard binder.index == count else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "\(binder.index) values bound for \(count) parameters", sql: sql)
        }
        guard binder.refusal == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: binder.refusal), message: "SQLite refused a value to bind", sql: sql)
        }
        try statement.execute()
    }

    /// The single integer the cached statement `sql` reads, stepped directly (nil: no row, or NULL).
    /// For a read a push makes once per mutation, such as the change counter after it.
    public func fetchInteger(sql: String) throws -> Int64? {
        let statement = try cachedStatement(sql: sql).sqliteStatement
        sqlite3_reset(statement)
        defer { sqlite3_reset(statement) }
        switch sqlite3_step(statement) {
        case SQLITE_ROW:
            return sqlite3_column_type(statement, 0) == SQLITE_NULL ? nil : sqlite3_column_int64(statement, 0)
        case SQLITE_DONE:
            return nil
        case let code:
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }, sql: sql)
        }
    }

    /// Made once: building arguments is itself the cost this file avoids (a tenth of a need's insert).
    private static func unboundArguments(_ count: Int) -> StatementArguments {
        count < unbound.count ? unbound[count] : StatementArguments(Array(repeating: DatabaseValue.null, count: count))
    }

    private static let unbound = (0..<32).map { StatementArguments(Array(repeating: DatabaseValue.null, count: $0)) }
}
