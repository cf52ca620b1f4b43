import Foundation
import GRDB

/// The council's own framework, kept from a device like everything else: the outcomes it works
/// towards and how they are measured, and the scheme of delegation.
enum FrameworkRules {
    static func requireAdministrator(_ actor: Actor, to action: String, _ db: Database) throws {
        guard actor.has(.administrator) else {
            throw LocalityError.forbidden(
                "\(action) is for the council's administrators; \(actor.person.username) is \(try actor.describeRoles(in: db))")
        }
    }
}

/// `outcome.add`: an outcome in the framework — strategic ("people live independently for
/// longer"), a service or local outcome beneath one, or an individual one.
public struct AddOutcome: MutationCommand, Hashable {
    public static let name = MutationName.outcomeAdd

    public var outcomeId: UUID
    public var title: String
    public var level: Outcome.Level
    public var parentId: UUID?
    public var slug: String?

    public init(outcomeId: UUID, title: String, level: Outcome.Level, parentId: UUID? = nil, slug: String? = nil) {
        self.outcomeId = outcomeId
        self.title = title
        self.level = level
        self.parentId = parentId
        self.slug = slug
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        try FrameworkRules.requireAdministrator(context.actor, to: "changing the outcomes framework", db)
        let title = try Validate.title(title, field: "outcome")
        if let parentId {
            let parent = try Lookup.outcome(parentId, db)
            guard parent.level.rank < level.rank else {
                throw LocalityError.invalid(
                    "a \(level.rawValue) outcome cannot sit beneath '\(parent.title)', which is \(parent.level.rawValue): "
                        + "outcomes nest strategic, then service or local, then individual")
            }
        }
        if let existing = try Outcome.fetchOne(db, sql: "SELECT * FROM outcome WHERE title = ? COLLATE NOCASE", arguments: [title]) {
            throw LocalityError.invalid("the framework already has the outcome '\(existing.title)' (\(existing.slug))")
        }
        let slug = try slug.map { try Validate.slug($0) } ?? CouncilGeography.slug(title).split(separator: "-").prefix(6).joined(separator: "-")
        if try Outcome.fetchOne(db, sql: "SELECT * FROM outcome WHERE slug = ?", arguments: [slug]) != nil {
            throw LocalityError.invalid("the slug '\(slug)' is already another outcome's; give this one its own slug")
        }
        try DuplicateKey.as(LocalityError.invalid("outcome \(outcomeId.key) already exists")) {
            try Outcome(id: outcomeId, title: title, level: level, parentId: parentId, slug: slug).insert(db)
        }
    }
}

extension Outcome.Level {
    /// Strategic outcomes sit at the top; individual ones at the bottom.
    var rank: Int {
        switch self {
        case .strategic: 0
        case .service, .local: 1
        case .individual: 2
        }
    }
}

/// `indicator.add`: how an outcome is measured — a unit, which way is better, a baseline, a
/// target, and where the figures come from.
public struct AddIndicator: MutationCommand, Hashable {
    public static let name = MutationName.indicatorAdd

    public var indicatorId: UUID
    public var outcomeId: UUID
    public var name: String
    public var unit: String
    public var direction: Indicator.Direction
    public var baseline: Double?
    public var target: Double?
    public var source: String

    public init(
        indicatorId: UUID, outcomeId: UUID, name: String, unit: String, direction: Indicator.Direction, baseline: Double? = nil,
        target: Double? = nil, source: String = ""
    ) {
        self.indicatorId = indicatorId
        self.outcomeId = outcomeId
        self.name = name
        self.unit = unit
        self.direction = direction
        self.baseline = baseline
        self.target = target
        self.source = source
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        try FrameworkRules.requireAdministrator(context.actor, to: "changing the outcomes framework", db)
        let outcome = try Lookup.outcome(outcomeId, db)
        let name = try Validate.title(name, field: "indicator name")
        let unit = try Validate.title(unit, field: "unit")
        let baseline = try Validate.figure(baseline, field: "baseline")
        let target = try Validate.figure(target, field: "target")
        if let baseline, let target, baseline != target {
            let improves = direction == .higherIsBetter ? target > baseline : target < baseline
            guard improves else {
                throw LocalityError.invalid(
                    "the target (\(target)) is no improvement on the baseline (\(baseline)) for an indicator where "
                        + "\(direction == .higherIsBetter ? "higher" : "lower") is better")
            }
        }
        if try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM indicator WHERE outcome_id = ? AND name = ? COLLATE NOCASE", arguments: [outcome.id.key, name]) ?? 0 > 0
        {
            throw LocalityError.invalid("'\(outcome.title)' already has an indicator called '\(name)'")
        }
        try DuplicateKey.as(LocalityError.invalid("indicator \(indicatorId.key) already exists")) {
            try Indicator(
                id: indicatorId, outcomeId: outcome.id, name: name, unit: unit, direction: direction, baseline: baseline,
                target: target, source: try Validate.text(source, field: "source")
            ).insert(db)
        }
    }
}

/// `indicator.measure`: a figure for an indicator on a day, for the authority or one locality.
public struct RecordMeasurement: MutationCommand, Hashable {
    public static let name = MutationName.indicatorMeasure

    public var measurementId: UUID
    public var indicatorId: UUID
    public var value: Double
    public var measuredOn: String
    public var localityId: UUID?
    public var note: String

