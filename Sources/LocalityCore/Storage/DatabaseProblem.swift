import GRDB

/// What went wrong with a database file, in words an operator or a person with a damaged device can
/// act on, rather than SQLite's own.
public enum DatabaseProblem {
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        switch error.resultCode {
        case .SQLITE_NOTADB: return "it is not a Locality database (not an SQLite file at all)"
        case .SQLITE_CORRUPT: return "the file is damaged (SQLite reports a malformed database image)"
        case .SQLITE_CANTOPEN: return "it cannot be opened: check the path, that its folder exists, and the permissions"
        case .SQLITE_IOERR: return "reading it failed (disk I/O error): is it a directory, or on a failing disk?"
        case .SQLITE_READONLY: return "it is read-only here: check its permissions"
        case .SQLITE_BUSY, .SQLITE_LOCKED: return "another program holds it locked; try again"
        case .SQLITE_FULL: return "the disk is full"
        default: return error.message ?? "\(error)"
        }
    }

    /// Whether the error means the disk (or the database's size limit) is full: the transaction was
    /// rolled back whole, and the same work succeeds once there is room again.
    public static func isFull(_ error: any Error) -> Bool {
        (error as? DatabaseError)?.resultCode == .SQLITE_FULL
    }

    /// Whether the error means the file itself is damaged or not a database.
    public static func isDamage(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB
    }
}
