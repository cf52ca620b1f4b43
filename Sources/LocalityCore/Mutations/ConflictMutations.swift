import Foundation
import GRDB

/// A value that lost to a concurrent edit of the same field (see `FieldMerge`), kept where the
/// people concerned can see it until one of them resolves it.
public struct Conflict: Codable, Hashable, Sendable {
    public enum Status: String, Codable, Sendable { case open, resolved }

    /// Which value a resolution keeps.
    public enum Keep: String, Codable, Sendable, CaseIterable {
        /// The value that lost: it is written again, as a new edit.
        case lost
        /// The value the merge kept: the record stays as it is.
        case kept
    }

    public var id: UUID
    public var recordType: String
    public var recordId: UUID
    public var field: String
    /// The field's value as edit arguments, e.g. `{"title": "Play area resurfacing"}`.
    public var lostValue: JSONValue
    public var lostBy: UUID
    public var lostHlc: HLCTimestamp
    public var keptValue: JSONValue
    public var keptBy: UUID
    public var keptHlc: HLCTimestamp
    public var status: Status
    public var resolution: Keep?
    public var resolvedBy: UUID?
    public var resolvedAt: Date?
    public var createdAt: Date

    /// The device that made each edit: a hybrid logical clock's node is its device id.
    public var lostDevice: UUID? { UUID(key: lostHlc.node) }
    public var keptDevice: UUID? { UUID(key: keptHlc.node) }

    init(row: Row) throws {
        func json(_ column: String) -> JSONValue {
            (try? JSONParser.parse(row[column] as String? ?? "null")) ?? .null
        }
        id = try UUID.column(row, "id")
        recordType = row["record_type"]
        recordId = try UUID.column(row, "record_id")
        field = row["field"]
        lostValue = json("lost_value")
        lostBy = try UUID.column(row, "lost_by")
        lostHlc = try HLCTimestamp(parsing: row["lost_hlc"])
        keptValue = json("kept_value")
        keptBy = try UUID.column(row, "kept_by")
        keptHlc = try HLCTimestamp(parsing: row["kept_hlc"])
        status = Status(rawValue: row["status"]) ?? .open
        resolution = (row["resolution"] as String?).flatMap(Keep.init(rawValue:))
        resolvedBy = try UUID.optionalColumn(row, "resolved_by")
        resolvedAt = (row["resolved_at"] as String?).flatMap(Timestamps.parse)
        createdAt = Timestamps.parse(row["created_at"]) ?? Date(milliseconds: 0)
    }

    static func find(_ id: UUID, _ db: Database) throws -> Conflict? {
        try Row.fetchOne(db, sql: "SELECT * FROM conflict WHERE id = ?", arguments: [id.key]).map(Conflict.init(row:))
    }

    /// The field's value on the record now, as edit arguments.
    static func currentValue(recordType: String, recordId: UUID, field: String, _ db: Database) throws -> JSONValue? {
        switch recordType {
        case "need": try Need.find(db, id: recordId)?.fragment(field)
        case "proposal": try Proposal.find(db, id: recordId).map { try ProposalFields($0, db).fragment(field) }
        default: nil
        }
    }
}

/// `conflict.resolve`: one of the people whose edits collided — or an officer — settles which
/// value stands. Keeping the lost value writes it again as an edit, through the same rules.
public struct ResolveConflict: MutationCommand, Hashable {
    public static let name = MutationName.conflictResolve

    public var conflictId: UUID
    public var keep: Conflict.Keep
    /// The clock of the field's last edit as this device knew it when the person chose (filled in
    /// by `Replica.perform`): so an edit made meanwhile elsewhere is recognised as concurrent.
    public var seen: String?

    public init(conflictId: UUID, keep: Conflict.Keep) {
        self.conflictId = conflictId
        self.keep = keep
    }

