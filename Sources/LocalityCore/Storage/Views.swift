import Foundation
import GRDB

/// Read models: records joined with the names a person needs to read them. Shared by the
/// terminal client and (later) the server's API, encoded as JSON with ids and pence.

public struct WhoAmI: Codable, Sendable {
    public var id: UUID
    public var username: String
    public var displayName: String
    public var roles: [Role]
    public var wards: [Locality]
    public var organisations: [Organisation]
    public var deviceId: UUID
    public var origin: String
    public var pendingMutations: Int
    public var lastSequence: Int64
}

public struct LocalityNode: Codable, Sendable {
    public var locality: Locality
    public var depth: Int

    enum CodingKeys: String, CodingKey { case id, name, kind, parentId, gssCode, gssYear, slug, depth }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(locality.id, forKey: .id)
        try container.encode(locality.name, forKey: .name)
        try container.encode(locality.kind, forKey: .kind)
        try container.encode(locality.parentId, forKey: .parentId)
        try container.encode(locality.gssCode, forKey: .gssCode)
        try container.encode(locality.gssYear, forKey: .gssYear)
        try container.encode(locality.slug, forKey: .slug)
        try container.encode(depth, forKey: .depth)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        locality = Locality(
            id: try container.decode(UUID.self, forKey: .id), name: try container.decode(String.self, forKey: .name),
            kind: try container.decode(Locality.Kind.self, forKey: .kind),
            parentId: try container.decodeIfPresent(UUID.self, forKey: .parentId),
            gssCode: try container.decodeIfPresent(String.self, forKey: .gssCode),
            gssYear: try container.decodeIfPresent(Int.self, forKey: .gssYear),
            slug: try container.decode(String.self, forKey: .slug))
        depth = try container.decode(Int.self, forKey: .depth)
    }

    init(locality: Locality, depth: Int) {
        self.locality = locality
        self.depth = depth
    }
}

public struct OrganisationView: Codable, Sendable {
    public var id: UUID
    public var name: String
    public var kind: Organisation.Kind
    public var orgIdentifier: String?
    public var slug: String
    public var localities: [String]
    public var contact: String
}

public struct BudgetView: Codable, Sendable {
    public var id: UUID
    public var name: String
    public var slug: String
    public var financialYear: FinancialYear
    public var localityId: UUID
    public var locality: String
    public var allocated: Money
    public var committed: Money
    public var available: Money
    public var paid: Money
    /// When its year was closed; nothing more is committed from a closed fund.
    public var closedAt: Date?
    public var ledger: [LedgerEntry]
}

public struct OutcomeView: Codable, Sendable {
    public var id: UUID
    public var title: String
    public var level: Outcome.Level
    public var parentId: UUID?
    public var slug: String
    public var indicators: [Indicator]
    /// Its indicators' measurements, newest first.
    public var measurements: [Measurement]
}

public struct NeedView: Codable, Sendable {
    public var need: Need
    public var reference: String
    public var locality: String
    public var recordedByUsername: String?
    public var evidence: [Evidence]

    enum CodingKeys: String, CodingKey { case reference, locality, recordedByUsername, evidence }

    /// The need's own fields at the top level, with the joined names beside them.
    public func encode(to encoder: any Encoder) throws {
        try need.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(reference, forKey: .reference)
        try container.encode(locality, forKey: .locality)
        try container.encode(recordedByUsername, forKey: .recordedByUsername)
        try container.encode(evidence, forKey: .evidence)
    }

    public init(from decoder: any Decoder) throws {
        need = try Need(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        reference = try container.decode(String.self, forKey: .reference)
        locality = try container.decode(String.self, forKey: .locality)
        recordedByUsername = try container.decodeIfPresent(String.self, forKey: .recordedByUsername)
        evidence = try container.decode([Evidence].self, forKey: .evidence)
    }

    init(need: Need, locality: String, recordedByUsername: String?, evidence: [Evidence]) {
        self.need = need
        self.reference = need.id.shortReference
        self.locality = locality
        self.recordedByUsername = recordedByUsername
        self.evidence = evidence
    }
}

public struct ProposalView: Codable, Sendable {
    public var proposal: Proposal
    public var reference: String
    public var budget: String
    public var organisation: String
    public var locality: String
    public var needIds: [UUID]
    public var outcomeIds: [UUID]

