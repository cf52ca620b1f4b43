import Foundation
import GRDB

/// One line of the authority's scheme of delegation: who may decide what, by amount. The scheme
/// is data, loaded with the authority's reference data, never written into code.
public struct Delegation: SyncRecord, Hashable {
    public static let databaseTableName = "delegation"

    public var id: UUID
    /// The role the line delegates to.
    public var role: Role
    public var scope: Scope
    /// The most a single decision under this line may commit; nil for no limit.
    public var maxAmount: Money?
    /// As the scheme words it, e.g. "Ward councillors, from their area's budget, for their own wards".
    public var description: String
    /// What the line delegates: decisions on proposals, or moving money between funds.
    public var matter: Matter
    /// The version of the scheme the line belongs to; the highest version is the scheme in force.
    public var schemeVersion: Int
    public var adoptedAt: Date?
    public var adoptedBy: UUID?
    /// Why the version was adopted ("Council, 14 May 2026, minute 23").
    public var note: String

    public init(
        id: UUID, role: Role, scope: Scope, maxAmount: Money?, description: String, matter: Matter = .decision,
        schemeVersion: Int = 1, adoptedAt: Date? = nil, adoptedBy: UUID? = nil, note: String = ""
    ) {
        self.id = id
        self.role = role
        self.scope = scope
        self.maxAmount = maxAmount
        self.description = description
        self.matter = matter
        self.schemeVersion = schemeVersion
        self.adoptedAt = adoptedAt
        self.adoptedBy = adoptedBy
        self.note = note
    }

    public enum Matter: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        /// Decisions on proposals: approving commits money.
        case decision
        /// Virements: moving money from one fund to another.
        case virement
    }

    public enum Scope: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        /// Only proposals for places within the decider's own wards.
        case ownWards = "own-wards"
        /// Anywhere in the authority.
        case authority
    }

    /// "councillor up to £5,000.00 for their own wards" — the basis of a decision, in words.
    public var basis: String {
        let limit = maxAmount.map { "up to \($0)" } ?? "with no limit"
        return "\(role.rawValue) \(limit)\(scope == .ownWards ? " for their own wards" : "") (\(description))"
    }

    /// The version of the scheme in force (0 when none has been adopted).
    public static func currentVersion(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT MAX(scheme_version) FROM delegation") ?? 0
    }

    /// The scheme in force for one matter, most local line first.
    public static func scheme(_ db: Database, matter: Matter = .decision) throws -> [Delegation] {
        try Delegation.fetchAll(
            db,
            sql: """
                SELECT * FROM delegation WHERE matter = ? AND scheme_version = (SELECT MAX(scheme_version) FROM delegation)
                ORDER BY max_amount IS NULL, max_amount, role
                """, arguments: [matter.rawValue])
    }

    /// Every line of every version, newest version first: the scheme's history.
    public static func history(_ db: Database) throws -> [Delegation] {
        try Delegation.fetchAll(
            db, sql: "SELECT * FROM delegation ORDER BY scheme_version DESC, matter, max_amount IS NULL, max_amount, role")
    }

    /// The line of the scheme under which `actor` may decide on a proposal for `localityId` at
    /// `amount` (or, for a virement, move `amount` between funds), or an error saying who may.
    public static func authority(
        for actor: Actor, deciding amount: Money, in localityId: UUID, matter: Matter = .decision, _ db: Database
    ) throws -> Delegation {
        let scheme = try scheme(db, matter: matter)
        guard !scheme.isEmpty else {
            throw LocalityError.forbidden(
                matter == .decision
                    ? "the authority has no scheme of delegation, so nobody may take decisions yet"
                    : "the scheme of delegation delegates no virements, so nobody may move money between funds yet")
        }
        var heldLines: [Delegation] = []
        for line in scheme where actor.has(line.role) {
            if line.scope == .ownWards, try !actor.covers(localityId, in: db) { continue }
            heldLines.append(line)
            if line.maxAmount.map({ amount <= $0 }) ?? true { return line }
        }
        let place = try Locality.find(db, id: localityId)?.name ?? "this locality"
        let who = scheme.filter { $0.maxAmount.map { amount <= $0 } ?? true }.map(\.basis).joined(separator: "; or ")
        if let widest = heldLines.last, let limit = widest.maxAmount {
            throw LocalityError.forbidden(
                "\(amount) is above what \(actor.person.username) may \(matter == .decision ? "decide" : "move between funds") "
                    + "(\(limit) as \(widest.role.rawValue)); under the scheme of delegation it needs: \(who)")
        }
        if matter == .virement {
            throw LocalityError.forbidden(
                "\(actor.person.username) may not move money between funds under the scheme of delegation; "
                    + "a virement of \(amount) needs: \(who)")
        }
        throw LocalityError.forbidden(
            "\(actor.person.username) may not decide on proposals for \(place) under the scheme of delegation; "
                + "a decision on \(amount) needs: \(who)")
    }
}

/// A decision on a proposal: who took it, under what authority, why, and on what conditions.
/// Approving commits money on the budget's ledger in the same step.
public struct Decision: SyncRecord, Hashable {
    public static let databaseTableName = "decision"

    public var id: UUID
    public var proposalId: UUID
    public var outcome: Outcome
    /// For an approval: the amount committed (less than requested when part-funded).
    public var amount: Money?
    public var decidedBy: UUID
    /// The basis of the decider's authority, in words, as it stood when they decided.
    public var authority: String
    public var delegationId: UUID?
    public var reasons: String
    public var conditions: String
    public var decidedAt: Date
    /// The version of the scheme of delegation the decision was taken under.
    public var schemeVersion: Int?

    public enum Outcome: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case approved
        case partFunded = "part-funded"
        case rejected
        case deferred

        public var label: String { self == .partFunded ? "approved for a smaller amount" : rawValue }

        /// The proposal's status after a decision like this.
        public var proposalStatus: Proposal.Status {
            switch self {
            case .approved, .partFunded: .approved
            case .rejected: .rejected
            case .deferred: .deferred
            }
        }
    }
}

/// A person's declared interest in a proposal. Once declared, they may not assess or decide it.
public struct InterestDeclaration: SyncRecord, Hashable {
    public static let databaseTableName = "interest_declaration"

    public var id: UUID
    public var proposalId: UUID
    public var personId: UUID
    public var interest: String
    public var declaredAt: Date

    /// Whether `personId` has declared an interest in `proposalId`.
    public static func exists(person personId: UUID, proposal proposalId: UUID, _ db: Database) throws -> Bool {
        try Bool.fetchOne(
            try db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM interest_declaration WHERE person_id = ? AND proposal_id = ?)"),
            arguments: [personId.key, proposalId.key]) ?? false
    }
}
