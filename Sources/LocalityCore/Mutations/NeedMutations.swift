import Foundation
import GRDB

/// One evidence item as a device sends it.
public struct EvidenceInput: Codable, Hashable, Sendable {
    public var id: UUID
    public var kind: Evidence.Kind
    public var note: String
    /// `2026-11-20`.
    public var observedOn: String

    public init(id: UUID, kind: Evidence.Kind, note: String, observedOn: String) {
        self.id = id
        self.kind = kind
        self.note = note
        self.observedOn = observedOn
    }

    func insert(for needId: UUID, _ context: MutationContext, _ db: Database) throws {
        let duplicate = try Bool.fetchOne(
            try db.cachedStatement(sql: "SELECT 1 FROM need_evidence WHERE need_id = ? AND id = ?"),
            arguments: [needId.key, id.key]) ?? false
        guard !duplicate else { throw LocalityError.invalid("evidence \(id.key) already exists") }
        let note = try Validate.text(note, field: "evidence note")
        guard !note.isEmpty else { throw LocalityError.invalid("an evidence note is required") }
        try Evidence(
            id: id, needId: needId, kind: kind, note: note,
            observedOn: try Validate.day(observedOn, notAfter: context.at),
            addedBy: context.actor.person.id, addedAt: context.at
        ).insertNew(db)
    }
}

/// `need.record`: a councillor records a need in one of their wards.
public struct RecordNeed: MutationCommand, Hashable {
    public static let name = MutationName.needRecord

    public var needId: UUID
    public var localityId: UUID
    public var title: String
    public var description: String = ""
    public var category: String?
    public var outcomeId: UUID?
    public var severity: Int = 3
    public var peopleAffected: Int?
    public var latitude: Double?
    public var longitude: Double?
    public var holdsPersonalData: Bool = false
    public var evidence: [EvidenceInput] = []

    public init(needId: UUID, localityId: UUID, title: String) {
        self.needId = needId
        self.localityId = localityId
        self.title = title
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        // The ancestry proves the locality exists and is what the permission check needs.
        let ancestry = try Locality.ancestorIDs(of: localityId, in: db)
        guard !ancestry.isEmpty else { throw LocalityError.notFound("no locality with id \(localityId.key)") }
        if let (name, retired) = try Locality.retirement(of: localityId, db) {
            throw LocalityError(
                .invalidTransition,
                "\(name) was retired by a boundary review on \(retired); record the need in the place that replaced it")
        }
        try Policy.requireCanRecordNeed(context.actor, in: localityId, ancestry: ancestry, db)
        if let outcomeId, try !Outcome.exists(db, id: outcomeId) {
            throw LocalityError.notFound("no outcome with id \(outcomeId.key)")
        }
        try Validate.location(latitude: latitude, longitude: longitude)
        let need = Need(
            id: needId, localityId: localityId,
            title: try Validate.title(title),
            description: try Validate.text(description, field: "description"),
            category: try Validate.label(category, field: "category"),
            outcomeId: outcomeId,
            severity: try Validate.severity(severity),
            peopleAffected: try Validate.peopleAffected(peopleAffected),
            latitude: latitude, longitude: longitude,
            holdsPersonalData: holdsPersonalData,
            status: .open, statusReason: nil,
            recordedBy: context.actor.person.id, recordedAt: context.at, updatedAt: context.at)
        // The primary key refuses a second need with this id (a replayed or forged mutation).
        try DuplicateKey.as(LocalityError.invalid("need \(needId.key) already exists")) { try need.insertNew(db) }
        for item in evidence { try item.insert(for: needId, context, db) }
    }
}

/// `need.update`: changes the fields that are given, and only those, so that concurrent edits of
/// different fields both survive.
public struct UpdateNeed: MutationCommand, Hashable {
    public static let name = MutationName.needUpdate

    public var needId: UUID
    public var title: String?
    /// An empty string clears the description.
    public var description: String?
    /// An empty string clears the category.
    public var category: String?
    public var outcomeId: UUID?
    public var clearOutcome: Bool?
    public var severity: Int?
    public var peopleAffected: Int?
    public var latitude: Double?
    public var longitude: Double?
    public var holdsPersonalData: Bool?
    /// For each changed field, the clock of its last edit as this device knew it ("" for none):
    /// how the server tells a concurrent edit from a later one. Filled in by `Replica.perform`.
    public var seen: [String: String]?

    public init(needId: UUID) { self.needId = needId }

    public var changesSomething: Bool { !fields.isEmpty }

    /// The fields this edit changes, by the names conflicts use.
    public var fields: [String] {
        var fields: [String] = []
        if title != nil { fields.append("title") }
        if description != nil { fields.append("description") }
        if category != nil { fields.append("category") }
        if outcomeId != nil || clearOutcome == true { fields.append("outcome") }
        if severity != nil { fields.append("severity") }
        if peopleAffected != nil { fields.append("peopleAffected") }
        if latitude != nil || longitude != nil { fields.append("location") }
        if holdsPersonalData != nil { fields.append("holdsPersonalData") }
        return fields
    }

