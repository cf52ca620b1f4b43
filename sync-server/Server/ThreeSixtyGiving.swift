import Foundation
import GRDB
import LocalityCore

/// Who publishes: the council, with its registered 360Giving prefix and org-id.
public struct GrantPublisher: Sendable {
    public var name: String
    public var orgId: String
    /// The council's `360G-…` prefix: grant ids, and ids for groups with no registered number.
    public var prefix: String

    public init(name: String, orgId: String, prefix: String) {
        self.name = name
        self.orgId = orgId
        self.prefix = prefix
    }

    /// The demo council's, made up like everything in it.
    public static let demo = GrantPublisher(name: "Marcher County Council", orgId: "GB-LAE-MAR", prefix: "360G-marcher")
}

/// Every award as a 360Giving grant (data standard 1.4), in a 360Giving JSON package. Only what a
/// funder publishes: the award, its recipient, where, under which programme, towards which
/// outcome, and the payments made — never needs, drafts, scores, declarations, ballots or bank
/// details.
public enum ThreeSixtyGiving {
    public static let licence = "https://creativecommons.org/licenses/by/4.0/"

    /// `now` dates the package; without one, it is dated by its latest grant's `dateModified`, so
    /// that the same data is the same bytes (and a refresh of the served file costs a 304).
    public static func package(_ db: Database, publisher: GrantPublisher, year: FinancialYear? = nil, now: Date?) throws -> JSONValue {
        var sql = "SELECT award.* FROM award JOIN budget ON budget.id = award.budget_id"
        var arguments = StatementArguments()
        if let year {
            sql += " WHERE budget.financial_year = ?"
            arguments += [year.description]
        }
        let awards = try Award.fetchAll(db, sql: sql + " ORDER BY award.created_at, award.id", arguments: arguments)
        let grants = try awards.map { try grant($0, publisher: publisher, db) }
        let now = now ?? grants.compactMap { grant -> Date? in
            guard case .object(let fields) = grant, case .string(let modified)? = fields["dateModified"] else { return nil }
            return Timestamps.parse(modified)
        }.max() ?? Date(timeIntervalSince1970: 0)
        return [
            "version": "1.4",
            "title": .string("\(publisher.name): locality grants" + (year.map { " \($0)" } ?? "")),
            "identifier": .string("\(publisher.prefix)-locality-grants" + (year.map { "-\($0.startYear)" } ?? "")),
            "issued": .string(Timestamps.format(now)),
            "modified": .string(Timestamps.format(now)),
            "license": .string(licence),
            "publisher": ["name": .string(publisher.name), "identifier": .string(publisher.orgId)],
            "grants": .array(grants),
        ]
    }

    /// Pence as pounds, exactly: 450000 → 4500, 12345 → 123.45.
    static func pounds(_ money: Money) -> JSONValue {
        money.pence % 100 == 0 ? .int(money.pence / 100) : .double(Double(money.pence) / 100)
    }

    static func grant(_ award: Award, publisher: GrantPublisher, _ db: Database) throws -> JSONValue {
        let proposal = try Proposal.find(db, id: award.proposalId)
        let budget = try Budget.find(db, id: award.budgetId)
        let organisation = try Organisation.find(db, id: award.organisationId)
        let round = try proposal?.roundId.flatMap { try Round.find(db, id: $0) }
        let payments = try LedgerEntry.fetchAll(
            db, sql: "SELECT * FROM ledger_entry WHERE award_id = ? AND kind IN ('payment', 'clawback') ORDER BY recorded_at, id",
            arguments: [award.id.key])
        let paid = payments.reduce(Money.zero) { $0 + ($1.kind == .payment ? $1.amount : Money.zero - $1.amount) }
        var modified = award.createdAt
        for payment in payments where payment.recordedAt > modified { modified = payment.recordedAt }

        var recipient: [String: JSONValue] = ["name": .string(organisation?.name ?? award.title)]
        if let identifier = organisation?.orgIdentifier {
            recipient["id"] = .string(identifier)
            if identifier.hasPrefix("GB-CHC-") { recipient["charityNumber"] = .string(String(identifier.dropFirst(7))) }
            if identifier.hasPrefix("GB-COH-") { recipient["companyNumber"] = .string(String(identifier.dropFirst(7))) }
        } else {
            // A group with no registered number: an identifier under the funder's own prefix, as 360Giving advises.
            recipient["id"] = .string("\(publisher.prefix)-org-\(organisation?.slug ?? award.organisationId.key)")
        }
        var grant: [String: JSONValue] = [
            "id": .string("\(publisher.prefix)-\(award.id.key)"),
            "title": .string(award.title),
            "description": .string(proposal.map { $0.summary.isEmpty ? $0.title : $0.summary } ?? award.title),
            "currency": "GBP",
            "amountAwarded": pounds(award.amount),
            "amountDisbursed": pounds(paid),
            "awardDate": .string(Timestamps.day(award.createdAt)),
            "plannedDates": [["startDate": .string(award.startsOn), "endDate": .string(award.endsOn)]],
            "recipientOrganization": [.object(recipient)],
            "fundingOrganization": [["id": .string(publisher.orgId), "name": .string(publisher.name)]],
            "fromOpenCall": round == nil ? "No" : "Yes",
            "dateModified": .string(Timestamps.format(modified)),
        ]
        if let proposal { grant["amountAppliedFor"] = pounds(proposal.amountRequested) }
        if let round {
            grant["grantProgramme"] = [["code": .string(round.id.key), "title": .string(round.title)]]
        } else if let budget {
            grant["grantProgramme"] = [["code": .string(budget.slug), "title": .string(budget.name)]]
        }
        if let proposal {
            let places = try Locality.ancestorIDs(of: proposal.localityId, in: db).compactMap { try Locality.find(db, id: $0) }
            let located = places.compactMap { place -> JSONValue? in
                guard let code = place.gssCode, let type = geoCodeType(code) else { return nil }
                return ["name": .string(place.name), "geoCode": .string(code), "geoCodeType": .string(type), "countryCode": "GB"]
            }
            if !located.isEmpty { grant["beneficiaryLocation"] = .array(located) }
            let outcomes = try Outcome.fetchAll(
                db,
                sql: """
                    SELECT outcome.* FROM outcome WHERE id IN (
                        SELECT outcome_id FROM proposal_outcome WHERE proposal_id = ?
                        UNION SELECT need.outcome_id FROM proposal_need JOIN need ON need.id = proposal_need.need_id
                        WHERE proposal_need.proposal_id = ? AND need.outcome_id IS NOT NULL)
                    ORDER BY title
                    """, arguments: [proposal.id.key, proposal.id.key])
            if !outcomes.isEmpty {
                grant["classifications"] = .array(outcomes.map {
                    ["vocabulary": .string("\(publisher.prefix)-outcomes"), "code": .string($0.slug), "title": .string($0.title)]
                })
            }
        }
        if !payments.isEmpty {
            grant["disbursementTransaction"] = .array(payments.map { entry in
                [
                    "id": .string("\(publisher.prefix)-\(entry.id.key)"),
                    "transactionDate": .string(Timestamps.day(entry.recordedAt)),
                    "value": pounds(entry.kind == .payment ? entry.amount : Money.zero - entry.amount),
                    "currency": "GBP",
                ]
            })
        }
        return .object(grant)
    }

