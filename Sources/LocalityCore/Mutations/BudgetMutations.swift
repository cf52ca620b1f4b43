import Foundation
import GRDB

/// Rules every change to a fund shares.
public enum BudgetRules {
    /// A closed year commits nothing more: what was uncommitted went forward when it closed.
    static func requireOpen(_ budget: Budget, for action: String) throws {
        guard let closed = budget.closedAt else { return }
        throw LocalityError(
            .invalidTransition,
            "\(budget.name) was closed on \(Timestamps.day(closed)) (its \(budget.financialYear) year is over); "
                + "\(action) cannot use it: use the fund its money was carried forward to")
    }

    static func requireFinance(_ actor: Actor, to action: String, _ db: Database) throws {
        guard actor.has(.finance) else {
            throw LocalityError.forbidden(
                "\(action) is for finance officers; \(actor.person.username) is \(try actor.describeRoles(in: db))")
        }
    }
}

/// `budget.create`: a finance officer makes a fund for a locality and a financial year, e.g.
/// "North Area Community Fund 2027/28". It holds nothing until money is allocated to it.
public struct CreateBudget: MutationCommand, Hashable {
    public static let name = MutationName.budgetCreate

    public var budgetId: UUID
    public var name: String
    public var localityId: UUID
    public var financialYear: FinancialYear
    /// How people refer to it (`north-2027-28`); made from the name when absent.
    public var slug: String?

    public init(budgetId: UUID, name: String, localityId: UUID, financialYear: FinancialYear, slug: String? = nil) {
        self.budgetId = budgetId
        self.name = name
        self.localityId = localityId
        self.financialYear = financialYear
        self.slug = slug
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        try BudgetRules.requireFinance(context.actor, to: "making a fund", db)
        let name = try Validate.title(name, field: "fund name")
        let place = try Lookup.locality(localityId, db)
        if let retired = place.retiredOn {
            throw LocalityError.invalid("\(place.name) was retired by a boundary review on \(retired); a fund is for a current place")
        }
        guard (2000...2200).contains(financialYear.startYear) else {
            throw LocalityError.invalid("\(financialYear) is not a financial year a fund can be made for")
        }
        if let existing = try Budget.fetchOne(
            db, sql: "SELECT * FROM budget WHERE name = ? COLLATE NOCASE AND financial_year = ?",
            arguments: [name, financialYear.description])
        {
            throw LocalityError.invalid("there is already a fund called '\(existing.name)' for \(financialYear) (\(existing.slug))")
        }
        let slug = try slug.map { try Validate.slug($0) } ?? CouncilGeography.slug(name)
        if let existing = try Budget.fetchOne(db, sql: "SELECT * FROM budget WHERE slug = ?", arguments: [slug]) {
            throw LocalityError.invalid("the slug '\(slug)' is already \(existing.name)'s; give the fund another slug")
        }
        try DuplicateKey.as(LocalityError.invalid("budget \(budgetId.key) already exists")) {
            try Budget(
                id: budgetId, name: name, slug: slug, localityId: place.id, financialYear: financialYear,
                createdBy: context.actor.person.id
            ).insert(db)
        }
    }
}

/// `budget.allocate`: money put into a fund from a named source — the council's own budget,
/// pooled health money, neighbourhood CIL, a section 106 agreement, an external grant.
public struct AllocateBudget: MutationCommand, Hashable {
    public static let name = MutationName.budgetAllocate

    public var ledgerEntryId: UUID
    public var budgetId: UUID
    public var source: LedgerEntry.Source
    public var amount: Money
    /// The authority for it, e.g. "Cabinet, 11 March 2026, minute 14".
    public var note: String

    public init(ledgerEntryId: UUID, budgetId: UUID, source: LedgerEntry.Source, amount: Money, note: String) {
        self.ledgerEntryId = ledgerEntryId
        self.budgetId = budgetId
        self.source = source
        self.amount = amount
        self.note = note
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        try BudgetRules.requireFinance(context.actor, to: "allocating money to a fund", db)
        let budget = try Lookup.budget(budgetId, db)
        try BudgetRules.requireOpen(budget, for: "an allocation")
        let amount = try Validate.amount(amount)
        let note = try Validate.text(note, field: "note")
        guard !note.isEmpty else {
            throw LocalityError.invalid("say what authorises the allocation (\"Cabinet, 11 March 2026, minute 14\"): it stays on the ledger")
        }
        try DuplicateKey.as(LocalityError.invalid("ledger entry \(ledgerEntryId.key) already exists")) {
            try LedgerEntry(
                id: ledgerEntryId, budgetId: budget.id, kind: .allocation, source: source, amount: amount, note: note,
                recordedAt: context.at, recordedBy: context.actor.person.id
            ).insert(db)
        }
    }
}

/// `budget.transfer`: a virement — money moved from one fund to another in the same financial
/// year, by someone the scheme of delegation allows to move that much. Only what is uncommitted
/// can move: the server applies transfers and approvals one at a time, so whichever comes second
/// is refused with the shortfall and committed never exceeds allocated.
public struct TransferBudget: MutationCommand, Hashable {
    public static let name = MutationName.budgetTransfer

    public var fromBudgetId: UUID
    public var toBudgetId: UUID
    public var amount: Money
    public var reason: String
    /// The two ledger entries, one on each fund.
    public var outEntryId: UUID
    public var inEntryId: UUID

