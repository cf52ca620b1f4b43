import Foundation
import GRDB

/// Who may see which records: a device receives only what its user may see. The server applies
/// these rules to every pulled row.
///
/// - Reference data (localities, organisations, people and their roles, outcomes, indicators,
///   budgets and their ledgers) is public within the authority.
/// - Officers and executive members see every need; a councillor sees the needs in their wards
///   and in the areas above them; everyone else sees needs that hold no personal data.
/// - A need that holds personal data goes only to its recorder, the ward's councillors and officers.
/// - A draft proposal goes only to members of its organisation; submitted and withdrawn
///   proposals are public.
public enum Visibility {
    /// The version of these rules. Part of every scope fingerprint, so changing the rules makes
    /// every device resynchronise what it holds.
    static let rulesVersion = 1

    /// What decides what `actor` may see: the rules' version and their roles. When it changes, a
    /// device re-pulls its scope and drops what it may no longer hold.
    public static func scopeFingerprint(of actor: Actor) -> String {
        let roles = actor.roles.map { "\($0.role.rawValue):\($0.localityId?.key ?? ""):\($0.organisationId?.key ?? "")" }.sorted()
        return UUID.stable("scope/v\(rulesVersion)/\(actor.person.id.key)/" + roles.joined(separator: ",")).key
    }

    /// Whether `actor` may see this row. For many rows, use one `ScopeCheck`, which remembers
    /// what it has looked up.
    public static func canSee(table: String, row: [String: JSONValue], by actor: Actor, _ db: Database) throws -> Bool {
        try ScopeCheck(actor: actor).canSee(table: table, row: row, db)
    }
}

/// The visibility rules for one actor over many rows — a pull page — remembering each
/// locality's ancestry and each need's verdict, so a page costs a query per distinct locality
/// and need rather than several per row.
public final class ScopeCheck {
    public let actor: Actor
    private var ancestry: [UUID: [UUID]] = [:]
    private var needVerdicts: [UUID: Bool] = [:]

    public init(actor: Actor) { self.actor = actor }

    public func canSee(table: String, row: [String: JSONValue], _ db: Database) throws -> Bool {
        switch table {
        case "need":
            let verdict = try canSeeNeed(row, db)
            if case .string(let key)? = row["id"], let id = UUID(key: key) { needVerdicts[id] = verdict }
            return verdict
        case "need_evidence":
            guard case .string(let needKey)? = row["need_id"], let needId = UUID(key: needKey) else { return false }
            return try canSeeNeed(id: needId, db)
        case "conflict":
            // A conflict goes wherever the record it is about goes.
            guard case .string(let type)? = row["record_type"], case .string(let key)? = row["record_id"],
                let recordId = UUID(key: key)
            else { return false }
            switch type {
            case "need": return try canSeeNeed(id: recordId, db)
            case "proposal":
                guard
                    let proposal = try Row.fetchOne(
                        try db.cachedStatement(sql: "SELECT status, organisation_id FROM proposal WHERE id = ?"),
                        arguments: [recordId.key])
                else { return false }
                return try canSee(
                    table: "proposal",
                    row: ["status": .string(proposal["status"]), "organisation_id": .string(proposal["organisation_id"])], db)
            default: return false
            }
        case "proposal":
            guard case .string(let status)? = row["status"] else { return false }
            if status != Proposal.Status.draft.rawValue { return true }
            guard case .string(let org)? = row["organisation_id"], let organisationId = UUID(key: org) else { return false }
            return actor.isMember(of: organisationId)
        default:
            return true
        }
    }

    /// The verdict for a need known by id: its evidence and conflicts go where it goes.
    private func canSeeNeed(id needId: UUID, _ db: Database) throws -> Bool {
        if let verdict = needVerdicts[needId] { return verdict }
        guard
            let need = try Row.fetchOne(
                try db.cachedStatement(sql: "SELECT locality_id, recorded_by, holds_personal_data FROM need WHERE id = ?"),
                arguments: [needId.key])
        else { return false }
        let verdict = try canSeeNeed(
            [
                "locality_id": .string(need["locality_id"]), "recorded_by": .string(need["recorded_by"]),
                "holds_personal_data": .int(need["holds_personal_data"]),
            ], db)
        needVerdicts[needId] = verdict
        return verdict
    }

