import Crypto
import Foundation
import GRDB
import Hummingbird
import LocalityCore

/// What residents see without logging in: the council's places, and for each what money it has,
/// what was funded there and by whom, what was decided and why, what is open to apply for, and the
/// needs recorded there (never one holding personal data). Plain HTML, no script, escaped.
public enum PublicPages {
    /// `/`: the council's areas and wards.
    static func index(_ db: Database) throws -> (html: String, json: JSONValue) {
        let authority = try CouncilGeography.authority(db)
        let places = try Locality.fetchAll(
            db,
            sql: """
                SELECT * FROM locality WHERE retired_on IS NULL AND kind IN ('county', 'unitary', 'district', 'area', 'division', 'ward')
                ORDER BY CASE kind WHEN 'county' THEN 0 WHEN 'unitary' THEN 0 WHEN 'district' THEN 1 WHEN 'area' THEN 2 WHEN 'division' THEN 3 ELSE 4 END, name
                """)
        let title = authority?.name ?? "Locality"
        var body = "<h1>\(escape(title)): places and their community funds</h1>\n"
        body += "<p>Choose a place to see its funds, what was funded there and why, open funding rounds and the needs recorded there.</p>\n"
        for (kind, label) in [("area", "Areas"), ("division", "Electoral divisions"), ("ward", "Wards"), ("district", "Districts")] {
            let group = places.filter { $0.kind.rawValue == kind }
            guard !group.isEmpty else { continue }
            body += "<h2>\(label)</h2>\n<ul>\n"
            for place in group { body += "<li><a href=\"/places/\(escape(place.slug))\">\(escape(place.name))</a></li>\n" }
            body += "</ul>\n"
        }
        let json: JSONValue = [
            "council": .string(title),
            "places": .array(places.map { ["name": .string($0.name), "kind": .string($0.kind.rawValue), "url": .string("/places/\($0.slug)")] }),
        ]
        return (page(title: title, body: body, json: "/?format=json"), json)
    }

