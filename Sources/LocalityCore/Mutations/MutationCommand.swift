import Foundation
import GRDB

/// The names of the mutations a device can make. Names are the protocol: never rename one.
public enum MutationName: String, Codable, Sendable, CaseIterable {
    case needRecord = "need.record"
    case needUpdate = "need.update"
    case needAddEvidence = "need.addEvidence"
    case needSetStatus = "need.setStatus"
    case needClose = "need.close"
    case proposalDraft = "proposal.draft"
    case proposalEdit = "proposal.edit"
    case proposalSubmit = "proposal.submit"
    case proposalWithdraw = "proposal.withdraw"
    case conflictResolve = "conflict.resolve"
    case decisionRecord = "decision.record"
    case interestDeclare = "interest.declare"
    case awardCreate = "award.create"
    case paymentRecord = "payment.record"
    case monitoringSubmit = "monitoring.submit"
    case roundOpen = "round.open"
    case assessmentScore = "assessment.score"
    case assessmentModerate = "assessment.moderate"
    case reviewRecord = "review.record"
    case commissionStart = "commission.start"
    case commissionRecord = "commission.record"
    case commissionAdvance = "commission.advance"
    case commissionOption = "commission.option"
    case commissionRisk = "commission.risk"
    case ledgerCorrect = "ledger.correct"
    case voteOpen = "vote.open"
    case ballotCast = "ballot.cast"
    case voteClose = "vote.close"
    case budgetCreate = "budget.create"
    case budgetAllocate = "budget.allocate"
    case budgetTransfer = "budget.transfer"
    case budgetCloseYear = "budget.closeYear"
    case outcomeAdd = "outcome.add"
    case indicatorAdd = "indicator.add"
    case indicatorMeasure = "indicator.measure"
    case delegationAdopt = "delegation.adopt"
    case organisationAdd = "organisation.add"
    case organisationUpdate = "organisation.update"

    /// The command type that carries this mutation's arguments.
    public var commandType: any MutationCommand.Type {
        switch self {
        case .needRecord: RecordNeed.self
        case .needUpdate: UpdateNeed.self
        case .needAddEvidence: AddNeedEvidence.self
        case .needSetStatus: SetNeedStatus.self
        case .needClose: CloseNeed.self
        case .proposalDraft: DraftProposal.self
        case .proposalEdit: EditProposal.self
        case .proposalSubmit: SubmitProposal.self
        case .proposalWithdraw: WithdrawProposal.self
        case .conflictResolve: ResolveConflict.self
        case .decisionRecord: RecordDecision.self
        case .interestDeclare: DeclareInterest.self
        case .awardCreate: CreateAward.self
        case .paymentRecord: RecordPayment.self
        case .monitoringSubmit: SubmitMonitoringReport.self
        case .roundOpen: OpenRound.self
        case .assessmentScore: ScoreProposal.self
        case .assessmentModerate: ModerateAssessment.self
        case .reviewRecord: RecordReview.self
        case .commissionStart: StartCommission.self
        case .commissionRecord: RecordCommissionWork.self
        case .commissionAdvance: AdvanceCommission.self
        case .commissionOption: AppraiseOption.self
        case .commissionRisk: RecordRisk.self
        case .ledgerCorrect: CorrectLedger.self
        case .voteOpen: OpenVote.self
        case .ballotCast: CastBallot.self
        case .voteClose: CloseVote.self
        case .budgetCreate: CreateBudget.self
        case .budgetAllocate: AllocateBudget.self
        case .budgetTransfer: TransferBudget.self
        case .budgetCloseYear: CloseBudgetYear.self
        case .outcomeAdd: AddOutcome.self
        case .indicatorAdd: AddIndicator.self
        case .indicatorMeasure: RecordMeasurement.self
        case .delegationAdopt: AdoptScheme.self
        case .organisationAdd: AddOrganisation.self
        case .organisationUpdate: UpdateOrganisation.self
        }
    }
}

extension MutationName {
    /// An unknown name is refused in words: the sender may be newer than this build.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let name = MutationName(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "'\(text.prefix(60))' is not a mutation this server knows; it knows \(MutationName.allCases.count), such as need.record and proposal.submit"))
        }
        self = name
    }
}