    public init(fromBudgetId: UUID, toBudgetId: UUID, amount: Money, reason: String, outEntryId: UUID, inEntryId: UUID) {
        self.fromBudgetId = fromBudgetId
        self.toBudgetId = toBudgetId
        self.amount = amount
        self.reason = reason
        self.outEntryId = outEntryId
        self.inEntryId = inEntryId
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let from = try Lookup.budget(fromBudgetId, db)
        let to = try Lookup.budget(toBudgetId, db)
        let amount = try Validate.amount(amount)
        let delegation = try Delegation.authority(
            for: context.actor, deciding: amount, in: from.localityId, matter: .virement, db)
        guard from.id != to.id else { throw LocalityError.invalid("a virement moves money between two different funds") }
        guard from.financialYear == to.financialYear else {
            throw LocalityError.invalid(
                "a virement moves money within one financial year (\(from.name) is \(from.financialYear), \(to.name) is "
                    + "\(to.financialYear)); what is left at the year's end goes forward with `budget close-year`")
        }
        try BudgetRules.requireOpen(from, for: "a virement")
        try BudgetRules.requireOpen(to, for: "a virement")
        let reason = try Validate.text(reason, field: "reason")
        guard !reason.isEmpty else { throw LocalityError.invalid("a virement needs its reason: it stays on both ledgers") }
        let position = try BudgetPosition.of(budget: from.id, in: db)
        guard amount <= position.available else {
            throw LocalityError(
                .insufficientFunds,
                "\(from.name) is \(amount - position.available) short: \(position.available) is uncommitted and the virement "
                    + "would move \(amount); nothing was moved")
        }
        try DuplicateKey.as(LocalityError.invalid("ledger entries \(outEntryId.key) and \(inEntryId.key) already exist")) {
            try LedgerEntry(
                id: outEntryId, budgetId: from.id, kind: .transferOut, amount: amount,
                note: "Virement to \(to.name): \(reason) (\(delegation.role.rawValue) under the scheme of delegation, v\(delegation.schemeVersion))",
                recordedAt: context.at, recordedBy: context.actor.person.id, counterpartBudgetId: to.id
            ).insert(db)
            try LedgerEntry(
                id: inEntryId, budgetId: to.id, kind: .transferIn, amount: amount, note: "Virement from \(from.name): \(reason)",
                recordedAt: context.at, recordedBy: context.actor.person.id, counterpartBudgetId: from.id
            ).insert(db)
        }
    }
}

/// `budget.closeYear`: a finance officer closes a fund's year. What is uncommitted is carried
/// forward to the same locality's fund for the next year, as a pair of ledger entries; from then
/// on nothing more is committed from the closed fund (payments on what it already committed go on
/// under their awards). An approval made offline that reaches the server after the close is refused.
public struct CloseBudgetYear: MutationCommand, Hashable {
    public static let name = MutationName.budgetCloseYear

    public var budgetId: UUID
    /// The next year's fund for the same locality; nil only when nothing is uncommitted or `lapse` is set.
    public var carryForwardTo: UUID?
    /// Let what is uncommitted lapse (go back to the council) instead of carrying it forward.
    public var lapse: Bool
    /// Close before the year's last day (a fund wound up early); otherwise refused until then.
    public var early: Bool
    public var outEntryId: UUID
    public var inEntryId: UUID

    public init(budgetId: UUID, carryForwardTo: UUID?, lapse: Bool = false, early: Bool = false, outEntryId: UUID, inEntryId: UUID) {
        self.early = early
        self.budgetId = budgetId
        self.carryForwardTo = carryForwardTo
        self.lapse = lapse
        self.outEntryId = outEntryId
        self.inEntryId = inEntryId
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        try BudgetRules.requireFinance(context.actor, to: "closing a financial year", db)
        var budget = try Lookup.budget(budgetId, db)
        try BudgetRules.requireOpen(budget, for: "closing it again")
        let today = Timestamps.day(context.at)
        guard early || today >= budget.financialYear.lastDay else {
            throw LocalityError(
                .invalidTransition,
                "\(budget.name)'s year runs until \(budget.financialYear.lastDay); to close it before then (a fund wound up early), say so")
        }
        let position = try BudgetPosition.of(budget: budget.id, in: db)
        let left = position.available
        if let carryForwardTo {
            guard !lapse else { throw LocalityError.invalid("either carry the money forward or let it lapse, not both") }
            let next = try Lookup.budget(carryForwardTo, db)
            guard next.financialYear.startYear == budget.financialYear.startYear + 1 else {
                throw LocalityError.invalid(
                    "\(next.name) is for \(next.financialYear); \(budget.name)'s money goes forward to a fund for "
                        + "\(FinancialYear(startYear: budget.financialYear.startYear + 1))")
            }
            guard next.localityId == budget.localityId else {
                throw LocalityError.invalid("\(next.name) is for another place; a year's money goes forward to the same locality's fund")
            }
            try BudgetRules.requireOpen(next, for: "carrying money forward")
            if left > .zero {
                try DuplicateKey.as(LocalityError.invalid("ledger entries \(outEntryId.key) and \(inEntryId.key) already exist")) {
                    try LedgerEntry(
                        id: outEntryId, budgetId: budget.id, kind: .transferOut, amount: left,
                        note: "Year closed: uncommitted money carried forward to \(next.name)", recordedAt: context.at,
                        recordedBy: context.actor.person.id, counterpartBudgetId: next.id
                    ).insert(db)
                    try LedgerEntry(
                        id: inEntryId, budgetId: next.id, kind: .transferIn, amount: left,
                        note: "Carried forward from \(budget.name) (uncommitted at the year's close)", recordedAt: context.at,
                        recordedBy: context.actor.person.id, counterpartBudgetId: budget.id
                    ).insert(db)
                }
            }
        } else if left > .zero, !lapse {
            throw LocalityError.invalid(
                "\(budget.name) has \(left) uncommitted: name the \(FinancialYear(startYear: budget.financialYear.startYear + 1)) "
                    + "fund to carry it forward to, or let it lapse")
        }
        budget.closedAt = context.at
        try budget.update(db)
    }
}
