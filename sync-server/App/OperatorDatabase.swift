import ArgumentParser
import Foundation
import LocalityCore
import LocalitySyncServer

/// The server's database as an operator command reaches it: the SQLite file (`--db`), or a
/// PostgreSQL database (`--database postgres://…`) that any number of server processes share.
/// Either way a change is one `AdminCommand`, applied by the same code; on PostgreSQL it is also
/// appended to the log under the council's write lock, so every running server process applies
/// it too, in order, before it answers its next request.
enum OperatorDatabase {
    case file(SQLiteSyncStore)
    case postgres(ReplicatedSyncStore, PostgresLocation)

    /// The council's state, up to date: to read from, or to try a dry run on (which changes nothing).
    func reading() async throws -> SQLiteSyncStore {
        switch self {
        case .file(let store): return store
        case .postgres(let store, _): return try await store.current()
        }
    }

    /// Applies an operator's change; its answer decoded as `T`. A refusal is an `OperatorError`
    /// naming the problem, and changes nothing.
    func administer<T: Decodable>(_ command: AdminCommand, as type: T.Type, now: Date = Date(), context: String? = nil) async throws -> T {
        let result: String
        do {
            switch self {
            case .file(let store): result = try store.administer(command, now: now, seed: .random(in: 0 ... UInt64(Int64.max)))
            case .postgres(let store, _): result = try await store.administer(command, now: now)
            }
        } catch let error as LocalityError {
            throw OperatorError((context.map { "\($0): " } ?? "") + error.message)
        }
        return try JSONCoding.decode(T.self, from: Array(result.utf8))
    }

    func close() {
        if case .postgres(let store, _) = self { store.log.shutdown() }
    }
}

extension DatabaseOption {
    /// The PostgreSQL database named by --database or $LOCALITY_SYNC_DATABASE_URL, if any.
    var databaseURL: String? { postgres ?? ProcessInfo.processInfo.environment["LOCALITY_SYNC_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    /// Opens the server's database for an operator command. The SQLite file must exist unless
    /// `creating` (council set-up makes it); a PostgreSQL database gets its tables if it has none.
    func connect(creating: Bool = false) async throws -> OperatorDatabase {
        if let databaseURL {
            do {
                let location = try PostgresLocation(url: databaseURL)
                let log = try await PostgresLog(location)
                do {
                    return .postgres(try await ReplicatedSyncStore(log: log), location)
                } catch {
                    log.shutdown()
                    throw error
                }
            } catch let error as LocalityError {
                throw OperatorError(error.message)
            } catch {
                throw OperatorError("cannot use the PostgreSQL database: \(PostgresLog.describe(error))")
            }
        }
        return .file(creating ? try setUpStore(self) : try open())
    }

    /// Runs `body` on the database, closing it afterwards.
    func with<T>(creating: Bool = false, _ body: (OperatorDatabase) async throws -> T) async throws -> T {
        let database = try await connect(creating: creating)
        do {
            let value = try await body(database)
            database.close()
            return value
        } catch {
            database.close()
            throw error
        }
    }

    /// Refuses --database for a command that works on the SQLite file only, saying what to use instead.
    func requireSQLite(_ command: String, instead: String) throws {
        guard databaseURL == nil else {
            throw OperatorError("`locality-sync \(command)` works on the SQLite database file; on PostgreSQL, \(instead)")
        }
    }
}
