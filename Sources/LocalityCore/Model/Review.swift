import Foundation
import GRDB

/// A review of an award: outcomes achieved against targets, the verdict and the lessons. Lessons
/// can raise new needs, so the cycle closes: review leads back to analysis.
public struct Review: SyncRecord, Hashable {
    public static let databaseTableName = "review"

    public var id: UUID
    public var awardId: UUID
    public var verdict: Verdict
    /// Each indicator's latest measurement against its target, as recorded at the review (JSON).
    public var achieved: String
    public var summary: String
    public var lessons: String
    /// Needs the review raised (JSON array of ids).
    public var raisedNeedIds: String
    public var reviewedBy: UUID
    public var reviewedAt: Date

    public enum Verdict: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case complete, extend, recommission
        case scaleUp = "scale-up"
        case decommission

        /// Whether the award closes with this verdict (an extension keeps it running).
        public var closesAward: Bool { self != .extend }
    }
}
