import Foundation
import GRDB

extension Pabulib {
    /// A vote as a Pabulib file: its proposals (id, cost in pounds, votes, title, whether funded)
    /// and its ballots, with voters numbered 1, 2, … in a random order — never the voter
    /// reference, the paper serial, who captured it or when — so nothing links a ballot to anyone.
    /// Only the server holds every ballot, so only the server's export is the whole vote.
    /// With a `seed`, the order is shuffled by it rather than afresh, so a published file is the
    /// same bytes each time it is fetched; the seed must be one nobody outside can compute.
    public static func export(vote voteId: UUID, _ db: Database, seed: UInt64? = nil) throws -> String {
        guard let vote = try Vote.find(db, id: voteId) else { throw LocalityError.notFound("no vote with id \(voteId.key)") }
        let round = try Lookup.round(vote.roundId, db)
        let budget = try Lookup.budget(round.budgetId, db)
        let funded = Set(try vote.result.map { try JSONCoding.decode(Allocation.self, from: Array($0.utf8)).funded } ?? [])
        var ballots = try String.fetchAll(db, sql: "SELECT proposal_ids FROM ballot WHERE vote_id = ? ORDER BY id", arguments: [vote.id.key])
            .map { Round.ids($0).map(\.key) }
        if let seed {
            var generator = SeededGenerator(seed: seed)
            ballots.shuffle(using: &generator)
        } else {
            var generator = SystemRandomNumberGenerator()
            ballots.shuffle(using: &generator)
        }
        var votes: [String: Int] = [:]
        for ballot in ballots { for id in ballot { votes[id, default: 0] += 1 } }
        var projects: [PBProject] = []
        for id in vote.ballotProposalIds {
            let proposal = try Lookup.proposal(id, db)
            projects.append(PBProject(
                id: id.key, cost: Rational(Int(proposal.amountRequested.pence)) / Rational(100), name: proposal.title,
                fields: ["votes": "\(votes[id.key] ?? 0)", "selected": funded.contains(id.key) ? "1" : "0"]))
        }
        var meta: [(key: String, value: String)] = [
            ("description", vote.title), ("country", "United Kingdom"),
            ("unit", try Lookup.locality(budget.localityId, db).name), ("subunit", round.title),
            ("instance", budget.financialYear.description), ("num_projects", "\(projects.count)"), ("num_votes", "\(ballots.count)"),
            ("budget", (Rational(Int(vote.amount.pence)) / Rational(100)).decimalText), ("vote_type", vote.ballotType.rawValue),
            ("rule", vote.rule.rawValue), ("date_begin", vote.opensOn), ("date_end", vote.closesOn), ("currency", "GBP"),
            ("language", "en"),
        ]
        if let minimum = vote.minChoices { meta.append(("min_length", "\(minimum)")) }
        if let maximum = vote.maxChoices { meta.append(("max_length", "\(maximum)")) }
        var instance = PBInstance(
            meta: meta, projects: projects,
            voters: ballots.enumerated().map { PBVoter(id: "\($0.offset + 1)", approvals: $0.element) })
        instance.projectColumns = ["project_id", "cost", "votes", "name", "selected"]
        instance.voteColumns = ["voter_id", "vote"]
        return write(instance)
    }

    /// Adds a file's ballots to an open vote, all or none: every project id must name a proposal on
    /// the vote's ballot (by id, short reference or exact title), every ballot must pass the vote's
    /// limits, and each file voter becomes the voter reference `import:<file>:<voter_id>`, so a
    /// file imported twice is refused rather than counted twice.
    public static func importBallots(
        _ instance: PBInstance, into voteId: UUID, source: String, importedBy personId: UUID, at now: Date, _ db: Database
    ) throws -> Int {
        guard let vote = try Vote.find(db, id: voteId) else { throw LocalityError.notFound("no vote with id \(voteId.key)") }
        guard vote.status == .open else { throw LocalityError(.invalidTransition, "the vote '\(vote.title)' is \(vote.status.rawValue)") }
        var byReference: [String: UUID] = [:]
        for id in vote.ballotProposalIds {
            let proposal = try Lookup.proposal(id, db)
            byReference[id.key] = id
            byReference[id.shortReference] = id
            byReference[proposal.title] = id
        }
        var mapping: [String: UUID] = [:]
        for project in instance.projects {
            guard let id = byReference[project.id] ?? byReference[project.name] else {
                throw LocalityError.invalid("project '\(project.id)' (\(project.name)) is not on the ballot of '\(vote.title)'")
            }
            mapping[project.id] = id
        }
        var count = 0
        for voter in instance.voters {
            let reference = "import:\(source):\(voter.id)"
            let choices: [UUID]
            do {
                choices = try VoteRules.checkChoices(voter.approvals.compactMap { mapping[$0] }, on: vote, db)
            } catch let error as LocalityError {
                throw LocalityError(error.code, "voter '\(voter.id)': \(error.message)")
            }
            try DuplicateKey.as(LocalityError(.alreadyVoted, "voter '\(voter.id)' of \(source) has already been imported into '\(vote.title)'")) {
                try Ballot(
                    id: UUID.stable("ballot:\(vote.id.key):\(reference)"), voteId: vote.id, voterReference: reference,
                    proposalIds: JSONValue.array(choices.map { .string($0.key) }).jsonText, channel: .paper, paperSerial: nil,
                    capturedBy: personId, castAt: now
                ).insert(db)
            }
            count += 1
        }
        return count
    }
}
