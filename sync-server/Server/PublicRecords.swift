import Crypto
import Foundation
import GRDB
import LocalityCore

/// What the public side of the server serves, by address.
public enum PublicResource: Sendable, Hashable {
    case index
    case place(String)
    case decisions(page: Int)
    case awards(page: Int)
    case vote(String)
    case openData
    /// `/open-data/360giving.json`, `/open-data/ocds.json`, `/open-data/votes/ID.pb`.
    case grants, contracts, pabulib(String)
}

/// A public page (HTML with its JSON twin) or a published file.
public enum PublicContent: Sendable {
    case page(html: String, json: JSONValue)
    case file(bytes: [UInt8], contentType: String, filename: String)
}

/// The council-wide lists — every decision, every award — one vote and its count, and the open
/// data files with their licence. Built on the same pieces as a place's page.
extension PublicPages {
    static let pageSize = 50

    /// Decisions on proposals put forward (never drafts or withdrawn ones), newest first.
    static func decisions(where filter: String, _ arguments: StatementArguments, limit: Int, offset: Int = 0, _ db: Database) throws
        -> (html: String, json: [JSONValue], more: Bool)
    {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT decision.outcome, decision.amount, decision.reasons, decision.authority, decision.decided_at, decision.scheme_version,
                    proposal.title, proposal.amount_requested, locality.name AS place, locality.slug
                FROM decision JOIN proposal ON proposal.id = decision.proposal_id JOIN locality ON locality.id = proposal.locality_id
                WHERE proposal.status NOT IN ('draft', 'withdrawn') AND \(filter)
                ORDER BY decision.decided_at DESC, decision.id LIMIT ? OFFSET ?
                """, arguments: arguments + [limit + 1, offset])
        guard !rows.isEmpty else { return ("<p>No decisions yet.</p>\n", [], false) }
        var html = "<ul>\n"
        var json: [JSONValue] = []
        for decision in rows.prefix(limit) {
            let outcome = Decision.Outcome(rawValue: text(decision, "outcome"))?.label ?? text(decision, "outcome")
            let amount = (decision["amount"] as Int64?).map { " \(Money(pence: $0))" } ?? ""
            let day = (decision["decided_at"] as String?).flatMap(Timestamps.parse).map(Timestamps.day) ?? ""
            html += "<li><strong>\(escape(text(decision, "title")))</strong> (<a href=\"/places/\(escape(text(decision, "slug")))\">\(escape(text(decision, "place")))</a>): "
                + "\(escape(outcome))\(amount) on \(escape(day)). \(escape(sentence(text(decision, "reasons")))) "
                + "<small>Authority: \(escape(text(decision, "authority"))) (scheme of delegation, version \(decision["scheme_version"] as Int64? ?? 1)).</small></li>\n"
            json.append([
                "title": .string(text(decision, "title")), "place": .string(text(decision, "place")), "outcome": .string(text(decision, "outcome")),
                "amount": (decision["amount"] as Int64?).map(JSONValue.int) ?? .null, "decidedOn": .string(day),
                "reasons": .string(text(decision, "reasons")), "authority": .string(text(decision, "authority")),
                "schemeVersion": .int(decision["scheme_version"] as Int64? ?? 1),
            ])
        }
        return (html + "</ul>\n", json, rows.count > limit)
    }

    /// Awards, newest first, with their outcome indicators against target and the latest monitoring.
    static func awards(where filter: String, _ arguments: StatementArguments, limit: Int, offset: Int = 0, _ db: Database) throws
        -> (html: String, json: [JSONValue], more: Bool)
    {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT award.id, award.title, award.amount, award.status, award.starts_on, award.ends_on, organisation.name AS recipient,
                    proposal.summary, locality.name AS place, locality.slug,
                    (SELECT COALESCE(SUM(CASE kind WHEN 'payment' THEN amount WHEN 'clawback' THEN -amount ELSE 0 END), 0)
                     FROM ledger_entry WHERE award_id = award.id) AS paid
                FROM award JOIN proposal ON proposal.id = award.proposal_id JOIN organisation ON organisation.id = award.organisation_id
                JOIN locality ON locality.id = proposal.locality_id
                WHERE \(filter) ORDER BY award.created_at DESC, award.id LIMIT ? OFFSET ?
                """, arguments: arguments + [limit + 1, offset])
        guard !rows.isEmpty else { return ("<p>No awards yet.</p>\n", [], false) }
        var html = ""
        var json: [JSONValue] = []
        for award in rows.prefix(limit) {
            let awardId = text(award, "id")
            let indicators = try AwardIndicator.fetchAll(db, sql: "SELECT * FROM award_indicator WHERE award_id = ? ORDER BY name", arguments: [awardId])
            let reports = try MonitoringReport.fetchAll(
                db, sql: "SELECT * FROM monitoring_report WHERE award_id = ? ORDER BY period_end DESC, submitted_at DESC", arguments: [awardId])
            html += "<article>\n<h3>\(escape(text(award, "title")))</h3>\n"
                + "<p>To \(escape(text(award, "recipient"))) in <a href=\"/places/\(escape(text(award, "slug")))\">\(escape(text(award, "place")))</a>: "
                + "\(Money(pence: award["amount"])) awarded, \(Money(pence: award["paid"])) paid; runs \(escape(text(award, "starts_on"))) to \(escape(text(award, "ends_on")))"
                + "\(text(award, "status") == "closed" ? ", closed" : "").</p>\n<p>\(escape(text(award, "summary")))</p>\n"
            var indicatorsJSON: [JSONValue] = []
            if !indicators.isEmpty {
                html += "<ul>\n"
                for indicator in indicators {
                    let latest = MonitoringReport.latest(of: indicator.id, in: reports)
                    html += "<li>\(escape(indicator.name)): \(latest.map { figure($0) } ?? "not yet measured") against a target of "
                        + "\(figure(indicator.target)) \(escape(indicator.unit))\(indicator.baseline.map { " (baseline \(figure($0)))" } ?? "")</li>\n"
                    indicatorsJSON.append([
                        "name": .string(indicator.name), "unit": .string(indicator.unit), "target": .double(indicator.target),
                        "baseline": indicator.baseline.map(JSONValue.double) ?? .null, "latest": latest.map(JSONValue.double) ?? .null,
                    ])
                }
                html += "</ul>\n"
            }
            if let report = reports.first {
                html += "<p><small>Latest monitoring, to \(escape(report.periodEnd)):</small> \(escape(report.progress))</p>\n"
            }
            html += "</article>\n"
            json.append([
                "title": .string(text(award, "title")), "recipient": .string(text(award, "recipient")), "place": .string(text(award, "place")),
                "amount": .int(award["amount"]), "paid": .int(award["paid"]), "startsOn": .string(text(award, "starts_on")),
                "endsOn": .string(text(award, "ends_on")), "status": .string(text(award, "status")), "indicators": .array(indicatorsJSON),
                "latestMonitoring": reports.first.map { ["periodEnd": .string($0.periodEnd), "progress": .string($0.progress)] } ?? .null,
            ])
        }
        return (html, json, rows.count > limit)
    }

    /// Text ending as a sentence does.
    static func sentence(_ text: String) -> String {
        guard let last = text.last, !".!?".contains(last) else { return text }
        return text + "."
    }

    static func figure(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.1f", value)
    }

    static func pager(_ path: String, page: Int, more: Bool) -> String {
        guard page > 1 || more else { return "" }
        var links: [String] = []
        if page > 1 { links.append("<a href=\"\(path)?page=\(page - 1)\" rel=\"prev\">Newer</a>") }
        if more { links.append("<a href=\"\(path)?page=\(page + 1)\" rel=\"next\">Older</a>") }
        return "<nav aria-label=\"Pages\"><p>Page \(page). \(links.joined(separator: " · "))</p></nav>\n"
    }

    /// `/decisions`.
    static func decisionsPage(page: Int, _ db: Database) throws -> (html: String, json: JSONValue) {
        let list = try decisions(where: "1", [], limit: pageSize, offset: (page - 1) * pageSize, db)
        let body = "<p><a href=\"/\">All places</a></p>\n<h1>Decisions and why</h1>\n"
            + "<p>Every decision on a proposal put forward for funding, newest first, with its reasons and the authority it was taken under.</p>\n"
            + list.html + pager("/decisions", page: page, more: list.more)
        return (self.page(title: "Decisions", body: body, json: "/decisions?format=json&page=\(page)"), ["page": .int(Int64(page)), "decisions": .array(list.json)])
    }

    /// `/awards`.
    static func awardsPage(page: Int, _ db: Database) throws -> (html: String, json: JSONValue) {
        let list = try awards(where: "1", [], limit: pageSize, offset: (page - 1) * pageSize, db)
        let body = "<p><a href=\"/\">All places</a></p>\n<h1>What was funded</h1>\n"
            + "<p>Every award, newest first: to whom, how much, what has been paid, and how it is doing against its targets.</p>\n"
            + list.html + pager("/awards", page: page, more: list.more)
        return (self.page(title: "Awards", body: body, json: "/awards?format=json&page=\(page)"), ["page": .int(Int64(page)), "awards": .array(list.json)])
    }

    /// Residents' votes touching a place: on its funds or its ancestors', or with a project there.
    static func votes(touching within: String, _ arguments: StatementArguments, _ db: Database) throws -> [Vote] {
        try Vote.fetchAll(
            db,
            sql: """
                SELECT vote.* FROM vote JOIN round ON round.id = vote.round_id JOIN budget ON budget.id = round.budget_id
                WHERE budget.locality_id IN (\(within))
                   OR EXISTS (SELECT 1 FROM json_each(vote.proposal_ids) AS chosen JOIN proposal ON proposal.id = chosen.value
                              WHERE proposal.locality_id IN (\(within)))
                ORDER BY vote.closes_on DESC LIMIT 20
                """, arguments: arguments + arguments)
    }

    static func voteLine(_ vote: Vote) -> String {
        let state = vote.status == .closed ? "closed on \(vote.closesOn); see the result" : "open \(vote.opensOn) to \(vote.closesOn)"
        return "<li><a href=\"/votes/\(vote.id.key)\">\(escape(vote.title))</a>: \(escape(state)).</li>\n"
    }

    /// `/votes/ID`: the vote, and once it has closed, each project's result and the count's explanation.
    static func votePage(_ key: String, _ db: Database) throws -> (html: String, json: JSONValue)? {
        guard let id = UUID(uuidString: key), let vote = try Vote.find(db, id: id) else { return nil }
        let round = try Round.find(db, id: vote.roundId)
        var body = "<p><a href=\"/\">All places</a></p>\n<h1>\(escape(vote.title))</h1>\n"
        body += "<p>A residents' vote on \(vote.amount) from \(escape(round?.title ?? "a locality fund")), open \(escape(vote.opensOn)) to \(escape(vote.closesOn)), "
            + "counted by \(escape(vote.rule.rawValue)).</p>\n"
        var json: [String: JSONValue] = [
            "title": .string(vote.title), "amount": .int(vote.amount.pence), "opensOn": .string(vote.opensOn), "closesOn": .string(vote.closesOn),
            "rule": .string(vote.rule.rawValue), "status": .string(vote.status.rawValue),
        ]
        let proposals = try vote.ballotProposalIds.compactMap { try Proposal.find(db, id: $0) }
        if vote.status == .closed, let text = vote.result, let result = try? JSONCoding.decode(Allocation.self, from: Array(text.utf8)) {
            // The count works in pence.
            func money(_ pence: Rational) -> Money { Money(pence: Int64(pence.doubleValue.rounded())) }
            let counted = vote.ballotsCounted ?? 0
            body += "<p>\(counted) ballot\(counted == 1 ? " was" : "s were") counted. \(result.funded.count) of \(result.projects.count) projects are funded, "
                + "spending \(money(result.spent)) of \(money(result.budget)).</p>\n"
            body += "<table>\n<caption>Result, in the order the count chose</caption>\n<thead><tr><th scope=\"col\">Project</th><th scope=\"col\">Cost</th>"
                + "<th scope=\"col\">Votes</th><th scope=\"col\">Result</th></tr></thead>\n<tbody>\n"
            var projects: [JSONValue] = []
            for project in result.projects {
                let title = proposals.first { $0.id.key == project.id }?.title ?? project.id
                body += "<tr><td>\(escape(title))<br><small>\(escape(project.explanation))</small></td><td>\(money(project.cost))</td>"
                    + "<td>\(project.approvals)</td><td>\(project.funded ? "Funded" : "Not funded")</td></tr>\n"
                projects.append([
                    "title": .string(title), "cost": .int(money(project.cost).pence), "votes": .int(Int64(project.approvals)),
                    "funded": .bool(project.funded), "explanation": .string(project.explanation),
                ])
            }
            body += "</tbody>\n</table>\n<p>The anonymous ballots: <a href=\"/open-data/votes/\(vote.id.key).pb\">Pabulib file</a>.</p>\n"
            json["ballotsCounted"] = .int(Int64(vote.ballotsCounted ?? 0))
            json["projects"] = .array(projects)
        } else {
            body += "<p>Voting is \(vote.status == .closed ? "closed" : "open until \(escape(vote.closesOn))"). The result is published here when the count is done; "
                + "no running totals are shown.</p>\n<h2>On the ballot</h2>\n<ul>\n"
            for proposal in proposals { body += "<li>\(escape(proposal.title)), \(proposal.amountRequested)</li>\n" }
            body += "</ul>\n"
            json["projects"] = .array(proposals.map { ["title": .string($0.title), "cost": .int($0.amountRequested.pence)] })
        }
        return (page(title: vote.title, body: body, json: "/votes/\(vote.id.key)?format=json"), .object(json))
    }

    /// `/open-data`: the files, what each holds, and their licence.
    static func openDataPage(grants: Bool, contracts: Bool, _ db: Database) throws -> (html: String, json: JSONValue) {
        let closed = try Vote.fetchAll(db, sql: "SELECT * FROM vote WHERE status = 'closed' ORDER BY closes_on DESC")
        var body = "<p><a href=\"/\">All places</a></p>\n<h1>Open data</h1>\n"
        body += "<p>Everything here is published under the <a href=\"\(ThreeSixtyGiving.licence)\">Creative Commons Attribution 4.0</a> licence. "
            + "Nothing personal is published: no needs holding personal data, drafts, assessors' scores, declarations, ballots' voters or bank details.</p>\n<ul>\n"
        var files: [JSONValue] = []
        if grants {
            body += "<li><a href=\"/open-data/360giving.json\">Grants (360Giving 1.4 JSON)</a>: every award, its recipient, place, programme and payments.</li>\n"
            files.append(["url": "/open-data/360giving.json", "standard": "360Giving 1.4", "licence": .string(ThreeSixtyGiving.licence)])
        }
        if contracts {
            body += "<li><a href=\"/open-data/ocds.json\">Commissioning (OCDS 1.1 release package)</a>: each commission from planning to contract and payments.</li>\n"
            files.append(["url": "/open-data/ocds.json", "standard": "OCDS 1.1.5", "licence": .string(ThreeSixtyGiving.licence)])
        }
        for vote in closed {
            body += "<li><a href=\"/open-data/votes/\(vote.id.key).pb\">\(escape(vote.title)) (Pabulib)</a>: the projects, their results and the anonymous ballots.</li>\n"
            files.append(["url": .string("/open-data/votes/\(vote.id.key).pb"), "standard": "Pabulib", "licence": .string(ThreeSixtyGiving.licence)])
        }
        if files.isEmpty { body += "<li>Nothing is published yet.</li>\n" }
        body += "</ul>\n"
        return (page(title: "Open data", body: body, json: "/open-data?format=json"), ["files": .array(files)])
    }

    /// A closed vote's Pabulib file: the same bytes on every fetch, voters in an order nobody
    /// outside can reconstruct (shuffled by a digest of the ballots' own ids and voter references).
    public static func pabulib(_ key: String, _ db: Database) throws -> String? {
        guard let id = UUID(uuidString: key), let vote = try Vote.find(db, id: id), vote.status == .closed else { return nil }
        var hasher = SHA256()
        for row in try Row.fetchAll(db, sql: "SELECT id, voter_reference FROM ballot WHERE vote_id = ? ORDER BY id", arguments: [vote.id.key]) {
            hasher.update(data: Data(((row["id"] as String) + "\u{1F}" + (row["voter_reference"] as String) + "\u{1E}").utf8))
        }
        let seed = hasher.finalize().prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return try Pabulib.export(vote: vote.id, db, seed: seed)
    }
}