/// Who makes a mutation, and when. The same values on the device and on the server, so both
/// compute the same result.
public struct MutationContext: Sendable {
    public let actor: Actor
    /// When the person made the change (the mutation's creation time on the device).
    public let at: Date
    public let hlc: HLCTimestamp

    public init(actor: Actor, at: Date, hlc: HLCTimestamp) {
        self.actor = actor
        self.at = at
        self.hlc = hlc
    }
}

/// A domain operation: validates against the current state and the actor, then writes.
///
/// `apply` must either throw before writing anything, or be run inside a transaction that is
/// rolled back when it throws — `Replica.perform` and the server both do the latter.
public protocol MutationCommand: Codable, Sendable {
    static var name: MutationName { get }
    func apply(_ context: MutationContext, _ db: Database) throws
    /// The command as it should be queued, given the device's state before it applies: edits
    /// record what the fields held (see `FieldMerge`). Most commands are queued as they are.
    func prepared(_ db: Database) throws -> Self
}

extension MutationCommand {
    public func prepared(_ db: Database) throws -> Self { self }
}

extension MutationName {
    /// Decodes a mutation's arguments and applies it: the path the server (and rebase) take.
    public func apply(arguments: JSONValue, _ context: MutationContext, _ db: Database) throws {
        try command(arguments: arguments).apply(context, db)
    }

    /// Decodes a mutation's arguments into its command, or says what is wrong with them. Pure, so
    /// the server decodes a batch before taking the write lock.
    public func command(arguments: JSONValue) throws(LocalityError) -> any MutationCommand {
        try TerminalText.check(arguments, mutation: rawValue)
        do {
            return try arguments.decode(as: commandType)
        } catch {
            throw LocalityError.invalid("the arguments of \(rawValue) are malformed: \((error as? DecodingError).map(JSONCoding.describe) ?? "\(error)")")
        }
    }
}

extension Mutation {
    /// Runs this mutation through the rules as `personId`, inside a savepoint: refused, it leaves
    /// no trace and throws its `LocalityError`. The server's push and the device's rebase both
    /// come through here; the acting person is whoever the caller has authenticated.
    public func apply(as personId: UUID, _ db: Database) throws {
        try apply(as: try Actor.load(db, personId: personId), db)
    }

    /// As `apply(as:)`, for an actor already loaded in this transaction (a push loads it once per batch:
    /// no mutation changes who its sender is).
    public func apply(as actor: Actor, _ db: Database) throws {
        try apply(try name.command(arguments: arguments), as: actor, db)
    }

    /// As `apply(as:)`, with the arguments already decoded (see `MutationName.command(arguments:)`).
    public func apply(_ command: any MutationCommand, as actor: Actor, _ db: Database) throws {
        try db.inMutationSavepoint { try applyUnguarded(command, as: actor, db) }
    }

    /// As `apply(_:as:_:)` without the savepoint: a refusal may leave part of the mutation
    /// written, so the caller must then roll back the whole transaction. The server's push takes
    /// this path first, a batch at a time, and goes back over the batch with savepoints only if a
    /// mutation in it is refused.
    public func applyUnguarded(_ command: any MutationCommand, as actor: Actor, _ db: Database) throws {
        try command.apply(MutationContext(actor: actor, at: createdAt, hlc: hlc), db)
    }
}

extension Database {
    /// Runs `body` in a savepoint that is released when it returns and rolled back when it throws.
    /// Inside a transaction (a push batch, a rebase) the savepoint statements are prepared once per
    /// connection rather than once per mutation; outside one, GRDB's `inSavepoint` opens a transaction.
    func inMutationSavepoint(_ body: () throws -> Void) throws {
        guard isInsideTransaction else {
            try inSavepoint {
                try body()
                return .commit
            }
            return
        }
        try cachedStatement(sql: "SAVEPOINT mutation").execute()
        do {
            try body()
        } catch {
            try cachedStatement(sql: "ROLLBACK TO SAVEPOINT mutation").execute()
            try cachedStatement(sql: "RELEASE SAVEPOINT mutation").execute()
            throw error
        }
        try cachedStatement(sql: "RELEASE SAVEPOINT mutation").execute()
    }
}
