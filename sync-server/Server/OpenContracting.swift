import Foundation
import GRDB
import LocalityCore

/// Who publishes contracting data: the council, with its registered OCID prefix and org-id.
public struct ContractingPublisher: Sendable {
    public var name: String
    public var orgId: String
    /// The council's `ocds-xxxxxx` prefix, registered with the Open Contracting Partnership.
    public var ocidPrefix: String

    public init(name: String, orgId: String, ocidPrefix: String) {
        self.name = name
        self.orgId = orgId
        self.ocidPrefix = ocidPrefix
    }

    /// The demo council's, made up like everything in it.
    public static let demo = ContractingPublisher(name: GrantPublisher.demo.name, orgId: GrantPublisher.demo.orgId, ocidPrefix: "ocds-marchr")

    /// A registered OCID prefix: `ocds-` and six letters or digits.
    public static func isPrefix(_ text: String) -> Bool {
        text.hasPrefix("ocds-") && text.count == 11 && text.dropFirst(5).allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) }
    }
}

/// Every strategic commission that has reached tender (stage 5, sourcing providers) as an OCDS
/// 1.1.5 contracting process: a release for each change of stage (planning → tender → award and
/// contract → implementation → termination) and one for each payment, dated when it happened, each
/// holding what was known then. The options appraisal goes in the planning section; the risk
/// register, assessors' scores, drafts and withdrawn bids are never published.
public enum OpenContracting {
    public static let licence = ThreeSixtyGiving.licence

    /// `now` dates the package; without one, it is dated by its latest release, so that the same
    /// data is the same bytes (and a refresh of the served file costs a 304).
    public static func package(_ db: Database, publisher: ContractingPublisher, now: Date?) throws -> JSONValue {
        let commissions = try Commission.fetchAll(db, sql: "SELECT * FROM commission WHERE stage >= 5 ORDER BY created_at, id")
        var releases: [JSONValue] = []
        for commission in commissions { releases += try self.releases(commission, publisher: publisher, db) }
        let now = now ?? releases.compactMap { release -> Date? in
            guard case .object(let fields) = release, case .string(let date)? = fields["date"] else { return nil }
            return Timestamps.parse(date)
        }.max() ?? Date(timeIntervalSince1970: 0)
        var publisherJSON: [String: JSONValue] = ["name": .string(publisher.name)]
        if let (scheme, id) = split(publisher.orgId) {
            publisherJSON["scheme"] = .string(scheme)
            publisherJSON["uid"] = .string(id)
        }
        return [
            "uri": .string("urn:\(publisher.ocidPrefix):locality-commissions"),
            "version": "1.1",
            "publishedDate": .string(Timestamps.format(now)),
            "publisher": .object(publisherJSON),
            "license": .string(licence),
            "releases": .array(releases),
        ]
    }

    /// An event in a commission's life that gets a release: entering a stage, closing, or a payment.
    struct Event {
        var at: Date
        var stage: Int
        var closed: Bool
        var tag: [String]
        var payment = false
    }

