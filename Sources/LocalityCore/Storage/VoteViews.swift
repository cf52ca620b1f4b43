import Foundation
import GRDB

/// A vote as residents and officers see it: the ballot, the rule, the dates, and once counted,
/// the result with its explanation. Never a ballot: those stay on the server.
public struct VoteView: Codable, Sendable {
    public var id: UUID
    public var reference: String
    public var title: String
    public var round: String
    public var budget: String
    public var ballotType: Vote.BallotType
    public var minChoices: Int?
    public var maxChoices: Int?
    public var rule: AllocationRule
    public var ruleSummary: String
    public var amount: Money
    public var opensOn: String
    public var closesOn: String
    public var status: Vote.Status
    /// Whether ballots may be cast today.
    public var takingBallots: Bool
    /// The ballot, numbered from 1 in the order printed.
    public var proposals: [Line]
    public var ballotsCounted: Int?
    /// Ballots this device has captured that the server has not yet accepted.
    public var ballotsAwaitingSync: Int
    /// For a resident: whether their own ballot waits to sync, or when the one counted was cast.
    public var yourBallot: String?
    /// The count, once the server has made it.
    public var result: Result?

    public struct Result: Codable, Sendable {
        public var rule: AllocationRule
        public var funded: [UUID]
        public var spent: Money
        public var projects: [Project]

        public struct Project: Codable, Sendable {
            public var id: UUID
            public var title: String
            public var amount: Money
            public var approvals: Int
            public var funded: Bool
            public var order: Int?
            /// Equal Shares: how many supporters paid, and the most one of them paid (to the penny).
            public var payers: Int?
            public var largestShare: Money?
            public var explanation: String
        }
    }

    public struct Line: Codable, Sendable {
        public var number: Int
        public var id: UUID
        public var reference: String
        public var title: String
        public var organisation: String
        public var amount: Money
        public var status: Proposal.Status
    }
}

/// A ballot this device captured and has not yet seen accepted: what the capturer needs to check
/// their pile of papers against, without the voting codes.
public struct PendingBallot: Codable, Sendable {
    public var id: UUID
    public var vote: String
    public var channel: Ballot.Channel
    public var paperSerial: String?
    public var choices: Int
    public var castAt: Date
}

extension Replica {
    public func votes() throws -> [VoteView] {
        let today = Timestamps.day(environment.now())
        return try read { db in
            try Vote.fetchAll(db, sql: "SELECT * FROM vote ORDER BY opens_on DESC, title").map { try Self.voteView($0, today: today, db) }
        }
    }

    public func vote(_ ref: String) throws -> VoteView {
        let today = Timestamps.day(environment.now())
        return try read { db in try Self.voteView(try References.vote(ref, db), today: today, db) }
    }

    public func pendingBallots() throws -> [PendingBallot] {
        try read { db in
            try Ballot.fetchAll(db, sql: "SELECT * FROM ballot ORDER BY cast_at, id").map { ballot in
                PendingBallot(
                    id: ballot.id, vote: try Vote.find(db, id: ballot.voteId)?.title ?? ballot.voteId.key, channel: ballot.channel,
                    paperSerial: ballot.paperSerial, choices: Round.ids(ballot.proposalIds).count, castAt: ballot.castAt)
            }
        }
    }

    static func yourBallot(_ voteId: UUID, _ db: Database) throws -> String? {
        if try db.tableExists("vote_receipt"),
            let castAt = try String.fetchOne(db, sql: "SELECT cast_at FROM vote_receipt WHERE vote_id = ?", arguments: [voteId.key])
        {
            return "counted (cast \(castAt.prefix(10)))"
        }
        let waiting = try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM ballot WHERE vote_id = ? AND channel = 'online'", arguments: [voteId.key]) ?? 0
        return waiting > 0 ? "waiting to sync" : nil
    }

    static func voteView(_ vote: Vote, today: String, _ db: Database) throws -> VoteView {
        let round = try Lookup.round(vote.roundId, db)
        var lines: [VoteView.Line] = []
        for (index, id) in vote.ballotProposalIds.enumerated() {
            let proposal = try Lookup.proposal(id, db)
            lines.append(.init(
                number: index + 1, id: id, reference: id.shortReference, title: proposal.title,
                organisation: try Lookup.organisation(proposal.organisationId, db).name, amount: proposal.amountRequested,
                status: proposal.status))
        }
        let titles = Dictionary(uniqueKeysWithValues: lines.map { ($0.id.key, $0.title) })
        let result = try vote.result.map { text -> VoteView.Result in
            let allocation = try JSONCoding.decode(Allocation.self, from: Array(text.utf8))
            func pence(_ value: Rational) -> Money { Money(pence: Int64(Double(value.decimal(places: 0)) ?? 0)) }
            return VoteView.Result(
                rule: allocation.rule, funded: allocation.funded.compactMap(UUID.init(key:)), spent: pence(allocation.spent),
                projects: allocation.projects.compactMap { line in
                    guard let id = UUID(key: line.id) else { return nil }
                    return .init(
                        id: id, title: titles[line.id] ?? line.id, amount: pence(line.cost), approvals: line.approvals, funded: line.funded,
                        order: line.order, payers: line.payers, largestShare: line.largestShare.map(pence), explanation: line.explanation)
                })
        }
        return VoteView(
            id: vote.id, reference: vote.id.shortReference, title: vote.title, round: round.title,
            budget: try Lookup.budget(round.budgetId, db).name, ballotType: vote.ballotType, minChoices: vote.minChoices,
            maxChoices: vote.maxChoices, rule: vote.rule, ruleSummary: vote.rule.summary, amount: vote.amount, opensOn: vote.opensOn,
            closesOn: vote.closesOn, status: vote.status, takingBallots: vote.takesBallots(on: today), proposals: lines,
            ballotsCounted: vote.ballotsCounted,
            ballotsAwaitingSync: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM ballot WHERE vote_id = ?", arguments: [vote.id.key]) ?? 0,
            yourBallot: try Self.yourBallot(vote.id, db),
            result: result)
    }
}
