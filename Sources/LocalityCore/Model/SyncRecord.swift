import Foundation
import GRDB

/// A row stored the Locality way: UUIDs as lower-case text, snake_case columns.
public protocol LocalityRecord: Codable, FetchableRecord, PersistableRecord, Sendable {}

extension LocalityRecord {
    public static func databaseUUIDEncodingStrategy(for column: String) -> DatabaseUUIDEncodingStrategy { .lowercaseString }
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }

    /// Instants as ISO 8601 UTC text with milliseconds: they sort as text, read well in the
    /// SQLite shell, and come back as exactly the same `Date` on every device and on the server.
    public static func databaseDateEncodingStrategy(for column: String) -> DatabaseDateEncodingStrategy {
        .custom { Timestamps.format($0) }
    }

    public static func databaseDateDecodingStrategy(for column: String) -> DatabaseDateDecodingStrategy {
        .custom { String.fromDatabaseValue($0).flatMap(Timestamps.parse) }
    }
}

/// A record that lives in a replica and on the server, keyed by a UUID made on the device.
public protocol SyncRecord: LocalityRecord, Identifiable where ID == UUID {}

extension SyncRecord {
    /// The record with this id, if any. (UUIDs are bound as text: GRDB's default would be a blob.)
    /// The statement is cached per connection: this runs on every mutation's hot path.
    public static func find(_ db: Database, id: UUID) throws -> Self? {
        let statement = try db.cachedStatement(sql: "SELECT * FROM \(databaseTableName) WHERE id = ?")
        return try fetchOne(statement, arguments: [id.key])
    }

    /// Whether a record with this id exists, without decoding it.
    public static func exists(_ db: Database, id: UUID) throws -> Bool {
        let statement = try db.cachedStatement(sql: "SELECT 1 FROM \(databaseTableName) WHERE id = ?")
        return try Bool.fetchOne(statement, arguments: [id.key]) ?? false
    }
}

extension Money: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { pence.databaseValue }
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> Money? {
        Int64.fromDatabaseValue(dbValue).map(Money.init(pence:))
    }
}

extension FinancialYear: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { description.databaseValue }
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> FinancialYear? {
        String.fromDatabaseValue(dbValue).flatMap { try? FinancialYear(parsing: $0) }
    }
}

extension HLCTimestamp: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { description.databaseValue }
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> HLCTimestamp? {
        String.fromDatabaseValue(dbValue).flatMap { try? HLCTimestamp(parsing: $0) }
    }
}

extension UUID {
    /// A UUID column, failing with a message naming the column rather than crashing.
    public static func column(_ row: Row, _ name: String) throws -> UUID {
        guard let text: String = row[name], let id = UUID(key: text) else {
            throw LocalityError.invalid("the column \(name) does not hold a UUID")
        }
        return id
    }

    static func optionalColumn(_ row: Row, _ name: String) throws -> UUID? {
        guard let text: String = row[name] else { return nil }
        guard let id = UUID(key: text) else { throw LocalityError.invalid("the column \(name) does not hold a UUID") }
        return id
    }
}