    static func releases(_ commission: Commission, publisher: ContractingPublisher, _ db: Database) throws -> [JSONValue] {
        let ocid = "\(publisher.ocidPrefix)-\(commission.id.key)"
        // Stage changes, from the audit trail (each dated when the mutation was made).
        var events: [Event] = []
        // Entries made before they carried the mutation's own time ("at") are dated when recorded.
        for row in try Row.fetchAll(
            db, sql: "SELECT detail, recorded_at FROM audit_entry WHERE record_type = 'commission' AND record_id = ? ORDER BY sequence",
            arguments: [commission.id.key])
        {
            guard case .object(let fields)? = try? JSONParser.parse(row["detail"]), case .int(let stage)? = fields["to"] ?? fields["stage"]
            else { continue }
            var stamp: String = row["recorded_at"]
            if case .string(let at)? = fields["at"] { stamp = at }
            guard let date = Timestamps.parse(stamp) else { continue }
            let closed = fields["status"] == .string(Commission.Status.closed.rawValue)
            events.append(Event(at: date, stage: Int(stage), closed: closed, tag: tag(entering: Int(stage), closed: closed)))
        }
        if events.isEmpty {
            // Made before stage changes were recorded: one release for where it stands.
            events.append(Event(
                at: commission.updatedAt, stage: commission.stage, closed: commission.status == .closed,
                tag: tag(entering: commission.stage, closed: commission.status == .closed)))
        }
        let award = try commission.awardId.flatMap { try Award.find(db, id: $0) }
        let payments = try award.map {
            try LedgerEntry.fetchAll(
                db, sql: "SELECT * FROM ledger_entry WHERE award_id = ? AND kind IN ('payment', 'clawback') ORDER BY recorded_at, id",
                arguments: [$0.id.key])
        } ?? []
        for (index, payment) in payments.enumerated() {
            let stage = events.last(where: { $0.at <= payment.recordedAt })?.stage ?? commission.stage
            events.append(Event(
                at: payment.recordedAt, stage: max(stage, 6), closed: false, tag: [index == 0 ? "implementation" : "implementationUpdate"],
                payment: true))
        }
        events.sort { $0.at < $1.at }

        let context = try Context(commission: commission, award: award, payments: payments, publisher: publisher, db)
        return events.enumerated().map { index, event in
            context.release(ocid: ocid, id: "\(ocid)-\(index + 1)-\(event.tag[0])", event: event, stageStarts: events)
        }
    }

    static func tag(entering stage: Int, closed: Bool) -> [String] {
        if closed { return ["contractTermination"] }
        switch stage {
        case ...1: return ["planning"]
        case 2...4: return ["planningUpdate"]
        case 5: return ["tender"]
        case 6: return ["tenderUpdate"]
        case 7: return ["award", "contract"]
        default: return ["implementationUpdate"]
        }
    }

    /// `GB-CHC-1099901` → (`GB-CHC`, `1099901`): an org-id's register and its identifier there.
    static func split(_ orgId: String) -> (String, String)? {
        let parts = orgId.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[2].isEmpty else { return nil }
        return ("\(parts[0])-\(parts[1])", String(parts[2]))
    }

    /// What a commission's releases are made of, read once.
    struct Context {
        var commission: Commission
        var award: Award?
        var decision: Decision?
        var payments: [LedgerEntry]
        var publisher: ContractingPublisher
        var bids: [(proposal: Proposal, organisation: Organisation)]
        var options: [CommissionOption]
        var budget: Budget?

        init(commission: Commission, award: Award?, payments: [LedgerEntry], publisher: ContractingPublisher, _ db: Database) throws {
            self.commission = commission
            self.award = award
            self.payments = payments
            self.publisher = publisher
            decision = try award.flatMap { try Decision.find(db, id: $0.decisionId) }
            // Bids that were put forward: never drafts or withdrawn ones.
            bids = try Round.ids(commission.proposalIds).compactMap { id in
                guard let proposal = try Proposal.find(db, id: id), proposal.status != .draft, proposal.status != .withdrawn,
                    let organisation = try Organisation.find(db, id: proposal.organisationId)
                else { return nil }
                return (proposal, organisation)
            }
            options = try CommissionOption.fetchAll(
                db, sql: "SELECT * FROM commission_option WHERE commission_id = ? ORDER BY score DESC, id", arguments: [commission.id.key])
            budget = try (award?.budgetId ?? bids.first?.proposal.budgetId).flatMap { try Budget.find(db, id: $0) }
        }

        func party(_ organisation: Organisation) -> (id: String, json: [String: JSONValue]) {
            var json: [String: JSONValue] = ["name": .string(organisation.name)]
            let id: String
            if let orgId = organisation.orgIdentifier, let (scheme, local) = OpenContracting.split(orgId) {
                id = orgId
                json["identifier"] = ["scheme": .string(scheme), "id": .string(local), "legalName": .string(organisation.name)]
            } else {
                id = "\(publisher.ocidPrefix)-org-\(organisation.slug)"
            }
            json["id"] = .string(id)
            return (id, json)
        }

