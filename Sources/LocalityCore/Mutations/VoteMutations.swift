import Foundation
import GRDB

/// `vote.open`: an officer puts a round's submitted proposals — those that passed the feasibility
/// check — to the residents of its area. The ballot, the dates, the money and the allocation rule
/// are fixed here: nothing changes them afterwards.
public struct OpenVote: MutationCommand, Hashable {
    public static let name = MutationName.voteOpen

    public var voteId: UUID
    public var roundId: UUID
    public var title: String
    public var ballotType: Vote.BallotType
    public var minChoices: Int?
    public var maxChoices: Int?
    public var rule: AllocationRule
    public var amount: Money
    public var opensOn: String
    public var closesOn: String
    public var proposalIds: [UUID]

    public init(
        voteId: UUID, roundId: UUID, title: String, ballotType: Vote.BallotType = .approval, minChoices: Int? = nil,
        maxChoices: Int? = nil, rule: AllocationRule, amount: Money, opensOn: String, closesOn: String, proposalIds: [UUID]
    ) {
        self.voteId = voteId
        self.roundId = roundId
        self.title = title
        self.ballotType = ballotType
        self.minChoices = minChoices
        self.maxChoices = maxChoices
        self.rule = rule
        self.amount = amount
        self.opensOn = opensOn
        self.closesOn = closesOn
        self.proposalIds = proposalIds
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        guard context.actor.has(.officer) else {
            throw LocalityError.forbidden("votes are opened by officers; \(context.actor.person.username) is \(try context.actor.describeRoles(in: db))")
        }
        let round = try Lookup.round(roundId, db)
        let title = try Validate.title(title)
        let opens = try Validate.day(opensOn, field: "opening date")
        let closes = try Validate.day(closesOn, field: "closing date")
        guard opens <= closes else { throw LocalityError.invalid("the vote would close (\(closes)) before it opens (\(opens))") }
        // Residents need the days to vote in: a vote is opened for today or later, never for days gone.
        let today = Timestamps.day(context.at)
        guard opens >= today else {
            throw LocalityError.invalid("the vote would open on \(opens), which has passed (today is \(today)); residents need days still to come")
        }
        let ids = Array(Set(proposalIds))
        guard !ids.isEmpty else { throw LocalityError.invalid("a vote needs at least one proposal on its ballot") }
        guard ids.count == proposalIds.count else { throw LocalityError.invalid("a proposal is on the ballot twice") }
        let amount = try Validate.amount(amount)
        let position = try BudgetPosition.of(budget: round.budgetId, in: db)
        guard amount <= position.available else {
            throw LocalityError(
                .insufficientFunds,
                "the vote would allocate \(amount), but only \(position.available) of the round's budget is available")
        }
        for id in ids {
            let proposal = try Lookup.proposal(id, db)
            guard proposal.roundId == round.id else {
                throw LocalityError.invalid("proposal '\(proposal.title)' is not in the round '\(round.title)'")
            }
            guard proposal.status == .submitted else {
                throw LocalityError(
                    .invalidTransition, "proposal '\(proposal.title)' is \(proposal.status.rawValue): only submitted proposals go to a vote")
            }
            let others = try Vote.fetchAll(db, sql: "SELECT * FROM vote WHERE round_id = ? AND status != 'closed'", arguments: [round.id.key])
            if let other = others.first(where: { $0.ballotProposalIds.contains(id) }) {
                throw LocalityError.invalid("proposal '\(proposal.title)' is already on the ballot of '\(other.title)'")
            }
        }
        switch ballotType {
        case .approval:
            if let minChoices, minChoices < 1 { throw LocalityError.invalid("the minimum number of choices must be at least 1") }
            if let maxChoices, maxChoices < max(1, minChoices ?? 1) {
                throw LocalityError.invalid("the maximum number of choices (\(maxChoices)) is below the minimum (\(minChoices ?? 1))")
            }
            if let minChoices, minChoices > ids.count {
                throw LocalityError.invalid("voters cannot choose \(minChoices) of only \(ids.count) proposals")
            }
        case .knapsack:
            guard minChoices == nil, maxChoices == nil else {
                throw LocalityError.invalid("a knapsack ballot is limited by cost, not by a number of choices")
            }
        }
        try DuplicateKey.as(LocalityError.invalid("vote \(voteId.key) already exists")) {
            try Vote(
                id: voteId, roundId: round.id, title: title, ballotType: ballotType, minChoices: minChoices, maxChoices: maxChoices,
                rule: rule, amount: amount, opensOn: opens, closesOn: closes,
                proposalIds: JSONValue.array(proposalIds.map { .string($0.key) }).jsonText, status: .open, result: nil,
                ballotsCounted: nil, createdBy: context.actor.person.id, createdAt: context.at, closedBy: nil, closedAt: nil
            ).insert(db)
        }
    }
}

