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
/// the value each field had there (`before`). On applying it, for each field:
/// - if the value is still what the editor saw (or nobody has edited the field), the edit wins;
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
    let before: [String: JSONValue]?
    private var stamps: [String: FieldStamp]
    private var changed = false

    init(table: String, recordId: UUID, context: MutationContext, before: [String: JSONValue]?, _ db: Database) throws {
        self.table = table
        self.recordId = recordId
        self.context = context
        self.before = before
        let text = try String.fetchOne(
            try db.cachedStatement(sql: "SELECT field_clocks FROM \(table) WHERE id = ?"), arguments: [recordId.key]) ?? "{}"
        stamps = (try? JSONCoding.decoder.decode([String: FieldStamp].self, from: Data(text.utf8))) ?? [:]
    }

    /// Whether the edit's value for `field` should be written. `current` and `incoming` are the
    /// field's values as edit arguments (`{"title": "…"}`), the form a conflict keeps them in.
    mutating func admit(_ field: String, current: JSONValue, incoming: JSONValue, _ db: Database) throws -> Bool {
        let mine = FieldStamp(hlc: context.hlc, by: context.actor.person.id)
        let stamp = stamps[field]
        let saw = before?[field].map { $0.sameValue(as: current) } ?? true
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
        let text = String(decoding: try JSONCoding.encoder.encode(stamps), as: UTF8.self)
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
