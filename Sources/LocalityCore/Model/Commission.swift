import Foundation
import GRDB

/// A piece of strategic commissioning at a level (county to neighbourhood), moving through the
/// eight stages of the cycle (DOMAIN.md). Each stage must produce its output before the next may
/// start; who may move it depends on the stage.
public struct Commission: SyncRecord, Hashable {
    public static let databaseTableName = "commission"

    public var id: UUID
    public var title: String
    public var level: Level
    public var localityId: UUID
    public var stage: Int
    public var status: Status
    /// JSON arrays of ids.
    public var needIds: String
    public var outcomeIds: String
    public var proposalIds: String
    public var priorityReason: String
    public var specification: String
    public var awardId: UUID?
    public var createdBy: UUID
    public var createdAt: Date
    public var updatedAt: Date

    public enum Level: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case county, area, town, parish, neighbourhood
    }

    public enum Status: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case active, closed
    }

    /// The eight stages: the part of the cycle, the stage, what exists at the end of it, and who is responsible.
    public static let stages: [(cycle: String, name: String, output: String, responsible: String)] = [
        ("analyse", "assess local needs", "needs with evidence, per locality", "councillors and officers"),
        ("analyse", "agree priority needs", "a prioritisation decision", "councillors and officers"),
        ("plan", "define outcomes", "outcomes with indicators, baselines and targets", "officers"),
        ("plan", "design the specification", "what is wanted, leaving room for providers to innovate", "officers"),
        ("do", "source providers", "proposals or bids received", "officers"),
        ("do", "procure / award", "a recorded decision and a commitment on a budget (an award)", "officers"),
        ("do", "monitor delivery", "milestones, outcome measurements, payments", "officers"),
        ("review", "review and learn", "outcomes against target; recommission, extend or decommission; new needs", "officers"),
    ]

    public var stageName: String { Self.stages[max(0, min(stage, 8) - 1)].name }
}

/// One delivery model considered in a commission's options appraisal, with its score.
public struct CommissionOption: SyncRecord, Hashable {
    public static let databaseTableName = "commission_option"

    public var id: UUID
    public var commissionId: UUID
    public var deliveryModel: Proposal.DeliveryModel
    public var score: Int
    public var notes: String
    public var chosen: Bool
    public var recordedBy: UUID
    public var recordedAt: Date
}

/// A line of a commission's risk register.
public struct CommissionRisk: SyncRecord, Hashable {
    public static let databaseTableName = "commission_risk"

    public var id: UUID
    public var commissionId: UUID
    public var description: String
    public var likelihood: Int
    public var impact: Int
    public var owner: String
    public var mitigation: String
    public var recordedBy: UUID
    public var recordedAt: Date

    public var rating: Int { likelihood * impact }
}