/// `ballot.cast`: a resident votes from their account, or an officer or councillor captures a
/// paper ballot — its serial number and the one-time voting code printed on it — at an event,
/// offline if need be. The server counts at most one ballot per voter reference per vote.
public struct CastBallot: MutationCommand, Hashable {
    public static let name = MutationName.ballotCast

    public var ballotId: UUID
    public var voteId: UUID
    public var proposalIds: [UUID]
    /// A paper ballot's serial number; nil for a resident voting from their account.
    public var paperSerial: String?
    /// The one-time voting code on a paper ballot or poll card.
    public var voterCode: String?

    public init(ballotId: UUID, voteId: UUID, proposalIds: [UUID], paperSerial: String? = nil, voterCode: String? = nil) {
        self.ballotId = ballotId
        self.voteId = voteId
        self.proposalIds = proposalIds
        self.paperSerial = paperSerial
        self.voterCode = voterCode
    }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        let actor = context.actor
        guard let vote = try Vote.find(db, id: voteId) else { throw LocalityError.notFound("no vote with id \(voteId.key)") }
        let day = Timestamps.day(context.at)
        guard vote.status == .open else {
            throw LocalityError(.invalidTransition, "the vote '\(vote.title)' has been closed and counted; this ballot arrived too late to count")
        }
        guard vote.opensOn <= day && day <= vote.closesOn else {
            throw LocalityError(
                .invalidTransition,
                "the vote '\(vote.title)' takes ballots from \(vote.opensOn) to \(vote.closesOn); this one was cast on \(day)")
        }
        let area = try VoteRules.area(of: vote, db)
        let reference: String
        let channel: Ballot.Channel
        if let paperSerial {
            let serial = try VoteRules.code(paperSerial, field: "ballot paper serial")
            guard let voterCode else { throw LocalityError.invalid("a paper ballot needs the voting code printed on it") }
            reference = "code:" + (try VoteRules.code(voterCode, field: "voting code")).uppercased()
            channel = .paper
            var capturer = actor.has(.officer)
            for ward in actor.wardIds where !capturer {
                for place in area where try Locality.isWithin(ward, place, in: db) || Locality.isWithin(place, ward, in: db) {
                    capturer = true
                }
            }
            guard capturer else {
                throw LocalityError.forbidden(
                    "paper ballots are captured by officers and the area's councillors; \(actor.person.username) is \(try actor.describeRoles(in: db))")
            }
            if try String.fetchOne(db, sql: "SELECT 1 FROM ballot WHERE vote_id = ? AND paper_serial = ?", arguments: [vote.id.key, serial]) != nil {
                throw LocalityError(.alreadyVoted, "ballot paper \(serial) has already been captured for '\(vote.title)'; it is not counted twice")
            }
            if try String.fetchOne(db, sql: "SELECT 1 FROM ballot WHERE vote_id = ? AND voter_reference = ?", arguments: [vote.id.key, reference]) != nil {
                throw LocalityError(
                    .alreadyVoted,
                    "voting code \(voterCode.uppercased()) has already voted in '\(vote.title)'; ballot paper \(serial) is not counted")
            }
        } else {
            guard voterCode == nil else { throw LocalityError.invalid("a voting code goes with a paper ballot: give its serial number too") }
            let homes = actor.homeIds
            let eligible = try homes.contains { home in try area.contains { try Locality.isWithin(home, $0, in: db) } }
            guard eligible else {
                throw LocalityError.forbidden(
                    homes.isEmpty
                        ? "only residents vote from their own account; \(actor.person.username) is \(try actor.describeRoles(in: db)) (paper ballots give --paper)"
                        : "\(actor.person.username) does not live in the area this vote is for")
            }
            reference = "resident:" + actor.person.id.key
            channel = .online
            if try db.tableExists("vote_receipt"),
                let castAt = try String.fetchOne(db, sql: "SELECT cast_at FROM vote_receipt WHERE vote_id = ?", arguments: [vote.id.key])
            {
                throw LocalityError(
                    .alreadyVoted, "\(actor.person.username) has already voted in '\(vote.title)': the ballot cast on \(castAt.prefix(10)) was counted")
            }
            if try String.fetchOne(db, sql: "SELECT 1 FROM ballot WHERE vote_id = ? AND voter_reference = ?", arguments: [vote.id.key, reference]) != nil {
                throw LocalityError(.alreadyVoted, "\(actor.person.username) has already voted in '\(vote.title)'")
            }
        }
        let choices = try VoteRules.checkChoices(proposalIds, on: vote, db)
        try DuplicateKey.as(LocalityError.invalid("ballot \(ballotId.key) already exists")) {
            try Ballot(
                id: ballotId, voteId: vote.id, voterReference: reference,
                proposalIds: JSONValue.array(choices.map { .string($0.key) }).jsonText, channel: channel,
                paperSerial: try paperSerial.map { try VoteRules.code($0, field: "ballot paper serial") }, capturedBy: actor.person.id,
                castAt: context.at
            ).insert(db)
        }
    }
}

