import Foundation
import GRDB

/// What follows an approval: the amount, milestones, a payment schedule and the indicators the
/// recipient reports against. Payments under it are ledger entries, never more than it commits.
public struct Award: SyncRecord, Hashable {
    public static let databaseTableName = "award"

    public var id: UUID
    public var proposalId: UUID
    public var decisionId: UUID
    public var budgetId: UUID
    public var organisationId: UUID
    public var title: String
    public var amount: Money
    public var status: Status
    public var startsOn: String
    public var endsOn: String
    public var createdBy: UUID
    public var createdAt: Date

    public enum Status: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        /// Being delivered.
        case active
        /// Reviewed and closed (see `Review`).
        case closed
    }
}

public struct Milestone: SyncRecord, Hashable {
    public static let databaseTableName = "award_milestone"

    public var id: UUID
    public var awardId: UUID
    public var title: String
    /// A calendar day, `2027-03-31`.
    public var dueOn: String
    public var status: Status
    public var metOn: String?

    public enum Status: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case pending, met, missed
    }
}

/// One line of an award's payment schedule: an instalment on a date, or payment by results —
/// due when an outcome is evidenced.
public struct Instalment: SyncRecord, Hashable {
    public static let databaseTableName = "award_instalment"

    public var id: UUID
    public var awardId: UUID
    public var amount: Money
    public var dueOn: String?
    /// For payment by results: what must be evidenced first.
    public var onOutcome: String?
}

/// An indicator the recipient reports against, with its target.
public struct AwardIndicator: SyncRecord, Hashable {
    public static let databaseTableName = "award_indicator"

    public var id: UUID
    public var awardId: UUID
    public var name: String
    public var unit: String
    public var baseline: Double?
    public var target: Double
}

/// What the recipient reports: progress, measurements, spend and issues.
public struct MonitoringReport: SyncRecord, Hashable {
    public static let databaseTableName = "monitoring_report"

    public var id: UUID
    public var awardId: UUID
    /// The last day the report covers.
    public var periodEnd: String
    public var progress: String
    public var spend: Money
    public var issues: String
    /// Indicator id → value, as JSON text.
    public var measurements: String
    public var submittedBy: UUID
    public var submittedAt: Date
}

extension MonitoringReport {
    /// The value this report measured for an indicator, if it measured one.
    public func measurement(of indicatorId: UUID) -> Double? {
        guard case .object(let values)? = try? JSONParser.parse(measurements), case .double(let value)? = values[indicatorId.key]
        else { return nil }
        return value
    }

    /// The latest measurement of an indicator among reports ordered newest first.
    public static func latest(of indicatorId: UUID, in newestFirst: [MonitoringReport]) -> Double? {
        newestFirst.lazy.compactMap { $0.measurement(of: indicatorId) }.first
    }
}