        func release(ocid: String, id: String, event: Event, stageStarts: [Event]) -> JSONValue {
            let at = event.at
            func entered(_ stage: Int) -> Date? { stageStarts.first(where: { $0.stage >= stage && !$0.payment })?.at }
            let buyer: JSONValue = ["id": .string(publisher.orgId), "name": .string(publisher.name)]
            var parties: [String: [String: JSONValue]] = [:]
            var roles: [String: [String]] = [:]
            parties[publisher.orgId] = ["id": .string(publisher.orgId), "name": .string(publisher.name)]
            if let (scheme, local) = OpenContracting.split(publisher.orgId) {
                parties[publisher.orgId]?["identifier"] = ["scheme": .string(scheme), "id": .string(local), "legalName": .string(publisher.name)]
            }
            roles[publisher.orgId] = ["buyer", "procuringEntity"]

            var planning: [String: JSONValue] = [:]
            // Each part as it was known then: the priority once the stage that records it is over
            // (stage 3 on), the options appraisal once specified (stage 5 on).
            var rationale = event.stage >= 3 ? commission.priorityReason : ""
            if event.stage >= 5, !options.isEmpty {
                let appraisal = options.map { option in
                    let notes = option.notes.isEmpty || option.notes.hasSuffix(".") ? option.notes : option.notes + "."
                    return "\(option.deliveryModel.rawValue) scored \(option.score) of 100\(option.chosen ? " (chosen)" : "")\(notes.isEmpty ? "." : ": " + notes)"
                }.joined(separator: " ")
                rationale += (rationale.isEmpty ? "" : " ") + "Options appraisal: \(appraisal)"
                planning["optionsAppraisal"] = .array(options.map {
                    ["deliveryModel": .string($0.deliveryModel.rawValue), "score": .int(Int64($0.score)), "chosen": .bool($0.chosen), "notes": .string($0.notes)]
                })
            }
            if !rationale.isEmpty { planning["rationale"] = .string(rationale) }
            if let budget { planning["budget"] = ["id": .string(budget.slug), "description": .string(budget.name)] }

            var release: [String: JSONValue] = [
                "ocid": .string(ocid), "id": .string(id), "date": .string(Timestamps.format(at)), "tag": .array(event.tag.map(JSONValue.string)),
                "initiationType": "tender", "language": "en", "buyer": buyer,
            ]
            if !planning.isEmpty { release["planning"] = .object(planning) }

            if event.stage >= 5 {
                let received = bids.filter { ($0.proposal.submittedAt ?? $0.proposal.createdAt) <= at }
                var tenderers: [JSONValue] = []
                for bid in received {
                    let (partyId, json) = party(bid.organisation)
                    parties[partyId] = parties[partyId] ?? json
                    roles[partyId, default: []].append("tenderer")
                    tenderers.append(["id": .string(partyId), "name": .string(bid.organisation.name)])
                }
                var tender: [String: JSONValue] = [
                    "id": .string("\(commission.id.key)-tender"), "title": .string(commission.title),
                    "status": event.stage == 5 ? "active" : "complete", "procuringEntity": buyer, "procurementMethod": "open",
                    "procurementMethodDetails": "Bids invited against the specification through the locality fund's open call",
                    "mainProcurementCategory": "services", "numberOfTenderers": .int(Int64(tenderers.count)),
                ]
                if !commission.specification.isEmpty { tender["description"] = .string(commission.specification) }
                if !tenderers.isEmpty { tender["tenderers"] = .array(tenderers) }
                var period: [String: JSONValue] = [:]
                if let start = entered(5) { period["startDate"] = .string(Timestamps.format(start)) }
                if event.stage >= 6, let end = entered(6) { period["endDate"] = .string(Timestamps.format(end)) }
                if !period.isEmpty { tender["tenderPeriod"] = .object(period) }
                release["tender"] = .object(tender)
            }

            if event.stage >= 6, let award, award.createdAt <= at, let bid = bids.first(where: { $0.proposal.id == award.proposalId }) {
                let (supplierId, json) = party(bid.organisation)
                parties[supplierId] = parties[supplierId] ?? json
                roles[supplierId, default: []] += ["supplier", "payee"]
                roles[publisher.orgId, default: []].append("payer")
                let supplier: JSONValue = ["id": .string(supplierId), "name": .string(bid.organisation.name)]
                let value: JSONValue = ["amount": ThreeSixtyGiving.pounds(award.amount), "currency": "GBP"]
                let period: JSONValue = ["startDate": .string(award.startsOn + "T00:00:00Z"), "endDate": .string(award.endsOn + "T23:59:59Z")]
                var awardJSON: [String: JSONValue] = [
                    "id": .string(award.id.key), "title": .string(award.title), "status": "active",
                    "date": .string(Timestamps.format(award.createdAt)), "value": value, "suppliers": [supplier], "contractPeriod": period,
                ]
                if let decision {
                    awardJSON["description"] = .string(
                        (decision.reasons.isEmpty ? "" : decision.reasons + ". ") + "Decided under: \(decision.authority).")
                }
                release["awards"] = [.object(awardJSON)]
                let paid = payments.filter { $0.recordedAt <= at }
                var contract: [String: JSONValue] = [
                    "id": .string("\(award.id.key)-contract"), "awardID": .string(award.id.key), "title": .string(award.title),
                    "status": event.closed ? "terminated" : "active", "dateSigned": .string(Timestamps.format(award.createdAt)),
                    "value": value, "period": period,
                ]
                if !paid.isEmpty {
                    contract["implementation"] = ["transactions": .array(paid.map { entry in
                        [
                            "id": .string(entry.id.key), "date": .string(Timestamps.format(entry.recordedAt)),
                            "value": ["amount": ThreeSixtyGiving.pounds(entry.kind == .payment ? entry.amount : Money.zero - entry.amount), "currency": "GBP"],
                            "payer": buyer, "payee": supplier,
                        ]
                    })]
                }
                release["contracts"] = [.object(contract)]
            }
            release["parties"] = .array(parties.keys.sorted().map { key in
                var party = parties[key]!
                var seen = Set<String>()
                party["roles"] = .array((roles[key] ?? []).filter { seen.insert($0).inserted }.map(JSONValue.string))
                return .object(party)
            })
            return .object(release)
        }
    }
}