/// `vote.close`: an officer closes a vote on or after its closing day. On the server — which holds
/// every ballot — the count is made by the vote's rule, recorded with its explanation, and each
/// funded proposal approved with a commitment on the ledger (the same checks as any decision:
/// never more than is available); each unfunded one is rejected with the count's reason. On a
/// device the vote shows as closing until the server's count arrives.
public struct CloseVote: MutationCommand, Hashable {
    public static let name = MutationName.voteClose

    public var voteId: UUID

    public init(voteId: UUID) { self.voteId = voteId }

    public func apply(_ context: MutationContext, _ db: Database) throws {
        guard context.actor.has(.officer) else {
            throw LocalityError.forbidden("votes are closed by officers; \(context.actor.person.username) is \(try context.actor.describeRoles(in: db))")
        }
        guard var vote = try Vote.find(db, id: voteId) else { throw LocalityError.notFound("no vote with id \(voteId.key)") }
        let day = Timestamps.day(context.at)
        guard vote.status == .open else { throw LocalityError(.invalidTransition, "the vote '\(vote.title)' is already \(vote.status.rawValue)") }
        guard day >= vote.closesOn else {
            throw LocalityError(.invalidTransition, "the vote '\(vote.title)' runs until \(vote.closesOn); it can be closed from that day")
        }
        vote.closedBy = context.actor.person.id
        vote.closedAt = context.at
        guard try db.isAuthoritative else {
            vote.status = .closing
            try vote.update(db)
            return
        }
        let count = try VoteRules.count(vote, db)
        let round = try Lookup.round(vote.roundId, db)
        let budget = try Lookup.budget(round.budgetId, db)
        try BudgetRules.requireOpen(budget, for: "the vote's count")
        for line in count.allocation.projects {
            guard let proposalId = UUID(key: line.id) else { continue }
            var proposal = try Lookup.proposal(proposalId, db)
            let decisionId = UUID.stable("vote:\(vote.id.key):decision:\(proposalId.key)")
            let reasons = line.funded
                ? "Funded by the residents' vote '\(vote.title)' (\(vote.rule.rawValue)): \(line.explanation)"
                : "Not funded by the residents' vote '\(vote.title)' (\(vote.rule.rawValue)): \(line.explanation)"
            var amount: Money?
            if line.funded {
                let position = try BudgetPosition.of(budget: budget.id, in: db)
                guard proposal.amountRequested <= position.available else {
                    throw LocalityError(
                        .insufficientFunds,
                        "\(budget.name) is \(proposal.amountRequested - position.available) short: the vote funds '\(proposal.title)' "
                            + "for \(proposal.amountRequested) but only \(position.available) is available; nothing was counted")
                }
                amount = proposal.amountRequested
                try LedgerEntry(
                    id: UUID.stable("vote:\(vote.id.key):commitment:\(proposalId.key)"), budgetId: budget.id, kind: .commitment,
                    amount: proposal.amountRequested, note: "Residents' vote: \(proposal.title)", recordedAt: context.at,
                    decisionId: decisionId, proposalId: proposal.id, recordedBy: context.actor.person.id
                ).insert(db)
            }
            let outcome: Decision.Outcome = line.funded ? .approved : .rejected
            try Decision(
                id: decisionId, proposalId: proposal.id, outcome: outcome, amount: amount, decidedBy: context.actor.person.id,
                authority: "the residents' vote '\(vote.title)', counted by \(vote.rule.rawValue), closed by \(context.actor.person.displayName)",
                delegationId: nil, reasons: reasons, conditions: "", decidedAt: context.at
            ).insert(db)
            try ProposalRules.requireTransition(proposal, to: outcome.proposalStatus)
            proposal.status = outcome.proposalStatus
            proposal.statusReason = reasons
            proposal.updatedAt = context.at
            try proposal.update(db)
        }
        vote.status = .closed
        vote.result = String(decoding: try JSONCoding.encode(count.allocation, sortedKeys: true), as: UTF8.self)
        vote.ballotsCounted = count.ballots
        try vote.update(db)
    }
}