    public func prepared(_ db: Database) throws -> UpdateNeed {
        guard seen == nil, try Need.exists(db, id: needId) else { return self }
        var copy = self
        copy.seen = try FieldMerge.seen(table: "need", recordId: needId, fields: fields, db)
        return copy
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        var need = try Lookup.need(needId, db)
        try Policy.requireCanChangeNeed(context.actor, need, db)
        guard changesSomething else { throw LocalityError.invalid("nothing to change: give at least one field") }
        guard need.status != .closed else {
            throw LocalityError(.invalidTransition, "need '\(need.title)' is closed; reopen it before editing it")
        }
        var proposed = need
        if let title { proposed.title = try Validate.title(title) }
        if let description { proposed.description = try Validate.text(description, field: "description") }
        if let category { proposed.category = try Validate.label(category, field: "category") }
        if clearOutcome == true {
            proposed.outcomeId = nil
        } else if let outcomeId {
            _ = try Lookup.outcome(outcomeId, db)
            proposed.outcomeId = outcomeId
        }
        if let severity { proposed.severity = try Validate.severity(severity) }
        if let peopleAffected { proposed.peopleAffected = try Validate.peopleAffected(peopleAffected) }
        if latitude != nil || longitude != nil {
            try Validate.location(latitude: latitude, longitude: longitude)
            proposed.latitude = latitude
            proposed.longitude = longitude
        }
        if let holdsPersonalData { proposed.holdsPersonalData = holdsPersonalData }
        var merge = try FieldMerge(table: "need", recordId: needId, context: context, seen: seen, db)
        for field in fields
        where try merge.admit(field, current: need.fragment(field), incoming: proposed.fragment(field), db) {
            need.take(field, from: proposed)
        }
        need.updatedAt = max(need.updatedAt, context.at)
        try need.update(db)
        try merge.save(db)
    }
}

extension Need {
    /// A field's value as `need.update` arguments: the form conflicts keep values in.
    public func fragment(_ field: String) -> JSONValue {
        switch field {
        case "title": .object(["title": .string(title)])
        case "description": .object(["description": .string(description)])
        case "category": .object(["category": .string(category ?? "")])
        case "outcome": outcomeId.map { .object(["outcomeId": .string($0.key)]) } ?? .object(["clearOutcome": .bool(true)])
        case "severity": .object(["severity": .int(Int64(severity))])
        case "peopleAffected": .object(["peopleAffected": peopleAffected.map { .int(Int64($0)) } ?? .null])
        case "location": .object(["latitude": latitude.map(JSONValue.double) ?? .null, "longitude": longitude.map(JSONValue.double) ?? .null])
        case "holdsPersonalData": .object(["holdsPersonalData": .bool(holdsPersonalData)])
        default: .null
        }
    }

    mutating func take(_ field: String, from other: Need) {
        switch field {
        case "title": title = other.title
        case "description": description = other.description
        case "category": category = other.category
        case "outcome": outcomeId = other.outcomeId
        case "severity": severity = other.severity
        case "peopleAffected": peopleAffected = other.peopleAffected
        case "location":
            latitude = other.latitude
            longitude = other.longitude
        case "holdsPersonalData": holdsPersonalData = other.holdsPersonalData
        default: break
        }
    }
}

/// `need.addEvidence`: one more piece of evidence for a need.
public struct AddNeedEvidence: MutationCommand, Hashable {
    public static let name = MutationName.needAddEvidence

    public var needId: UUID
    public var evidence: EvidenceInput

    public init(needId: UUID, evidence: EvidenceInput) {
        self.needId = needId
        self.evidence = evidence
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        var need = try Lookup.need(needId, db)
        try Policy.requireCanChangeNeed(context.actor, need, db)
        guard need.status != .closed else {
            throw LocalityError(.invalidTransition, "need '\(need.title)' is closed; reopen it before adding evidence")
        }
        try evidence.insert(for: needId, context, db)
        need.updatedAt = context.at
        try need.update(db)
    }
}

/// `need.setStatus`: moves a need along its life (open → prioritised → being addressed → met…).
public struct SetNeedStatus: MutationCommand, Hashable {
    public static let name = MutationName.needSetStatus

    public var needId: UUID
    public var status: Need.Status
    public var reason: String?

    public init(needId: UUID, status: Need.Status, reason: String? = nil) {
        self.needId = needId
        self.status = status
        self.reason = reason
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        var need = try Lookup.need(needId, db)
        try Policy.requireCanChangeNeed(context.actor, need, db)
        guard need.status != status else {
            throw LocalityError(.invalidTransition, "need '\(need.title)' is already \(status.label)")
        }
        guard need.status.canMove(to: status) else {
            throw LocalityError(
                .invalidTransition,
                "need '\(need.title)' is \(need.status.label) and cannot become \(status.label); from \(need.status.label) it can become "
                    + need.status.allowedNext.map(\.label).sorted().joined(separator: ", "))
        }
        let reason = try reason.map { try Validate.text($0, field: "reason") }.flatMap { $0.isEmpty ? nil : $0 }
        if status == .closed && reason == nil {
            throw LocalityError.invalid("a reason is required to close a need")
        }
        need.status = status
        need.statusReason = reason
        need.updatedAt = context.at
        try need.update(db)
    }
}

/// `need.close`: closes a need, with the reason a person will read later.
public struct CloseNeed: MutationCommand, Hashable {
    public static let name = MutationName.needClose

    public var needId: UUID
    public var reason: String

    public init(needId: UUID, reason: String) {
        self.needId = needId
        self.reason = reason
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        try SetNeedStatus(needId: needId, status: .closed, reason: reason).apply(context, db)
    }
}