    /// `/places/SLUG`.
    static func place(_ slug: String, _ db: Database) throws -> (html: String, json: JSONValue)? {
        guard let place = try Locality.fetchOne(db, sql: "SELECT * FROM locality WHERE slug = ? LIMIT 1", arguments: [slug]) else { return nil }
        let within = """
            WITH RECURSIVE down(id) AS (
                SELECT ?
                UNION SELECT locality.id FROM locality JOIN down ON locality.parent_id = down.id
                UNION SELECT locality.id FROM locality, json_each(locality.also_within) AS other JOIN down ON other.value = down.id)
            SELECT id FROM down
            """
        let budgets = try Budget.fetchAll(db, sql: "SELECT * FROM budget WHERE locality_id IN (\(within)) ORDER BY financial_year DESC, name", arguments: [place.id.key])
        let awards = try Row.fetchAll(
            db,
            sql: """
                SELECT award.id, award.title, award.amount, award.status, award.starts_on, award.ends_on, organisation.name AS recipient,
                    proposal.summary,
                    (SELECT COALESCE(SUM(CASE kind WHEN 'payment' THEN amount WHEN 'clawback' THEN -amount ELSE 0 END), 0)
                     FROM ledger_entry WHERE award_id = award.id) AS paid
                FROM award JOIN proposal ON proposal.id = award.proposal_id JOIN organisation ON organisation.id = award.organisation_id
                WHERE proposal.locality_id IN (\(within)) ORDER BY award.created_at DESC
                """, arguments: [place.id.key])
        let decisions = try Row.fetchAll(
            db,
            sql: """
                SELECT decision.outcome, decision.amount, decision.reasons, decision.authority, decision.decided_at, proposal.title,
                    proposal.amount_requested
                FROM decision JOIN proposal ON proposal.id = decision.proposal_id
                WHERE proposal.locality_id IN (\(within)) AND proposal.status NOT IN ('draft', 'withdrawn')
                ORDER BY decision.decided_at DESC LIMIT 50
                """, arguments: [place.id.key])
        let needs = try Need.fetchAll(
            db,
            sql: """
                SELECT * FROM need WHERE holds_personal_data = 0 AND status NOT IN ('closed')
                AND locality_id IN (\(within)) ORDER BY severity DESC, recorded_at DESC LIMIT 50
                """, arguments: [place.id.key])
        let ancestors = try Locality.ancestorIDs(of: place.id, in: db)
        let today = Timestamps.day(Date())
        let rounds = try Round.fetchAll(
            db,
            sql: """
                SELECT round.* FROM round JOIN budget ON budget.id = round.budget_id
                WHERE budget.locality_id IN (SELECT value FROM json_each(?)) AND round.opens_on <= ? AND round.closes_on >= ?
                ORDER BY round.closes_on
                """, arguments: [JSONValue.array(ancestors.map { .string($0.key) }).jsonText, today, today])

        var body = "<p><a href=\"/\">All places</a></p>\n<h1>\(escape(place.name))</h1>\n"
        body += "<p>\(escape(place.kind.label.capitalized))\(place.gssCode.map { " (\(escape($0)))" } ?? "")\(place.retiredOn.map { ", retired on \(escape($0))" } ?? "")</p>\n"
        var fundsJSON: [JSONValue] = []
        if !budgets.isEmpty {
            body += "<h2>Funds</h2>\n"
            for budget in budgets {
                let position = try BudgetPosition.of(budget: budget.id, in: db)
                body += "<h3>\(escape(budget.name))</h3>\n" + bars(position)
                fundsJSON.append([
                    "name": .string(budget.name), "year": .string(budget.financialYear.description),
                    "allocated": .int(position.allocated.pence), "committed": .int(position.committed.pence), "paid": .int(position.paid.pence),
                    "available": .int(position.available.pence), "closed": .bool(budget.closedAt != nil),
                ])
            }
        }
        body += "<h2>What was funded here</h2>\n"
        if awards.isEmpty { body += "<p>No awards yet.</p>\n" } else {
            body += "<table>\n<thead><tr><th scope=\"col\">Award</th><th scope=\"col\">To</th><th scope=\"col\">Amount</th><th scope=\"col\">Paid</th><th scope=\"col\">Runs</th></tr></thead>\n<tbody>\n"
            for award in awards {
                body += "<tr><td>\(escape(text(award, "title")))<br><small>\(escape(text(award, "summary")))</small></td><td>\(escape(text(award, "recipient")))</td>"
                    + "<td>\(Money(pence: award["amount"]))</td><td>\(Money(pence: award["paid"]))</td><td>\(escape(text(award, "starts_on"))) to \(escape(text(award, "ends_on")))</td></tr>\n"
            }
            body += "</tbody>\n</table>\n"
        }
        body += "<h2>Decisions and why</h2>\n"
        if decisions.isEmpty { body += "<p>No decisions yet.</p>\n" } else {
            body += "<ul>\n"
            for decision in decisions {
                let outcome = Decision.Outcome(rawValue: text(decision, "outcome"))?.label ?? text(decision, "outcome")
                let amount = (decision["amount"] as Int64?).map { " \(Money(pence: $0))" } ?? ""
                let day = (decision["decided_at"] as String?).flatMap(Timestamps.parse).map(Timestamps.day) ?? ""
                body += "<li><strong>\(escape(text(decision, "title")))</strong>: \(escape(outcome))\(amount) on \(escape(day)). "
                    + "\(escape(text(decision, "reasons"))) <small>Authority: \(escape(text(decision, "authority")))</small></li>\n"
            }
            body += "</ul>\n"
        }
        body += "<h2>Open for applications</h2>\n"
        if rounds.isEmpty { body += "<p>No funding round is open here today.</p>\n" } else {
            body += "<ul>\n"
            for round in rounds {
                body += "<li>\(escape(round.title)), until \(escape(round.closesOn))\(round.maxAward.map { "; awards up to \($0)" } ?? ""). "
                    + "Community groups apply through their Locality account; ask the council's locality team for one.</li>\n"
            }
            body += "</ul>\n"
        }
        body += "<h2>Needs recorded here</h2>\n"
        if needs.isEmpty { body += "<p>No open needs recorded.</p>\n" } else {
            body += "<ul>\n"
            for need in needs { body += "<li>\(escape(need.title)) — severity \(need.severity) of 5, \(escape(need.status.rawValue))</li>\n" }
            body += "</ul>\n"
        }
        let json: JSONValue = [
            "name": .string(place.name), "kind": .string(place.kind.rawValue), "gssCode": place.gssCode.map(JSONValue.string) ?? .null,
            "funds": .array(fundsJSON),
            "awards": .array(awards.map { ["title": .string(text($0, "title")), "recipient": .string(text($0, "recipient")), "amount": .int($0["amount"]), "paid": .int($0["paid"])] }),
            "decisions": .array(decisions.map {
                ["title": .string(text($0, "title")), "outcome": .string(text($0, "outcome")), "reasons": .string(text($0, "reasons")),
                 "authority": .string(text($0, "authority"))]
            }),
            "openRounds": .array(rounds.map { ["title": .string($0.title), "closesOn": .string($0.closesOn)] }),
            "needs": .array(needs.map { ["title": .string($0.title), "severity": .int(Int64($0.severity)), "status": .string($0.status.rawValue)] }),
        ]
        return (page(title: place.name, body: body, json: "/places/\(place.slug)?format=json"), json)
    }