public enum VoteRules {
    /// The open (or closing) vote whose ballot holds `proposalId`: its count decides the proposal,
    /// so nothing else may.
    public static func deciding(_ proposalId: UUID, _ db: Database) throws -> Vote? {
        try Vote.fetchAll(db, sql: "SELECT * FROM vote WHERE status IN ('open', 'closing') AND proposal_ids LIKE ?", arguments: ["%" + proposalId.key + "%"])
            .first { $0.ballotProposalIds.contains(proposalId) }
    }

    /// The places a vote is for: the round's localities, or its budget's area.
    static func area(of vote: Vote, _ db: Database) throws -> [UUID] {
        let round = try Lookup.round(vote.roundId, db)
        let places = Round.ids(round.localityIds)
        return places.isEmpty ? [try Lookup.budget(round.budgetId, db).localityId] : places
    }

    /// A serial number or voting code: letters, digits and dashes, 1 to 40 of them.
    static func code(_ value: String, field: String) throws -> String {
        let text = value.trimmingWhitespace()
        guard !text.isEmpty, text.count <= 40, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw LocalityError.invalid("the \(field) '\(value)' must be 1 to 40 letters, digits or dashes")
        }
        return text
    }

    /// The choices on a ballot, checked against the vote's ballot and limits.
    static func checkChoices(_ choices: [UUID], on vote: Vote, _ db: Database) throws -> [UUID] {
        guard !choices.isEmpty else { throw LocalityError.invalid("a ballot must choose at least one proposal") }
        guard Set(choices).count == choices.count else { throw LocalityError.invalid("a proposal is chosen twice on this ballot") }
        let onBallot = Set(vote.ballotProposalIds)
        for choice in choices where !onBallot.contains(choice) {
            let title = try Proposal.find(db, id: choice)?.title
            throw LocalityError.invalid("\(title.map { "'\($0)'" } ?? "proposal \(choice.key)") is not on the ballot of '\(vote.title)'")
        }
        switch vote.ballotType {
        case .approval:
            if let minimum = vote.minChoices, choices.count < minimum {
                throw LocalityError.invalid("this ballot chooses \(choices.count); '\(vote.title)' asks voters to choose at least \(minimum)")
            }
            if let maximum = vote.maxChoices, choices.count > maximum {
                throw LocalityError.invalid("this ballot chooses \(choices.count); '\(vote.title)' lets voters choose at most \(maximum)")
            }
        case .knapsack:
            var total = Money.zero
            for choice in choices { total = total + (try Lookup.proposal(choice, db)).amountRequested }
            guard total <= vote.amount else {
                throw LocalityError.invalid("the proposals chosen cost \(total) together, more than the \(vote.amount) this vote allocates")
            }
        }
        return choices
    }

    /// The election a vote's count is made on: the vote's rule over every ballot, for the proposals
    /// on the ballot that still await a decision. Costs in pence; one currency unit (for
    /// `mes-add1-greedy`) is £1. A project no resident chose is never funded.
    public static func election(_ vote: Vote, _ db: Database) throws -> PBElection {
        var proposals: [Proposal] = []
        for id in vote.ballotProposalIds {
            let proposal = try Lookup.proposal(id, db)
            if proposal.status.awaitsDecision { proposals.append(proposal) }
        }
        let index = Dictionary(uniqueKeysWithValues: proposals.enumerated().map { ($0.element.id, $0.offset) })
        let ballots = try String.fetchAll(db, sql: "SELECT proposal_ids FROM ballot WHERE vote_id = ? ORDER BY id", arguments: [vote.id.key])
            .map { Round.ids($0).compactMap { index[$0] } }
        return PBElection(
            projects: proposals.map { .init(id: $0.id.key, cost: Rational(Int($0.amountRequested.pence))) },
            budget: Rational(Int(vote.amount.pence)), ballots: ballots, unit: Rational(100), inPence: true,
            fundsUnapproved: false)
    }

    /// The election of the vote `voteId` as it stands, if that vote is open and may be counted now.
    public static func election(closing voteId: UUID, _ db: Database) throws -> (election: PBElection, rule: AllocationRule)? {
        guard let vote = try Vote.find(db, id: voteId), vote.status == .open else { return nil }
        return (try election(vote, db), vote.rule)
    }

    static func count(_ vote: Vote, _ db: Database) throws -> (allocation: Allocation, ballots: Int) {
        let election = try election(vote, db)
        let counted = VoteCounts.current?.result(for: election, rule: vote.rule)
            ?? Result { () throws(CountStopped) in try AllocationRules.allocate(election, rule: vote.rule) }
        switch counted {
        case .success(let allocation): return (allocation, election.ballots.count)
        case .failure(.cancelled): throw CountStopped.cancelled  // not a verdict on the vote: the push fails and is retried
        case .failure(let stopped):
            throw LocalityError(.countLimit, "'\(vote.title)' cannot be counted: \(stopped.description)")
        }
    }
}