    enum CodingKeys: String, CodingKey { case reference, budget, organisation, locality, needIds, outcomeIds }

    public func encode(to encoder: any Encoder) throws {
        try proposal.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(reference, forKey: .reference)
        try container.encode(budget, forKey: .budget)
        try container.encode(organisation, forKey: .organisation)
        try container.encode(locality, forKey: .locality)
        try container.encode(needIds, forKey: .needIds)
        try container.encode(outcomeIds, forKey: .outcomeIds)
    }

    public init(from decoder: any Decoder) throws {
        proposal = try Proposal(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        reference = try container.decode(String.self, forKey: .reference)
        budget = try container.decode(String.self, forKey: .budget)
        organisation = try container.decode(String.self, forKey: .organisation)
        locality = try container.decode(String.self, forKey: .locality)
        needIds = try container.decode([UUID].self, forKey: .needIds)
        outcomeIds = try container.decode([UUID].self, forKey: .outcomeIds)
    }

    init(proposal: Proposal, budget: String, organisation: String, locality: String, needIds: [UUID], outcomeIds: [UUID]) {
        self.proposal = proposal
        self.reference = proposal.id.shortReference
        self.budget = budget
        self.organisation = organisation
        self.locality = locality
        self.needIds = needIds
        self.outcomeIds = outcomeIds
    }
}

extension Replica {
    public func whoami() throws -> WhoAmI {
        try read { db in
            let state = try ReplicaState.load(db)
            let actor = try Actor.load(db, personId: state.personId)
            let pending = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") ?? 0
            return WhoAmI(
                id: actor.person.id, username: actor.person.username, displayName: actor.person.displayName,
                roles: Array(Set(actor.roles.map(\.role))).sorted { $0.rawValue < $1.rawValue },
                wards: try actor.wardIds.compactMap { try Locality.find(db, id: $0) },
                organisations: try actor.organisationIds.compactMap { try Organisation.find(db, id: $0) }
                    .sorted { $0.name < $1.name },
                deviceId: state.deviceId, origin: state.origin, pendingMutations: pending,
                lastSequence: try ReplicaState.counters(state, db).sequence)
        }
    }

    /// The locality tree, depth first, children in name order.
    public func localityTree() throws -> [LocalityNode] {
        try read { db in
            let all = try Locality.fetchAll(db, sql: "SELECT * FROM locality ORDER BY name")
            let children = Dictionary(grouping: all, by: \.parentId)
            var nodes: [LocalityNode] = []
            func visit(_ parent: UUID?, depth: Int) {
                for locality in children[parent] ?? [] {
                    nodes.append(LocalityNode(locality: locality, depth: depth))
                    visit(locality.id, depth: depth + 1)
                }
            }
            visit(nil, depth: 0)
            return nodes
        }
    }

    public func organisations() throws -> [OrganisationView] {
        try read { db in
            try Organisation.fetchAll(db, sql: "SELECT * FROM organisation ORDER BY name").map { org in
                let names = try org.servedLocalities(db).map(\.name)
                return OrganisationView(
                    id: org.id, name: org.name, kind: org.kind, orgIdentifier: org.orgIdentifier, slug: org.slug,
                    localities: names, contact: org.contact)
            }
        }
    }

    public func budgets() throws -> [BudgetView] {
        try read { db in
            try Budget.fetchAll(db, sql: "SELECT * FROM budget ORDER BY financial_year DESC, name").map {
                try Self.budgetView($0, db)
            }
        }
    }

    public func budget(_ ref: String) throws -> BudgetView {
        try read { db in try Self.budgetView(try References.budget(ref, db), db) }
    }

    static func budgetView(_ budget: Budget, _ db: Database) throws -> BudgetView {
        let position = try BudgetPosition.of(budget: budget.id, in: db)
        let ledger = try LedgerEntry.fetchAll(
            db, sql: "SELECT * FROM ledger_entry WHERE budget_id = ? ORDER BY recorded_at, id", arguments: [budget.id.key])
        return BudgetView(
            id: budget.id, name: budget.name, slug: budget.slug, financialYear: budget.financialYear,
            localityId: budget.localityId, locality: try Lookup.locality(budget.localityId, db).name,
            allocated: position.allocated, committed: position.committed, available: position.available, paid: position.paid,
            closedAt: budget.closedAt, ledger: ledger)
    }