    public func prepared(_ db: Database) throws -> ResolveConflict {
        guard seen == nil, let conflict = try Conflict.find(conflictId, db) else { return self }
        var copy = self
        copy.seen = try FieldMerge.seen(table: conflict.recordType, recordId: conflict.recordId, fields: [conflict.field], db)[
            conflict.field]
        return copy
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        guard let conflict = try Conflict.find(conflictId, db) else {
            throw LocalityError.notFound("no conflict with id \(conflictId.key)")
        }
        guard conflict.status == .open else {
            let who = try conflict.resolvedBy.flatMap { try Person.find(db, id: $0)?.username } ?? "someone"
            throw LocalityError(.invalidTransition, "this conflict was already resolved by \(who)")
        }
        let actor = context.actor
        guard actor.has(.officer) || actor.person.id == conflict.lostBy || actor.person.id == conflict.keptBy else {
            throw LocalityError.forbidden(
                "\(actor.person.username) may not resolve this conflict: only the two people whose edits collided, or an officer, may")
        }
        if keep == .lost {
            guard case .object(var arguments) = conflict.lostValue else {
                throw LocalityError.invalid("the conflict's lost value cannot be written back")
            }
            let seen = self.seen.map { [conflict.field: $0] }
            switch conflict.recordType {
            case "need":
                arguments["needId"] = .string(conflict.recordId.key)
                var edit = try JSONValue.object(arguments).decode(as: UpdateNeed.self)
                edit.seen = seen
                try edit.apply(context, db)
            case "proposal":
                arguments["proposalId"] = .string(conflict.recordId.key)
                var edit = try JSONValue.object(arguments).decode(as: EditProposal.self)
                edit.seen = seen
                try edit.apply(context, db)
            default:
                throw LocalityError.invalid("conflicts on \(conflict.recordType) records cannot be resolved by this version")
            }
        } else {
            // Keeping what stands needs the same right as changing it.
            switch conflict.recordType {
            case "need": try Policy.requireCanChangeNeed(actor, try Lookup.need(conflict.recordId, db), db)
            case "proposal":
                let proposal = try Lookup.proposal(conflict.recordId, db)
                if !actor.has(.officer) {
                    try Policy.requireMember(actor, of: try Lookup.organisation(proposal.organisationId, db), to: "resolve this conflict")
                }
            default: break
            }
        }
        try db.execute(
            sql: "UPDATE conflict SET status = 'resolved', resolution = ?, resolved_by = ?, resolved_at = ? WHERE id = ?",
            arguments: [keep.rawValue, actor.person.id.key, Timestamps.format(context.at), conflictId.key])
    }
}

/// A conflict as a person reads it.
public struct ConflictView: Codable, Sendable {
    public var id: UUID
    public var shortRef: String
    public var recordType: String
    public var recordId: UUID
    public var recordTitle: String
    public var field: String
    public var lostValue: String
    public var lostBy: String
    public var keptValue: String
    public var keptBy: String
    /// The field's value now, which may since have changed again.
    public var currentValue: String
    /// Whose edit lost on this device: `mine` when this device made it, `theirs` otherwise; the
    /// same for the kept edit.
    public var lostIsMine: Bool
    public var keptIsMine: Bool
    public var status: Conflict.Status
    public var resolution: Conflict.Keep?
    public var resolvedBy: String?
    public var createdAt: Date
    public var conflict: Conflict
}

extension Replica {
    /// Conflicts on the records this device holds: open ones first, newest first.
    public func conflicts(includeResolved: Bool = false) throws -> [ConflictView] {
        try read { db in
            let state = try ReplicaState.load(db)
            return try Row.fetchAll(
                db,
                sql: "SELECT * FROM conflict" + (includeResolved ? "" : " WHERE status = 'open'")
                    + " ORDER BY status = 'resolved', created_at DESC, id"
            ).map { try Self.view(try Conflict(row: $0), deviceId: state.deviceId, personId: state.personId, db) }
        }
    }

