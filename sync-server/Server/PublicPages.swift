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
        let awards = try awards(where: "proposal.locality_id IN (\(within))", [place.id.key], limit: 20, db)
        let decisions = try decisions(where: "proposal.locality_id IN (\(within))", [place.id.key], limit: 30, db)
        let votes = try votes(touching: within, [place.id.key], db)
        let commissions = try Commission.fetchAll(
            db, sql: "SELECT * FROM commission WHERE locality_id IN (\(within)) ORDER BY updated_at DESC LIMIT 20", arguments: [place.id.key])
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
        body += "<h2>What was funded here</h2>\n" + awards.html
        if awards.more { body += "<p><a href=\"/awards\">All awards</a></p>\n" }
        body += "<h2>Decisions and why</h2>\n" + decisions.html
        if decisions.more { body += "<p><a href=\"/decisions\">All decisions</a></p>\n" }
        if !votes.isEmpty {
            body += "<h2>Residents' votes</h2>\n<ul>\n" + votes.map(voteLine).joined() + "</ul>\n"
        }
        if !commissions.isEmpty {
            body += "<h2>Services being commissioned</h2>\n<ul>\n"
            for commission in commissions {
                let stage = commission.status == .closed ? "closed after review" : "stage \(commission.stage) of 8: \(commission.stageName)"
                body += "<li>\(escape(commission.title)) — \(escape(stage))</li>\n"
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
            "awards": .array(awards.json), "decisions": .array(decisions.json),
            "commissions": .array(commissions.map {
                ["title": .string($0.title), "stage": .int(Int64($0.stage)), "stageName": .string($0.stageName), "status": .string($0.status.rawValue)]
            }),
            "votes": .array(votes.map { ["title": .string($0.title), "status": .string($0.status.rawValue), "url": .string("/votes/\($0.id.key)")] }),
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
        <footer><nav aria-label="Site"><p><a href="/">Places</a> · <a href="/decisions">Decisions</a> · <a href="/awards">Awards</a> · <a href="/open-data">Open data</a> (CC BY 4.0) · <a href="\(escape(json))">This page as JSON</a></p></nav></footer>
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
    static func respond(_ request: Request, html: String, json: JSONValue) -> Response {
        let wantsJSON = request.uri.queryParameters.get("format") == "json"
        return respond(
            request, bytes: Array((wantsJSON ? json.jsonText : html).utf8),
            contentType: wantsJSON ? "application/json; charset=utf-8" : "text/html; charset=utf-8")
    }

    static func respond(_ request: Request, bytes: [UInt8], contentType: String) -> Response {
        let tag = "\"" + SHA256Hex.of(bytes, bytes: 12) + "\""
        if request.headers[.ifNoneMatch] == tag {
            return Response(status: .notModified, headers: [.eTag: tag])
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: contentType, .eTag: tag,
                .cacheControl: "public, max-age=60",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension PublicPages {
    static func addRoutes(to router: Router<SyncRequestContext>, store: some SyncStore) {
        @Sendable func serve(_ resource: PublicResource, _ request: Request, missing: String) async throws -> Response {
            switch try await store.publicContent(resource) {
            case .page(let html, let json)?: return respond(request, html: html, json: json)
            case .file(let bytes, let contentType, let filename)?:
                var response = respond(request, bytes: bytes, contentType: contentType)
                response.headers[.contentDisposition] = "inline; filename=\"\(filename)\""
                return response
            case nil: throw APIError(status: .notFound, LocalityError.notFound(missing))
            }
        }
        @Sendable func page(_ request: Request) throws -> Int {
            guard let text = request.uri.queryParameters.get("page") else { return 1 }
            guard let number = Int(text), (1...100_000).contains(number) else {
                throw APIError(status: .badRequest, LocalityError.invalidInput("page must be a whole number from 1, not '\(TerminalText.safe(String(text.prefix(20))))'"))
            }
            return number
        }
        @Sendable func safe(_ text: Substring) -> String { TerminalText.safe(String(text.prefix(80))) }
        router.get("/") { request, _ in try await serve(.index, request, missing: "no council is set up here") }
        router.get("/places/:slug") { request, context in
            let slug = try context.parameters.require("slug")
            return try await serve(.place(slug), request, missing: "there is no place '\(safe(slug[...]))'; / lists them")
        }
        router.get("/decisions") { request, _ in try await serve(.decisions(page: try page(request)), request, missing: "no decisions are published here") }
        router.get("/awards") { request, _ in try await serve(.awards(page: try page(request)), request, missing: "no awards are published here") }
        router.get("/votes/:id") { request, context in
            let id = try context.parameters.require("id")
            return try await serve(.vote(id), request, missing: "there is no vote '\(safe(id[...]))'; votes are listed on their places' pages")
        }
        router.get("/open-data") { request, _ in try await serve(.openData, request, missing: "no open data is published here") }
        router.get("/open-data/360giving.json") { request, _ in
            try await serve(.grants, request, missing: "the council publishes no grants here yet (locality-sync publish 360giving --prefix)")
        }
        router.get("/open-data/ocds.json") { request, _ in
            try await serve(.contracts, request, missing: "the council publishes no contracting data here yet (locality-sync publish ocds --prefix)")
        }
        router.get("/open-data/votes/:file") { request, context in
            let file = try context.parameters.require("file")
            guard file.hasSuffix(".pb") else { throw APIError(status: .notFound, LocalityError.notFound("votes are published as ID.pb")) }
            return try await serve(.pabulib(String(file.dropLast(3))), request, missing: "there is no closed vote '\(safe(file.dropLast(3)))'")
        }
    }
}
