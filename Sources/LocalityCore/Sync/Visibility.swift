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
    public static func canSee(table: String, row: [String: JSONValue], by actor: Actor, _ db: Database) throws -> Bool {
        switch table {
        case "need": return try canSeeNeed(row, by: actor, db)
        case "need_evidence":
            guard case .string(let needKey)? = row["need_id"], let needId = UUID(key: needKey),
                let need = try Row.fetchOne(
                    db, sql: "SELECT locality_id, recorded_by, holds_personal_data FROM need WHERE id = ?",
                    arguments: [needId.key])
            else { return false }
            return try canSeeNeed(
                [
                    "locality_id": .string(need["locality_id"]), "recorded_by": .string(need["recorded_by"]),
                    "holds_personal_data": .int(need["holds_personal_data"]),
                ], by: actor, db)
        case "proposal":
            guard case .string(let status)? = row["status"] else { return false }
            if status != Proposal.Status.draft.rawValue { return true }
            guard case .string(let org)? = row["organisation_id"], let organisationId = UUID(key: org) else { return false }
            return actor.isMember(of: organisationId)
        default:
            return true
        }
    }

    private static func canSeeNeed(_ row: [String: JSONValue], by actor: Actor, _ db: Database) throws -> Bool {
        guard case .string(let localityKey)? = row["locality_id"], let localityId = UUID(key: localityKey) else {
            return false
        }
        let personal = row["holds_personal_data"] == .int(1) || row["holds_personal_data"] == .bool(true)
        let recorder: UUID? = if case .string(let key)? = row["recorded_by"] { UUID(key: key) } else { nil }
        if actor.has(.officer) || recorder == actor.person.id { return true }
        let isWardCouncillor = actor.has(.councillor) ? try actor.covers(localityId, in: db) : false
        if personal { return isWardCouncillor }
        if actor.has(.executive) || isWardCouncillor { return true }
        if actor.has(.councillor) {
            // The areas above their wards: a need recorded at area or county level.
            for ward in actor.wardIds where try Locality.isWithin(ward, localityId, in: db) { return true }
            return false
        }
        return true
    }
}