    public func outcomes() throws -> [OutcomeView] {
        try read { db in
            let indicators = Dictionary(
                grouping: try Indicator.fetchAll(db, sql: "SELECT * FROM indicator ORDER BY name"), by: \.outcomeId)
            let measurements = Dictionary(
                grouping: try Measurement.fetchAll(db, sql: "SELECT * FROM measurement ORDER BY measured_on DESC, recorded_at DESC"),
                by: \.indicatorId)
            return try Outcome.fetchAll(db, sql: "SELECT * FROM outcome ORDER BY title")
                .sorted { $0.level.rank < $1.level.rank }
                .map { outcome in
                    let own = indicators[outcome.id] ?? []
                    return OutcomeView(
                        id: outcome.id, title: outcome.title, level: outcome.level, parentId: outcome.parentId, slug: outcome.slug,
                        indicators: own, measurements: own.flatMap { measurements[$0.id] ?? [] })
                }
        }
    }

    /// Needs, newest first; within `localityRef` (and everything below it) and of `status` when given.
    public func needs(localityRef: String? = nil, status: Need.Status? = nil, recordedBy: UUID? = nil) throws -> [NeedView] {
        try read { db in
            var sql = "SELECT * FROM need WHERE 1 = 1"
            var arguments = StatementArguments()
            if let localityRef {
                let locality = try References.locality(localityRef, db)
                sql += """
                     AND locality_id IN (
                        WITH RECURSIVE down(id) AS (
                            SELECT ?
                            UNION SELECT locality.id FROM locality JOIN down ON locality.parent_id = down.id
                            UNION SELECT locality.id FROM locality, json_each(locality.also_within) AS other JOIN down ON other.value = down.id)
                        SELECT id FROM down)
                    """
                arguments += [locality.id.key]
            }
            if let status {
                sql += " AND status = ?"
                arguments += [status.rawValue]
            }
            if let recordedBy {
                sql += " AND recorded_by = ?"
                arguments += [recordedBy.key]
            }
            sql += " ORDER BY recorded_at DESC, id DESC"
            return try Need.fetchAll(db, sql: sql, arguments: arguments).map { try Self.needView($0, db) }
        }
    }

    public func need(_ ref: String) throws -> NeedView {
        try read { db in try Self.needView(try References.need(ref, db), db) }
    }

    static func needView(_ need: Need, _ db: Database) throws -> NeedView {
        NeedView(
            need: need, locality: try Lookup.locality(need.localityId, db).name,
            recordedByUsername: try Person.find(db, id: need.recordedBy)?.username,
            evidence: try Evidence.fetchAll(
                db, sql: "SELECT * FROM need_evidence WHERE need_id = ? ORDER BY observed_on, added_at, id",
                arguments: [need.id.key]))
    }

    /// Proposals, newest first; only those of `organisationIds` when given.
    public func proposals(organisationIds: Set<UUID>? = nil) throws -> [ProposalView] {
        try read { db in
            try Proposal.fetchAll(db, sql: "SELECT * FROM proposal ORDER BY created_at DESC, id DESC")
                .filter { organisationIds?.contains($0.organisationId) ?? true }
                .map { try Self.proposalView($0, db) }
        }
    }

    public func proposal(_ ref: String) throws -> ProposalView {
        try read { db in try Self.proposalView(try References.proposal(ref, db), db) }
    }

    static func proposalView(_ proposal: Proposal, _ db: Database) throws -> ProposalView {
        ProposalView(
            proposal: proposal,
            budget: try Lookup.budget(proposal.budgetId, db).name,
            organisation: try Lookup.organisation(proposal.organisationId, db).name,
            locality: try Lookup.locality(proposal.localityId, db).name,
            needIds: try String.fetchAll(
                db, sql: "SELECT need_id FROM proposal_need WHERE proposal_id = ? ORDER BY need_id",
                arguments: [proposal.id.key]
            ).compactMap(UUID.init(key:)),
            outcomeIds: try String.fetchAll(
                db, sql: "SELECT outcome_id FROM proposal_outcome WHERE proposal_id = ? ORDER BY outcome_id",
                arguments: [proposal.id.key]
            ).compactMap(UUID.init(key:)))
    }
}