extension SQLiteSyncStore {
    public func publicContent(_ resource: PublicResource) async throws -> PublicContent? {
        func page(_ made: (html: String, json: JSONValue)?) -> PublicContent? { made.map { .page(html: $0.html, json: $0.json) } }
        func json(_ value: JSONValue?, _ filename: String) -> PublicContent? {
            value.map { .file(bytes: Array($0.jsonText.utf8), contentType: "application/json; charset=utf-8", filename: filename) }
        }
        switch resource {
        case .index: return page(try await database.read { try PublicPages.index($0) })
        case .place(let slug): return page(try await database.read { try PublicPages.place(slug, $0) })
        case .decisions(let number): return page(try await database.read { try PublicPages.decisionsPage(page: number, $0) })
        case .awards(let number): return page(try await database.read { try PublicPages.awardsPage(page: number, $0) })
        case .vote(let key): return page(try await database.read { try PublicPages.votePage(key, $0) })
        case .openData:
            let grants = (try? grantPublisher(prefix: nil)) != nil
            let contracts = (try? contractingPublisher(prefix: nil)) != nil
            return page(try await database.read { try PublicPages.openDataPage(grants: grants, contracts: contracts, $0) })
        case .grants: return json(try await publishedGrants(), "360giving.json")
        case .contracts: return json(try await publishedContracts(), "ocds.json")
        case .pabulib(let key):
            return try await database.read { try PublicPages.pabulib(key, $0) }.map {
                .file(bytes: Array($0.utf8), contentType: "text/plain; charset=utf-8", filename: "\(key).pb")
            }
        }
    }
}