    private func ancestors(of id: UUID, _ db: Database) throws -> [UUID] {
        if let known = ancestry[id] { return known }
        let found = try Locality.ancestorIDs(of: id, in: db)
        ancestry[id] = found
        return found
    }

    private func canSeeNeed(_ row: [String: JSONValue], _ db: Database) throws -> Bool {
        guard case .string(let localityKey)? = row["locality_id"], let localityId = UUID(key: localityKey) else {
            return false
        }
        let personal = row["holds_personal_data"] == .int(1) || row["holds_personal_data"] == .bool(true)
        let recorder: UUID? = if case .string(let key)? = row["recorded_by"] { UUID(key: key) } else { nil }
        if actor.has(.officer) || recorder == actor.person.id { return true }
        let isWardCouncillor = actor.has(.councillor) ? actor.covers(ancestry: try ancestors(of: localityId, db)) : false
        if personal { return isWardCouncillor }
        if actor.has(.executive) || isWardCouncillor { return true }
        if actor.has(.councillor) {
            // The areas above their wards: a need recorded at area or county level.
            for ward in actor.wardIds where try ancestors(of: ward, db).contains(localityId) { return true }
            return false
        }
        return true
    }
}

/// The parts of the change feed that hold everything an actor may see, when that is narrower than
/// the whole feed. The server keeps each need's row, its evidence and the conflicts about it in the
/// partition of the need's locality (and of its recorder); every other row is in everyone's. A
/// councillor who is not also an officer or executive member sees needs only in their wards, the
/// places within them and the areas above them, and the needs they recorded themselves — so their
/// pull reads those partitions and never the rest of the feed. The rules above still judge every
/// row read: the partitions only decide what is read.
public struct FeedPartitions: Sendable, Equatable {
    /// The partitions the actor reads (besides everyone's and their own).
    public var keys: [String]
    /// Needs this person recorded are theirs wherever they are.
    public var recorder: UUID

    /// More localities than this, and reading the whole feed is as cheap.
    static let limit = 64

    /// A need's partition: its locality, marked when it was recorded holding personal data (only its
    /// recorder, officers and the ward's councillors ever see it). A need that came to hold personal
    /// data by an edit is in everyone's partition instead, so every device that may once have held
    /// it is told to drop it. The server's feed triggers write the same key.
    public static func key(locality: UUID, recordedPersonal: Bool) -> String {
        recordedPersonal ? locality.key + ":p" : locality.key
    }

    /// The partitions for `actor`, or nil when they may see needs anywhere (officers, executive
    /// members, everyone who is not a councillor): then the whole feed is read.
    public static func of(_ actor: Actor, _ db: Database) throws -> FeedPartitions? {
        guard actor.has(.councillor), !actor.has(.officer), !actor.has(.executive) else { return nil }
        let wards = actor.wardIds
        var above = Set<UUID>()
        // The areas above each ward (the ward itself first)…
        for ward in wards { above.formUnion(try Locality.ancestorIDs(of: ward, in: db)) }
        // …and everything within a ward: the reverse of the links `Locality.ancestorIDs` follows,
        // from one read of the places (a recursive query would scan them once per place found).
        var children: [String: [String]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, parent_id, also_within FROM locality") {
            let id: String = row["id"]
            if let parent: String = row["parent_id"] { children[parent, default: []].append(id) }
            if let within: String = row["also_within"], let others = try? JSONDecoder().decode([String].self, from: Data(within.utf8)) {
                for other in others { children[other, default: []].append(id) }
            }
        }
        var queue = wards.map(\.key)
        var below = Set(queue)
        while let next = queue.popLast() {
            for child in children[next] ?? [] where below.insert(child).inserted { queue.append(child) }
            guard below.count <= limit * 4 else { return nil }
        }
        // Within their wards they see every need; above them, only those recorded without personal data.
        let within = Set(below.compactMap(UUID.init(key:)))
        guard within.union(above).count <= limit else { return nil }
        let keys = within.flatMap { [key(locality: $0, recordedPersonal: false), key(locality: $0, recordedPersonal: true)] }
            + above.subtracting(within).map { key(locality: $0, recordedPersonal: false) }
        return FeedPartitions(keys: keys.sorted(), recorder: actor.person.id)
    }
}