    static func text(_ row: Row, _ column: String) -> String { (row[column] as String?) ?? "" }

    /// Allocated, committed and paid as bars, with the figures in words for screen readers.
    static func bars(_ position: BudgetPosition) -> String {
        let total = max(position.allocated.pence, 1)
        func width(_ money: Money) -> Int { Int((Double(max(money.pence, 0)) / Double(total) * 300).rounded()) }
        let summary = "\(position.allocated) allocated, \(position.committed) committed, \(position.paid) paid, \(position.available) available"
        return """
            <svg role="img" aria-label="\(escape(summary))" width="320" height="46" viewBox="0 0 320 46">
            <title>\(escape(summary))</title>
            <rect x="0" y="4" width="300" height="12" fill="#d0d7de"/><rect x="0" y="4" width="\(width(position.committed))" height="12" fill="#0b5394"/>
            <rect x="0" y="24" width="300" height="12" fill="#d0d7de"/><rect x="0" y="24" width="\(width(position.paid))" height="12" fill="#1d6b32"/>
            </svg>
            <p>\(escape(summary)).</p>

            """
    }

    static func page(title: String, body: String, json: String) -> String {
        """
        <!doctype html>
        <html lang="en-GB">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <link rel="alternate" type="application/json" href="\(escape(json))">
        <style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:1rem;line-height:1.5;color:#1b1f23}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem;border-bottom:1px solid #d0d7de;vertical-align:top}
        a{color:#0b5394}small{color:#57606a}svg{max-width:100%;height:auto}</style>
        </head>
        <body>
        <main>
        \(body)</main>
        <footer><p><a href="\(escape(json))">This page as JSON</a>. Grants as open data: <a href="/open-data/360giving.json">360Giving</a> (CC BY 4.0). Published under the Open Government Licence.</p></footer>
        </body>
        </html>

        """
    }

    /// Text made safe for HTML: markup characters escaped, and control or direction characters shown as their codes.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in TerminalText.safe(text) {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A page's response: HTML or its JSON, with an ETag so a refresh costs a 304.
    static func respond(_ request: Request, html: String, json: JSONValue, alwaysJSON: Bool = false) -> Response {
        let wantsJSON = alwaysJSON || request.uri.queryParameters.get("format") == "json"
        let bytes = Array((wantsJSON ? json.jsonText : html).utf8)
        let tag = "\"" + SHA256.hash(data: bytes).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
        if request.headers[.ifNoneMatch] == tag {
            return Response(status: .notModified, headers: [.eTag: tag])
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: wantsJSON ? "application/json; charset=utf-8" : "text/html; charset=utf-8", .eTag: tag,
                .cacheControl: "public, max-age=60",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension SQLiteSyncStore {
    public func publicIndex() async throws -> (html: String, json: JSONValue)? {
        try await database.read { try PublicPages.index($0) }
    }

    public func publicPlace(_ slug: String) async throws -> (html: String, json: JSONValue)? {
        try await database.read { try PublicPages.place(slug, $0) }
    }
}
