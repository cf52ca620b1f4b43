import Foundation
import GRDB

/// A result for people, in the outcomes framework: strategic ("more people live at home"),
/// service ("100 people helped to claim benefits") or individual.
public struct Outcome: SyncRecord, Hashable {
    public static let databaseTableName = "outcome"

    public var id: UUID
    public var title: String
    public var level: Level
    public var parentId: UUID?
    public var slug: String

    public init(id: UUID, title: String, level: Level, parentId: UUID? = nil, slug: String) {
        self.id = id
        self.title = title
        self.level = level
        self.parentId = parentId
        self.slug = slug
    }

    public enum Level: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case strategic, service
        /// A locality's own outcome, beneath a strategic one.
        case local
        case individual
    }
}

/// How an outcome is measured: a unit, which way is better, where it started and where it should get to.
public struct Indicator: SyncRecord, Hashable {
    public static let databaseTableName = "indicator"

    public var id: UUID
    public var outcomeId: UUID
    public var name: String
    public var unit: String
    public var direction: Direction
    public var baseline: Double?
    public var target: Double?
    /// Where the figures come from ("ONS annual population survey", "the council's own count").
    public var source: String

    public init(
        id: UUID, outcomeId: UUID, name: String, unit: String, direction: Direction, baseline: Double?, target: Double?,
        source: String = ""
    ) {
        self.source = source
        self.id = id
        self.outcomeId = outcomeId
        self.name = name
        self.unit = unit
        self.direction = direction
        self.baseline = baseline
        self.target = target
    }

    public enum Direction: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case higherIsBetter = "higher-is-better"
        case lowerIsBetter = "lower-is-better"
    }
}

/// A figure for an indicator on a day, for the whole authority or for one locality.
public struct Measurement: SyncRecord, Hashable {
    public static let databaseTableName = "measurement"

    public var id: UUID
    public var indicatorId: UUID
    public var value: Double
    /// `YYYY-MM-DD`: the day (or period end) the figure is for.
    public var measuredOn: String
    public var localityId: UUID?
    public var note: String
    public var recordedBy: UUID
    public var recordedAt: Date

    public init(
        id: UUID, indicatorId: UUID, value: Double, measuredOn: String, localityId: UUID? = nil, note: String = "",
        recordedBy: UUID, recordedAt: Date
    ) {
        self.id = id
        self.indicatorId = indicatorId
        self.value = value
        self.measuredOn = measuredOn
        self.localityId = localityId
        self.note = note
        self.recordedBy = recordedBy
        self.recordedAt = recordedAt
    }
}
