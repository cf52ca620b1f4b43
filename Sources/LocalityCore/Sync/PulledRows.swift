import Foundation
import GRDB

/// Applies the rows of a pull page to a replica.
enum PulledRows {
    /// Records that own links carry them as arrays: (column in the row, link table, owner column, linked column).
    static let links: [String: [(field: String, table: String, owner: String, linked: String)]] = [
        "proposal": [
            ("need_ids", "proposal_need", "proposal_id", "need_id"),
            ("outcome_ids", "proposal_outcome", "proposal_id", "outcome_id"),
        ],
        "organisation": [("locality_ids", "organisation_locality", "organisation_id", "locality_id")],
    ]

    static func apply(_ changes: [RowChange], columns: [String: [String]]? = nil, _ db: Database) throws {
        var upserts: [String: RowWriter.Upsert] = [:]
        // For a page in columns: where each of the table's columns sits in its rows' values.
        var places: [String: RowWriter.Places] = [:]
        for change in changes {
            // A table this version does not know: skip it; a later version will apply it.
            guard let key = Schema.syncedTables.first(where: { $0.table == change.table })?.key else { continue }
            let keyValues = keyValues(change, key)
            guard keyValues.count == key.count else { continue }
            if change.deleted {
                if change.table == "need" {
                    // Foreign keys are off while a page applies: take what hangs off the need too.
                    try db.execute(sql: "DELETE FROM need_evidence WHERE need_id = ?", arguments: [change.key])
                    try db.execute(
                        sql: "DELETE FROM conflict WHERE record_type = 'need' AND record_id = ?", arguments: [change.key])
                }
                try db.execute(
                    sql: "DELETE FROM \(change.table) WHERE " + key.map { "\($0) = ?" }.joined(separator: " AND "),
                    arguments: StatementArguments(keyValues))
                continue
            }
            let upsert: RowWriter.Upsert
            if let prepared = upserts[change.table] {
                upsert = prepared
            } else {
                upsert = try RowWriter.prepare(table: change.table, key: key, db)
                upserts[change.table] = upsert
            }
            let ownedLinks = links[change.table] ?? []
            var linkValues: [String: [String]] = [:]
            if let values = change.values {
                let place: RowWriter.Places
                if let known = places[change.table] {
                    place = known
                } else {
                    guard let names = columns?[change.table] else {
                        throw LocalityError.invalid("the server sent a row of \(change.table) in columns without naming the columns")
                    }
                    place = RowWriter.Places(columns: upsert.columns, names: names, links: ownedLinks.map(\.field))
                    places[change.table] = place
                }
                guard values.count == place.width else {
                    throw LocalityError.invalid(
                        "the server sent a row of \(change.table) with \(values.count) values for \(place.width) columns")
                }
                for (field, index) in place.links {
                    if case .array(let items) = values[index] { linkValues[field] = Self.strings(items) }
                }
                try RowWriter.upsert(upsert, values: values, places: place.columns)
            } else {
                guard var row = change.row else { continue }
                for link in ownedLinks {
                    if case .array(let items)? = row.removeValue(forKey: link.field) { linkValues[link.field] = Self.strings(items) }
                }
                try RowWriter.upsert(upsert, values: row)
            }
            for link in ownedLinks {
                guard let values = linkValues[link.field] else { continue }
                try db.execute(sql: "DELETE FROM \(link.table) WHERE \(link.owner) = ?", arguments: [change.key])
                for value in values {
                    try db.execute(
                        sql: "INSERT INTO \(link.table) (\(link.owner), \(link.linked)) VALUES (?, ?)", arguments: [change.key, value])
                }
            }
        }
    }

    private static func strings(_ items: [JSONValue]) -> [String] {
        items.compactMap { if case .string(let text) = $0 { text } else { nil } }
    }

    /// The key column values: from the row when present, else from the change's key text.
    private static func keyValues(_ change: RowChange, _ key: [String]) -> [String] {
        if key.count == 1 { return [change.key] }
        return change.key.split(separator: ":", maxSplits: key.count - 1).map(String.init)
    }
}