extension SQLiteSyncStore {
    /// Who publishes this server's contracting processes: the council set up here (its org-id and
    /// the OCID prefix given now or before), or the demo council's made-up one.
    public func contractingPublisher(prefix given: String?) throws -> ContractingPublisher {
        if let given, !ContractingPublisher.isPrefix(given) {
            throw LocalityError.invalidInput("'\(TerminalText.safe(given))' is not an OCID prefix: they look like ocds-213czf")
        }
        let council = try publishingCouncil()
        let stored: String? = council.row?["ocid_prefix"]
        guard let prefix = given ?? stored ?? (council.row == nil ? ContractingPublisher.demo.ocidPrefix : nil) else {
            throw LocalityError.invalidInput("give the council's registered OCID prefix with --prefix ocds-…")
        }
        if let given, given != stored {
            try database.write { db in
                try db.execute(sql: "UPDATE council SET ocid_prefix = ? WHERE id = 1", arguments: [given])
            }
        }
        return ContractingPublisher(name: council.name, orgId: council.orgId, ocidPrefix: prefix)
    }

    /// The OCDS release package of this server's commissions.
    public func openContracting(prefix: String?, now: Date) throws -> JSONValue {
        let publisher = try contractingPublisher(prefix: prefix)
        return try database.read { db in try OpenContracting.package(db, publisher: publisher, now: now) }
    }

    /// The package at `/open-data/ocds.json`: nil until the council has an OCID prefix.
    public func publishedContracts() async throws -> JSONValue? {
        guard let publisher = try? contractingPublisher(prefix: nil) else { return nil }
        return try await database.read { db in try OpenContracting.package(db, publisher: publisher, now: nil) }
    }
}