    /// The 360Giving geoCodeType of an ONS GSS code, by its entity (the three characters after the country).
    static func geoCodeType(_ code: String) -> String? {
        guard code.count == 9 else { return nil }
        switch code.dropFirst(1).prefix(2) {
        case "04": return "PAR"
        case "05", "58": return "WD"
        case "06": return "UA"
        case "07": return "NMD"
        case "08": return "MD"
        case "09": return "LONB"
        case "10": return "CTY"
        default: return nil
        }
    }
}

extension SQLiteSyncStore {
    /// Who publishes this server's grants: the council set up here (its org-id, and the 360Giving
    /// prefix given now or at set-up), or the demo council's made-up one.
    public func grantPublisher(prefix given: String?) throws -> GrantPublisher {
        let council = try publishingCouncil()
        guard let row = council.row else {
            var demo = GrantPublisher.demo
            if let given { demo.prefix = given }
            return demo
        }
        guard let prefix = given ?? row["grant_prefix"] else {
            throw LocalityError.invalidInput("give the council's registered 360Giving prefix with --prefix 360G-…")
        }
        return GrantPublisher(name: council.name, orgId: council.orgId, prefix: prefix)
    }

    /// The council that publishes: the one set up here (its row, needing an org-id), or the demo
    /// council (no row).
    func publishingCouncil() throws -> (name: String, orgId: String, row: Row?) {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM council WHERE id = 1") else {
                guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM locality WHERE id = ?)", arguments: [DemoCouncil.localities[0].id.key]) == true
                else { throw LocalityError.invalidInput("no council is set up here: run `locality-sync council init` first") }
                return (GrantPublisher.demo.name, GrantPublisher.demo.orgId, nil)
            }
            guard let orgId: String = row["org_id"] else {
                throw LocalityError.invalidInput("the council has no org-id; open data needs it as the publisher's identifier (council init --org-id)")
            }
            return (row["name"], orgId, row)
        }
    }

    /// The package at `/open-data/360giving.json`: with the council's stored prefix, or nil until one is set.
    public func publishedGrants() async throws -> JSONValue? {
        guard let publisher = try? grantPublisher(prefix: nil) else { return nil }
        return try await database.read { db in try ThreeSixtyGiving.package(db, publisher: publisher, now: nil) }
    }

    /// The 360Giving package of this server's awards.
    public func threeSixtyGiving(prefix: String?, year: FinancialYear?, now: Date) throws -> JSONValue {
        let publisher = try prefix.map(rememberGrantPrefix) ?? grantPublisher(prefix: nil)
        return try database.read { db in try ThreeSixtyGiving.package(db, publisher: publisher, year: year, now: now) }
    }

    /// Checks a 360Giving prefix and keeps it as the council's (the demo council keeps none);
    /// answers who publishes with it.
    @discardableResult
    public func rememberGrantPrefix(_ prefix: String) throws -> GrantPublisher {
        guard prefix.hasPrefix("360G-"), prefix.count > 5, prefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw LocalityError.invalidInput("'\(TerminalText.safe(prefix))' is not a 360Giving prefix: they look like 360G-shropshire")
        }
        let publisher = try grantPublisher(prefix: prefix)
        if try database.read({ db in try db.tableExists("council") }) {
            try database.write { db in
                try db.execute(sql: "UPDATE council SET grant_prefix = ? WHERE id = 1", arguments: [publisher.prefix])
            }
        }
        return publisher
    }
}
