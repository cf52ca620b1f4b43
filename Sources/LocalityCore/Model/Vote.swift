import Foundation
import GRDB

/// A residents' vote on a round's proposals: who may vote (residents of the round's area, and
/// paper ballots captured by officers and the area's councillors), the ballot, when, and the
/// rule that will allocate the money — all fixed when it opens.
public struct Vote: SyncRecord, Hashable {
    public static let databaseTableName = "vote"

    public var id: UUID
    public var roundId: UUID
    public var title: String
    public var ballotType: BallotType
    /// Approval ballots: how many proposals a voter must and may choose.
    public var minChoices: Int?
    public var maxChoices: Int?
    public var rule: AllocationRule
    /// The money the vote allocates, from the round's budget.
    public var amount: Money
    public var opensOn: String
    public var closesOn: String
    /// The proposals on the ballot (JSON array of ids).
    public var proposalIds: String
    public var status: Status
    /// The count, once closed on the server (JSON): funded proposals and why each was or was not.
    public var result: String?
    public var ballotsCounted: Int?
    public var createdBy: UUID
    public var createdAt: Date
    public var closedBy: UUID?
    public var closedAt: Date?

    public enum BallotType: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        /// Choose any number of proposals (between the vote's minimum and maximum, if set).
        case approval
        /// Choose proposals whose total cost fits within the vote's amount.
        case knapsack
    }

    public enum Status: String, Codable, Sendable, DatabaseValueConvertible {
        case open
        /// Closed on a device, waiting for the server's count.
        case closing
        case closed
    }

    public var ballotProposalIds: [UUID] { Round.ids(proposalIds) }

    /// Whether ballots may be cast on `day`.
    public func takesBallots(on day: String) -> Bool { status == .open && opensOn <= day && day <= closesOn }
}

/// One voter's ballot. It names no one: the voter reference is an account's or a one-time code's,
/// kept only to count each voter once, and never leaves the server (no device pulls ballots;
/// exports number voters afresh).
public struct Ballot: SyncRecord, Hashable {
    public static let databaseTableName = "ballot"

    public var id: UUID
    public var voteId: UUID
    public var voterReference: String
    public var proposalIds: String
    public var channel: Channel
    public var paperSerial: String?
    public var capturedBy: UUID
    public var castAt: Date

    public enum Channel: String, Codable, Sendable, DatabaseValueConvertible {
        /// Cast by a resident from their own account.
        case online
        /// A paper ballot captured by an officer or councillor, with its serial number.
        case paper
    }
}

extension Database {
    /// Whether this database is the server's — the one that holds every ballot and counts them.
    /// Devices hold only their own uncounted ballots, so they never count.
    var isAuthoritative: Bool {
        get throws { try tableExists("account") }
    }
}