/// Counts made before a push takes the server's write lock, so that a long count never holds up
/// other devices: the push applies `vote.close` with the count made for exactly the election it
/// finds (the same proposals, costs and ballots), and counts afresh only if that changed meanwhile.
public final class VoteCounts: @unchecked Sendable {
    // @unchecked: filled before the transaction, then only read inside it, on one thread at a time.
    private var counts: [(election: ElectionKey, rule: AllocationRule, result: Result<Allocation, CountStopped>)] = []

    @TaskLocal fileprivate static var current: VoteCounts?

    public init() {}

    struct ElectionKey: Hashable {
        var projects: [PBElection.Project]
        var budget: Rational
        var ballots: [[Int]]
        var fundsUnapproved: Bool

        init(_ election: PBElection) {
            projects = election.projects
            budget = election.budget
            ballots = election.ballots
            fundsUnapproved = election.fundsUnapproved
        }
    }

    /// Counts `election` by `rule` now (the slow part) and keeps the result for the transaction.
    public func count(_ election: PBElection, rule: AllocationRule, limit: CountLimit = .standard) {
        let result = Result { () throws(CountStopped) in try AllocationRules.allocate(election, rule: rule, limit: limit) }
        counts.append((ElectionKey(election), rule, result))
    }

    fileprivate func result(for election: PBElection, rule: AllocationRule) -> Result<Allocation, CountStopped>? {
        let key = ElectionKey(election)
        return counts.first { $0.rule == rule && $0.election == key }?.result
    }

    /// Runs `body` with these counts at hand.
    public func during<T>(_ body: () throws -> T) rethrows -> T {
        try Self.$current.withValue(self) { try body() }
    }
}