    public init(measurementId: UUID, indicatorId: UUID, value: Double, measuredOn: String, localityId: UUID? = nil, note: String = "") {
        self.measurementId = measurementId
        self.indicatorId = indicatorId
        self.value = value
        self.measuredOn = measuredOn
        self.localityId = localityId
        self.note = note
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        guard actor.has(.officer) || actor.has(.administrator) else {
            throw LocalityError.forbidden(
                "measurements are recorded by officers and administrators; \(actor.person.username) is \(try actor.describeRoles(in: db))")
        }
        guard try Indicator.exists(db, id: indicatorId) else { throw LocalityError.notFound("no indicator with id \(indicatorId.key)") }
        let value = try Validate.figure(value, field: "value") ?? 0
        let day = try Validate.day(measuredOn, notAfter: context.at)
        if let localityId { _ = try Lookup.locality(localityId, db) }
        try DuplicateKey.as(LocalityError.invalid("measurement \(measurementId.key) already exists")) {
            try Measurement(
                id: measurementId, indicatorId: indicatorId, value: value, measuredOn: day, localityId: localityId,
                note: try Validate.text(note, field: "note"), recordedBy: actor.person.id, recordedAt: context.at
            ).insert(db)
        }
    }
}

/// `delegation.adopt`: a new version of the scheme of delegation, replacing the whole scheme in
/// force. Earlier versions stay: every decision keeps the line (and version) it was taken under.
/// Made against the version the administrator saw, so two offline edits cannot silently merge:
/// the second is refused and shows what the first adopted.
public struct AdoptScheme: MutationCommand, Hashable {
    public static let name = MutationName.delegationAdopt

    public struct Line: Codable, Sendable, Hashable {
        public var id: UUID
        public var matter: Delegation.Matter
        public var role: Role
        public var scope: Delegation.Scope
        public var maxAmount: Money?
        public var description: String

        public init(
            id: UUID, matter: Delegation.Matter = .decision, role: Role, scope: Delegation.Scope, maxAmount: Money?, description: String
        ) {
            self.id = id
            self.matter = matter
            self.role = role
            self.scope = scope
            self.maxAmount = maxAmount
            self.description = description
        }
    }

    /// The version in force when the administrator drafted this one (0 for the first scheme).
    public var basedOnVersion: Int
    public var lines: [Line]
    /// What adopted it: "Council, 14 May 2026, minute 23".
    public var note: String

    public init(basedOnVersion: Int, lines: [Line], note: String) {
        self.basedOnVersion = basedOnVersion
        self.lines = lines
        self.note = note
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        try FrameworkRules.requireAdministrator(context.actor, to: "adopting a scheme of delegation", db)
        let current = try Delegation.currentVersion(db)
        guard basedOnVersion == current else {
            let adopted = try Delegation.fetchOne(
                db, sql: "SELECT * FROM delegation WHERE scheme_version = ? LIMIT 1", arguments: [current])
            let who = try adopted?.adoptedBy.flatMap { try Person.find(db, id: $0) }?.username
            throw LocalityError(
                .invalidTransition,
                "the scheme of delegation changed meanwhile: version \(current) is in force"
                    + (who.map { " (adopted by \($0)\(adopted?.adoptedAt.map { " on \(Timestamps.day($0))" } ?? ""))" } ?? "")
                    + ", not version \(basedOnVersion); look at it (`locality decision scheme`) and adopt yours again")
        }
        let note = try Validate.text(note, field: "note")
        guard !note.isEmpty else {
            throw LocalityError.invalid("say what adopted the scheme (\"Council, 14 May 2026, minute 23\"): it is kept with every decision")
        }
        guard lines.contains(where: { $0.matter == .decision }) else {
            throw LocalityError.invalid("a scheme of delegation needs at least one line for decisions on proposals, or nobody could decide any")
        }
        guard lines.count <= 100 else { throw LocalityError.invalid("a scheme of \(lines.count) lines is more than 100") }
        var seen = Set<String>()
        for line in lines {
            switch (line.matter, line.role) {
            case (.decision, .councillor), (.decision, .officer), (.decision, .executive),
                (.virement, .finance), (.virement, .officer), (.virement, .executive):
                break
            default:
                throw LocalityError.invalid(
                    "a \(line.role.rawValue) cannot hold a line for \(line.matter == .decision ? "decisions" : "virements"): decisions are "
                        + "delegated to councillors, officers and executive members; virements to finance officers, officers and executive members")
            }
            if line.scope == .ownWards, line.role != .councillor {
                throw LocalityError.invalid("only a councillor's line can be limited to their own wards")
            }
            if let maxAmount = line.maxAmount { _ = try Validate.amount(maxAmount) }
            guard seen.insert("\(line.matter.rawValue)/\(line.role.rawValue)/\(line.scope.rawValue)/\(line.maxAmount?.pence ?? -1)").inserted else {
                throw LocalityError.invalid("the \(line.role.rawValue) line for \(line.matter.rawValue)s appears twice")
            }
            try DuplicateKey.as(LocalityError.invalid("delegation line \(line.id.key) already exists")) {
                try Delegation(
                    id: line.id, role: line.role, scope: line.scope, maxAmount: line.maxAmount,
                    description: try Validate.title(line.description, field: "line's wording"), matter: line.matter,
                    schemeVersion: current + 1, adoptedAt: context.at, adoptedBy: context.actor.person.id, note: note
                ).insert(db)
            }
        }
    }
}
