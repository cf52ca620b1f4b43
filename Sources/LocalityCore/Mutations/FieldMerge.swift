import Foundation
import GRDB

/// Who last set a field, and when by the hybrid logical clock (whose node is the device).
struct FieldStamp: Codable, Hashable, Sendable {
    var hlc: HLCTimestamp
    var by: UUID
}

/// Field-level merging of edits made offline.
///
/// An edit names the fields it changes, and — filled in on the device when the edit is made —
/// the clock of the last edit of each field as the device knew it (`seen`). On applying it, for
/// each field:
/// - if the field's last edit is still the one the editor saw, the edit wins;
/// - otherwise the field was changed concurrently, and the edit with the later hybrid logical
///   clock wins (ties are impossible: the clock's node is the device id). The losing value is
///   kept as a `conflict` both people can see and resolve.
/// So two edits of different fields both survive, and two edits of the same field end the same
/// whatever order they reach the server in. A conflict's id is derived from the clock of the edit
/// that found it, so a device rebasing its own edit makes the same row the server does.
struct FieldMerge {
    let table: String
    let recordId: UUID
    let context: MutationContext
    let seen: [String: String]?
    private var stamps: [String: FieldStamp]
    private var changed = false

    init(table: String, recordId: UUID, context: MutationContext, seen: [String: String]?, _ db: Database) throws {
        self.table = table
        self.recordId = recordId
        self.context = context
        self.seen = seen
        stamps = try Self.stamps(table: table, recordId: recordId, db)
    }

    static func stamps(table: String, recordId: UUID, _ db: Database) throws -> [String: FieldStamp] {
        let text = try String.fetchOne(
            try db.cachedStatement(sql: "SELECT field_clocks FROM \(table) WHERE id = ?"), arguments: [recordId.key]) ?? "{}"
        return (try? JSONCoding.decode([String: FieldStamp].self, from: text.utf8)) ?? [:]
    }

    /// What a device records in an edit: for each field, the clock of its last edit here ("" for none).
    static func seen(table: String, recordId: UUID, fields: [String], _ db: Database) throws -> [String: String] {
        let stamps = try stamps(table: table, recordId: recordId, db)
        return Dictionary(uniqueKeysWithValues: fields.map { ($0, stamps[$0]?.hlc.description ?? "") })
    }

    /// Whether the edit's value for `field` should be written. `current` and `incoming` are the
    /// field's values as edit arguments (`{"title": "…"}`), the form a conflict keeps them in.
    mutating func admit(_ field: String, current: JSONValue, incoming: JSONValue, _ db: Database) throws -> Bool {
        let mine = FieldStamp(hlc: context.hlc, by: context.actor.person.id)
        let stamp = stamps[field]
        // An edit that says nothing of what it saw (from an older client) is taken as the latest.
        let saw = seen?[field].map { $0 == (stamp?.hlc.description ?? "") } ?? true
        let concurrent = !saw && stamp != nil
        if current.sameValue(as: incoming) {
            if stamp.map({ $0.hlc < mine.hlc }) ?? true { stamps[field] = mine }
            changed = true
            return false
        }
        if !concurrent || stamp!.hlc < mine.hlc {
            if concurrent {
                try record(field, lost: current, lostStamp: stamp!, kept: incoming, keptStamp: mine, db)
            }
            stamps[field] = stamp.map { $0.hlc < mine.hlc ? mine : $0 } ?? mine
            changed = true
            return true
        }
        // A later concurrent edit already set this field: it stays; this value is kept aside.
        try record(field, lost: incoming, lostStamp: mine, kept: current, keptStamp: stamp!, db)
        return false
    }

    /// Writes the field clocks back, if any changed.
    func save(_ db: Database) throws {
        guard changed else { return }
        let text = String(decoding: try JSONCoding.encode(stamps, sortedKeys: true), as: UTF8.self)
        try db.cachedStatement(sql: "UPDATE \(table) SET field_clocks = ? WHERE id = ?").execute(arguments: [text, recordId.key])
    }

    private func record(
        _ field: String, lost: JSONValue, lostStamp: FieldStamp, kept: JSONValue, keptStamp: FieldStamp, _ db: Database
    ) throws {
        let id = UUID.stable("conflict/\(table)/\(recordId.key)/\(field)/\(context.hlc.description)")
        try db.cachedStatement(
            sql: """
                INSERT INTO conflict (id, record_type, record_id, field, lost_value, lost_by, lost_hlc, kept_value, kept_by,
                    kept_hlc, status, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)
                ON CONFLICT (id) DO NOTHING
                """
        ).execute(arguments: [
            id.key, table, recordId.key, field, lost.jsonText, lostStamp.by.key, lostStamp.hlc.description, kept.jsonText,
            keptStamp.by.key, keptStamp.hlc.description, Timestamps.format(context.at),
        ])
    }
}

extension JSONValue {
    /// Equality of values as a person means it: `2` and `2.0` are the same number, and a missing
    /// member of an object is the same as `null`.
    func sameValue(as other: JSONValue) -> Bool {
        switch (self, other) {
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Double(a) == b
        case (.object(let a), .object(let b)):
            for key in Set(a.keys).union(b.keys) where !(a[key] ?? .null).sameValue(as: b[key] ?? .null) { return false }
            return true
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.sameValue(as: $1) }
        default: return self == other
        }
    }
}
