import Foundation
import GRDB

/// A funding proposal from a parish or community group against a locality budget.
public struct Proposal: SyncRecord, Hashable {
    public static let databaseTableName = "proposal"

    public var id: UUID
    public var budgetId: UUID
    public var localityId: UUID
    public var organisationId: UUID
    public var title: String
    public var summary: String
    public var amountRequested: Money
    public var deliveryModel: DeliveryModel?
    public var socialValue: String
    public var status: Status
    public var statusReason: String?
    public var createdBy: UUID
    public var createdAt: Date
    public var updatedAt: Date
    public var submittedAt: Date?
    /// The funding round it is entered into, if any: then it is submitted only while the round is open.
    public var roundId: UUID?

    public enum Status: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case draft, submitted, withdrawn
        /// Decided: funded in full or in part, refused, or put off to a later meeting.
        case approved, rejected, deferred

        /// The allowed moves, in one place. A decision is final; a deferred proposal awaits another.
        public var allowedNext: Set<Status> {
            switch self {
            case .draft: [.submitted, .withdrawn]
            case .submitted, .deferred: [.withdrawn, .approved, .rejected, .deferred]
            case .withdrawn, .approved, .rejected: []
            }
        }

        /// Whether a decision may be taken on a proposal in this status.
        public var awaitsDecision: Bool { self == .submitted || self == .deferred }

        public func canMove(to next: Status) -> Bool { allowedNext.contains(next) }

        /// Who may edit a proposal in this status. A draft belongs to its organisation; once
        /// submitted it is frozen for assessment (withdraw and redraft to change it).
        public var editableBy: Editor {
            switch self {
            case .draft: .draftingOrganisation
            case .submitted, .withdrawn, .approved, .rejected, .deferred: .nobody
            }
        }

        public enum Editor: Sendable { case draftingOrganisation, nobody }
    }

    /// Delivery models from the options appraisal (Haringey, DOMAIN.md), plus the ones a
    /// community proposal most often takes.
    public enum DeliveryModel: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case inHouseReconfigured = "in-house-reconfigured"
        case inHouseEfficient = "in-house-efficient"
        case socialEnterprise = "social-enterprise"
        case sharedWithPublicBody = "shared-with-public-body"
        case incomeGenerating = "income-generating"
        case automate
        case managementBuyOut = "management-buy-out"
        case outsource
        case decommission
        case communityLed = "community-led"
        case parishLed = "parish-led"
        case grant

        public init(parsing text: String) throws {
            let normalised = text.trimmingWhitespace().lowercased().replacingOccurrences(of: " ", with: "-")
            guard let model = DeliveryModel(rawValue: normalised) else {
                throw LocalityError.invalid(
                    "'\(text)' is not a delivery model; use one of: \(DeliveryModel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self = model
        }
    }
}

struct ProposalNeed: LocalityRecord {
    static let databaseTableName = "proposal_need"
    var proposalId: UUID
    var needId: UUID
}

struct ProposalOutcome: LocalityRecord {
    static let databaseTableName = "proposal_outcome"
    var proposalId: UUID
    var outcomeId: UUID
}
