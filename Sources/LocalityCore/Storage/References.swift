import Foundation
import GRDB

/// Turns what a person types — an id, a slug, a GSS code, an org-id, a short reference — into a record.
public enum References {
    public static func locality(_ ref: String, _ db: Database) throws -> Locality {
        try resolve(
            ref, kind: "locality", table: "locality",
            columns: ["slug", "gss_code", "name"],
            hint: "give an id, a slug such as whitmere-town, or a GSS code such as E04900001; `locality localities` lists them",
            db)
    }

    public static func organisation(_ ref: String, _ db: Database) throws -> Organisation {
        try resolve(
            ref, kind: "organisation", table: "organisation",
            columns: ["slug", "org_identifier", "name"],
            hint: "give an id, a slug or an org-id such as GB-CHC-1099999; `locality org list` lists them", db)
    }

    public static func commission(_ ref: String, _ db: Database) throws -> Commission {
        try resolve(ref, kind: "commission", table: "commission", columns: ["title"], hint: "`locality commission list` shows the references", db)
    }

    public static func round(_ ref: String, _ db: Database) throws -> Round {
        try resolve(ref, kind: "round", table: "round", columns: ["title"], hint: "`locality round list` shows the references", db)
    }

    public static func vote(_ ref: String, _ db: Database) throws -> Vote {
        try resolve(ref, kind: "vote", table: "vote", columns: ["title"], hint: "`locality vote list` shows the references", db)
    }

    public static func award(_ ref: String, _ db: Database) throws -> Award {
        try resolve(ref, kind: "award", table: "award", columns: ["title"], hint: "`locality award list` shows the references", db)
    }

    public static func budget(_ ref: String, _ db: Database) throws -> Budget {
        try resolve(
            ref, kind: "budget", table: "budget", columns: ["slug", "name"],
            hint: "give an id or a slug; `locality budget list` lists them", db)
    }

    public static func outcome(_ ref: String, _ db: Database) throws -> Outcome {
        try resolve(
            ref, kind: "outcome", table: "outcome", columns: ["slug", "title"],
            hint: "give an id or a slug; `locality outcome list` lists them", db)
    }

    public static func indicator(_ ref: String, _ db: Database) throws -> Indicator {
        try resolve(
            ref, kind: "indicator", table: "indicator", columns: ["name"], hint: "give its name or id; `locality outcome list` lists them", db)
    }

    public static func need(_ ref: String, _ db: Database) throws -> Need {
        try resolve(ref, kind: "need", table: "need", columns: ["title"], hint: "`locality need list` shows the references", db)
    }

    public static func proposal(_ ref: String, _ db: Database) throws -> Proposal {
        try resolve(
            ref, kind: "proposal", table: "proposal", columns: ["title"], hint: "`locality proposal list` shows the references", db)
    }

    /// An id, then an exact (case-insensitive) match on each column in turn, then — for records
    /// people create — a short reference: the last 6 or more hex digits of the id (what every list
    /// prints, so every kind takes it).
    private static func resolve<Record: SyncRecord>(
        _ ref: String, kind: String, table: String, columns: [String], hint: String, _ db: Database
    ) throws -> Record {
        let text = ref.trimmingWhitespace()
        guard !text.isEmpty else { throw LocalityError.invalid("a \(kind) reference is required") }
        if let id = UUID(key: text) {
            if let record = try Record.find(db, id: id) { return record }
            throw LocalityError.notFound("no \(kind) with id \(id.key)")
        }
        for column in columns {
            let matches = try Record.fetchAll(
                db, sql: "SELECT * FROM \(table) WHERE \(column) = ? COLLATE NOCASE LIMIT 2", arguments: [text])
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 {
                throw LocalityError(.ambiguous, "more than one \(kind) has \(column.replacingOccurrences(of: "_", with: " ")) '\(text)'; use its id")
            }
        }
        let hex = text.lowercased()
        if hex.count >= 6, hex.count <= 36, hex.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
            let matches = try Record.fetchAll(
                db, sql: "SELECT * FROM \(table) WHERE id LIKE ? ESCAPE '\\' LIMIT 2", arguments: ["%" + hex])
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 {
                throw LocalityError(.ambiguous, "'\(text)' matches more than one \(kind); give more of its id")
            }
        }
        throw LocalityError.notFound("no \(kind) '\(text)': \(hint)")
    }
}

extension References {
    /// The acting person's organisation, when they belong to exactly one.
    public static func soleOrganisation(of actor: Actor, _ db: Database) throws -> Organisation {
        let mine = try actor.organisationIds.compactMap { try Organisation.find(db, id: $0) }
        guard mine.count == 1 else {
            throw LocalityError.invalid(
                mine.isEmpty
                    ? "\(actor.person.username) is not a member of any organisation, so cannot draft proposals"
                    : "say which organisation: \(actor.person.username) belongs to \(mine.map(\.slug).sorted().joined(separator: ", "))")
        }
        return mine[0]
    }

    /// Where a proposal happens if nobody says: the place its organisation serves within the
    /// budget's area (the area itself for an organisation that serves all of it or more).
    public static func defaultProposalLocality(for organisation: Organisation, in budget: Budget, _ db: Database) throws -> UUID {
        let served = try organisation.servedLocalities(db).map(\.id)
        for locality in served where try Locality.isWithin(locality, budget.localityId, in: db) { return locality }
        for locality in served where try Locality.isWithin(budget.localityId, locality, in: db) { return budget.localityId }
        let area = try Locality.find(db, id: budget.localityId)?.name ?? "the budget's area"
        throw LocalityError.invalid(
            "\(organisation.name) serves nowhere within \(area), which \(budget.name) covers; say where the proposal would happen with a locality")
    }
}

extension Actor {
    /// The acting user of the replica this database holds.
    public static func acting(in db: Database) throws -> Actor {
        try Actor.load(db, personId: try ReplicaState.load(db).personId)
    }
}
