import Foundation
import GRDB

/// A locality budget for a financial year, e.g. "North Area Community Fund 2026/27".
///
/// A budget is a ledger: its balances are derived from the entries, never stored as an editable number.
public struct Budget: SyncRecord, Hashable {
    public static let databaseTableName = "budget"

    public var id: UUID
    public var name: String
    public var slug: String
    /// The locality the budget is devolved to; proposals against it must lie within it.
    public var localityId: UUID
    public var financialYear: FinancialYear
    /// When the year was closed (`budget.closeYear`): nothing more is committed from it.
    public var closedAt: Date?
    /// Who made the fund (nil for funds loaded as reference data).
    public var createdBy: UUID?

    public init(
        id: UUID, name: String, slug: String, localityId: UUID, financialYear: FinancialYear, closedAt: Date? = nil,
        createdBy: UUID? = nil
    ) {
        self.id = id
        self.name = name
        self.slug = slug
        self.localityId = localityId
        self.financialYear = financialYear
        self.closedAt = closedAt
        self.createdBy = createdBy
    }
}

/// One line of a budget's ledger. Entries are never edited or deleted; corrections are new entries.
public struct LedgerEntry: SyncRecord, Hashable {
    public static let databaseTableName = "ledger_entry"

    public var id: UUID
    public var budgetId: UUID
    public var kind: Kind
    /// Where an allocation comes from: pooled budgets have several sources.
    public var source: Source?
    /// Always positive; the kind says which way it moves the balance.
    public var amount: Money
    public var note: String
    public var recordedAt: Date
    /// For a commitment or its release: the decision behind it and the proposal it funds.
    public var decisionId: UUID?
    public var proposalId: UUID?
    /// Who made the entry (nil for entries loaded as reference data).
    public var recordedBy: UUID?
    /// For a payment or clawback: the award it is made under.
    public var awardId: UUID?
    /// For a transfer: the fund on the other side.
    public var counterpartBudgetId: UUID?

    public init(
        id: UUID, budgetId: UUID, kind: Kind, source: Source? = nil, amount: Money, note: String, recordedAt: Date,
        decisionId: UUID? = nil, proposalId: UUID? = nil, recordedBy: UUID? = nil, awardId: UUID? = nil,
        counterpartBudgetId: UUID? = nil
    ) {
        self.awardId = awardId
        self.counterpartBudgetId = counterpartBudgetId
        self.id = id
        self.budgetId = budgetId
        self.kind = kind
        self.source = source
        self.amount = amount
        self.note = note
        self.recordedAt = recordedAt
        self.decisionId = decisionId
        self.proposalId = proposalId
        self.recordedBy = recordedBy
    }

    public enum Kind: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        /// Money put into the budget.
        case allocation
        /// Money promised to an approved proposal.
        case commitment
        /// A commitment released (a correction, an underspend).
        case decommitment
        /// Money paid out against an award. Never more than the award committed.
        case payment
        /// Money recovered from a recipient: reduces what has been paid.
        case clawback
        /// Money moved out of this fund to another (a virement, or a closed year carried forward).
        case transferOut = "transfer-out"
        /// Money moved into this fund from another.
        case transferIn = "transfer-in"

        /// How the entry moves what the fund holds (allocated), commits and pays.
        public var label: String { rawValue.replacingOccurrences(of: "-", with: " ") }
    }

    public enum Source: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        /// The council's own money, devolved by its executive.
        case council
        /// Pooled health money (a Better Care Fund line, an ICB contribution).
        case health
        case police
        case parishPrecept = "parish-precept"
        /// The neighbourhood portion of the Community Infrastructure Levy.
        case neighbourhoodCIL = "neighbourhood-cil"
        /// A planning obligation (section 106 agreement).
        case section106 = "section-106"
        /// A grant from outside the council (a trust, a national programme).
        case externalGrant = "external-grant"
        case other

        public var label: String {
            switch self {
            case .parishPrecept: "parish precept"
            case .neighbourhoodCIL: "neighbourhood CIL"
            case .section106: "section 106"
            case .externalGrant: "external grant"
            default: rawValue
            }
        }
    }
}

/// A budget's position, derived from its ledger.
public struct BudgetPosition: Codable, Hashable, Sendable {
    public var allocated: Money
    public var committed: Money
    /// Paid out against awards, net of clawbacks: part of what is committed, not in addition to it.
    public var paid: Money = .zero
    public var available: Money { allocated - committed }

    public init(allocated: Money, committed: Money, paid: Money = .zero) {
        self.allocated = allocated
        self.committed = committed
        self.paid = paid
    }

    enum CodingKeys: String, CodingKey { case allocated, committed, paid, available }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        allocated = try container.decode(Money.self, forKey: .allocated)
        committed = try container.decode(Money.self, forKey: .committed)
        paid = try container.decodeIfPresent(Money.self, forKey: .paid) ?? .zero
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(allocated, forKey: .allocated)
        try container.encode(committed, forKey: .committed)
        try container.encode(paid, forKey: .paid)
        try container.encode(available, forKey: .available)
    }

    public static func of(budget id: UUID, in db: Database) throws -> BudgetPosition {
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT
                    COALESCE(SUM(CASE kind WHEN 'allocation' THEN amount WHEN 'transfer-in' THEN amount
                        WHEN 'transfer-out' THEN -amount ELSE 0 END), 0) AS allocated,
                    COALESCE(SUM(CASE kind WHEN 'commitment' THEN amount WHEN 'decommitment' THEN -amount ELSE 0 END), 0)
                        AS committed,
                    COALESCE(SUM(CASE kind WHEN 'payment' THEN amount WHEN 'clawback' THEN -amount ELSE 0 END), 0) AS paid
                FROM ledger_entry WHERE budget_id = ?
                """,
            arguments: [id.key])
        return BudgetPosition(
            allocated: Money(pence: row?["allocated"] ?? 0), committed: Money(pence: row?["committed"] ?? 0),
            paid: Money(pence: row?["paid"] ?? 0))
    }
}