    /// One conflict, by id or the start of its id.
    public func conflict(_ ref: String) throws -> ConflictView {
        try read { db in
            let state = try ReplicaState.load(db)
            let text = ref.trimmingWhitespace().lowercased()
            var rows: [Row] = []
            if !text.isEmpty, text.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM conflict WHERE id LIKE ? || '%' LIMIT 2", arguments: [text])
            }
            if rows.isEmpty {
                // Or the need or proposal it is about (its title or reference), if it has one open conflict.
                let record = (try? References.need(ref, db).id) ?? (try? References.proposal(ref, db).id)
                if let record {
                    let open = try Row.fetchAll(
                        db, sql: "SELECT * FROM conflict WHERE record_id = ? AND status = 'open' ORDER BY created_at", arguments: [record.key])
                    guard open.count <= 1 else {
                        let fields = open.map { $0["field"] as String }.joined(separator: ", ")
                        throw LocalityError(.ambiguous, "'\(ref)' has \(open.count) open conflicts (\(fields)); give the conflict's id from `locality conflicts`")
                    }
                    rows = open
                }
            }
            guard let row = rows.first else {
                throw LocalityError.notFound("no conflict '\(ref)' on this device; `locality conflicts` lists them")
            }
            guard rows.count == 1 else { throw LocalityError(.ambiguous, "more than one conflict starts with '\(ref)'; give more of its id") }
            return try Self.view(try Conflict(row: row), deviceId: state.deviceId, personId: state.personId, db)
        }
    }

    static func view(_ conflict: Conflict, deviceId: UUID, personId: UUID, _ db: Database) throws -> ConflictView {
        func username(_ id: UUID?) throws -> String {
            guard let id else { return "" }
            return try Person.find(db, id: id)?.username ?? id.key
        }
        let title: String =
            switch conflict.recordType {
            case "need": try Need.find(db, id: conflict.recordId)?.title ?? "(need not on this device)"
            case "proposal": try Proposal.find(db, id: conflict.recordId)?.title ?? "(proposal not on this device)"
            default: conflict.recordType
            }
        let current = try Conflict.currentValue(
            recordType: conflict.recordType, recordId: conflict.recordId, field: conflict.field, db)
        return ConflictView(
            id: conflict.id, shortRef: String(conflict.id.key.prefix(8)), recordType: conflict.recordType,
            recordId: conflict.recordId, recordTitle: title, field: conflict.field,
            lostValue: try Self.describe(conflict.lostValue, db), lostBy: try username(conflict.lostBy),
            keptValue: try Self.describe(conflict.keptValue, db), keptBy: try username(conflict.keptBy),
            currentValue: try current.map { try Self.describe($0, db) } ?? "",
            lostIsMine: conflict.lostDevice == deviceId || (conflict.lostBy == personId && conflict.keptBy != personId),
            keptIsMine: conflict.keptDevice == deviceId || (conflict.keptBy == personId && conflict.lostBy != personId),
            status: conflict.status, resolution: conflict.resolution, resolvedBy: try conflict.resolvedBy.map(username),
            createdAt: conflict.createdAt, conflict: conflict)
    }

    /// A field's value as edit arguments, for a person: names rather than ids, pounds rather than pence.
    static func describe(_ value: JSONValue, _ db: Database) throws -> String {
        guard case .object(let members) = value else { return value.jsonText }
        var parts: [String] = []
        for (key, member) in members.sorted(by: { $0.key < $1.key }) {
            switch (key, member) {
            case ("clearOutcome", _): parts.append("(no outcome)")
            case ("outcomeId", .string(let id)):
                parts.append(try UUID(key: id).flatMap { try Outcome.find(db, id: $0)?.title } ?? id)
            case ("localityId", .string(let id)):
                parts.append(try UUID(key: id).flatMap { try Locality.find(db, id: $0)?.name } ?? id)
            case ("amountRequested", .int(let pence)): parts.append(Money(pence: pence).description)
            case (_, .string(let text)): parts.append(text.isEmpty ? "(empty)" : text)
            case (_, .null): parts.append("(none)")
            case (_, .array(let items)):
                parts.append(items.isEmpty ? "(none)" : items.map { if case .string(let s) = $0 { s } else { $0.jsonText } }.joined(separator: ", "))
            default: parts.append(member.jsonText)
            }
        }
        return parts.joined(separator: ", ")
    }
}
