import Foundation
import GRDB

/// ONS's *Ward to LAD to County to County Electoral Division* lookup: a two-tier county's
/// divisions, which its councillors represent. Divisions and wards do not nest — a ward may lie in
/// several divisions (one row per ward–division pair) — so a division is one more place a ward
/// lies in, and a county councillor's places are those lying, wholly or partly, in their division.
public struct ONSDivisionLookup: Sendable {
    public struct Row: Sendable, Hashable {
        public var line: Int
        public var wardCode: String
        public var wardName: String
        public var districtCode: String
        public var districtName: String
        public var countyCode: String
        public var divisionCode: String
        public var divisionName: String
    }

    public var year: Int
    public var rows: [Row]

    /// Whether a header is this lookup's (it has county electoral division columns).
    public static func recognises(_ text: String) -> Bool {
        guard let header = try? CSV.records(String(text.prefix(4096))).first else { return false }
        return header.fields.contains { $0.trimmingCharacters(in: .whitespaces).uppercased().hasPrefix("CED") }
    }

    public static func parse(_ text: String, districts filter: Set<String> = []) throws(CSV.Problem) -> ONSDivisionLookup {
        let records = try CSV.records(text)
        guard let header = records.first else { throw CSV.Problem(line: 0, "the file is empty") }
        let columns = try ONSColumns(
            header.fields, line: header.line,
            wanted: [("WD", "CD"), ("WD", "NM"), ("LAD", "CD"), ("LAD", "NM"), ("CTY", "CD"), ("CED", "CD"), ("CED", "NM")],
            what: "ONS's Ward to LAD to County to County Electoral Division lookup")
        let filter = Set(filter.map { $0.uppercased() })
        var rows: [Row] = []
        var names = CodeNames()
        var seen = Set<String>()
        for record in records.dropFirst() {
            let fields = try columns.values(record.fields, line: record.line)
            let row = Row(
                line: record.line, wardCode: fields[0], wardName: fields[1], districtCode: fields[2], districtName: fields[3],
                countyCode: fields[4], divisionCode: fields[5], divisionName: fields[6])
            if !filter.isEmpty && !filter.contains(row.districtCode) { continue }
            try GSS.check(row.wardCode, as: .ward, line: record.line)
            try GSS.check(row.districtCode, as: .district, line: record.line)
            try GSS.check(row.countyCode, as: .county, line: record.line)
            try GSS.check(row.divisionCode, as: .division, line: record.line)
            try names.check([(row.wardCode, row.wardName), (row.districtCode, row.districtName), (row.divisionCode, row.divisionName)], line: record.line)
            guard seen.insert(row.wardCode + "|" + row.divisionCode).inserted else { continue }
            rows.append(row)
        }
        guard !rows.isEmpty else { throw CSV.Problem(line: 0, "the file has no ward rows") }
        return ONSDivisionLookup(year: columns.year, rows: rows)
    }
}

extension CouncilGeography {
    /// Brings a county's electoral divisions into line with `lookup`: divisions beneath the
    /// county, and each ward lying in its divisions (besides its district). Wards the parish
    /// lookup did not bring (unparished ones) are added under their district.
    public static func importDivisions(_ lookup: ONSDivisionLookup, today: String, apply: Bool, _ db: Database) throws -> GeographyChanges {
        guard let authority = try authority(db) else {
            throw LocalityError(.invalidTransition, "no council is set up yet: run `locality-sync council init` first")
        }
        guard authority.kind == .county, let county = authority.gssCode else {
            throw LocalityError.invalid("\(authority.name) is not a county: only a county council has electoral divisions")
        }
        if let other = lookup.rows.first(where: { $0.countyCode != county }) {
            throw LocalityError.invalid("line \(other.line): ward \(other.wardCode) is in county \(other.countyCode), not \(authority.name) (\(county))")
        }
        var changes = GeographyChanges(year: lookup.year)
        var written: [Locality] = []
        var slugs = Set(try String.fetchAll(db, sql: "SELECT slug FROM locality"))
        var divisions: [String: String] = [:]
        var wardDivisions: [String: Set<String>] = [:]
        var wardInfo: [String: (name: String, district: String, districtName: String)] = [:]
        for row in lookup.rows {
            divisions[row.divisionCode] = row.divisionName
            wardDivisions[row.wardCode, default: []].insert(row.divisionCode)
            wardInfo[row.wardCode] = (row.wardName, row.districtCode, row.districtName)
        }
        func existing(_ code: String) throws -> Locality? {
            try Locality.fetchOne(db, sql: "SELECT * FROM locality WHERE gss_code = ?", arguments: [code])
        }
        func newSlug(_ base: String, _ code: String) -> String {
            let slug = slugs.contains(base) ? base + "-" + code.suffix(4).lowercased() : base
            slugs.insert(slug)
            return slug
        }
        for (code, name) in divisions.sorted(by: { $0.key < $1.key }) {
            if var current = try existing(code) {
                if current.name != name {
                    changes.renamed.append(.init(code: code, kind: "division", from: current.name, to: name))
                    current.name = name
                    current.retiredOn = nil
                    written.append(current)
                } else if current.retiredOn != nil {
                    current.retiredOn = nil
                    written.append(current)
                } else {
                    changes.unchanged += 1
                }
            } else {
                written.append(Locality(
                    id: id(gss: code), name: name, kind: .division, parentId: authority.id, gssCode: code, gssYear: lookup.year,
                    slug: newSlug(slug(name), code)))
                changes.added.append(.init(code: code, name: name, kind: "division"))
            }
        }
        for (code, inDivisions) in wardDivisions.sorted(by: { $0.key < $1.key }) {
            let info = wardInfo[code]!
            let districtId = id(gss: info.district)
            if try existing(info.district) == nil, !written.contains(where: { $0.id == districtId }) {
                written.append(Locality(
                    id: districtId, name: info.districtName, kind: .district, parentId: authority.id, gssCode: info.district, gssYear: lookup.year,
                    slug: newSlug(slug(info.districtName) + "-district", info.district)))
                changes.added.append(.init(code: info.district, name: info.districtName, kind: "district"))
            }
            let divisionIds = inDivisions.sorted().map { id(gss: $0) }
            if var ward = try existing(code) {
                // The ward keeps any other places it lies in (its district, when it sits in an area).
                let others = ward.alsoWithinIds.filter { other in !divisionIds.contains(other) }
                    .filter { (try? Locality.find(db, id: $0))??.kind != .division }
                let also = JSONValue.array((others + divisionIds).map { .string($0.key) }).jsonText
                if ward.alsoWithin != also {
                    ward.alsoWithin = also
                    written.append(ward)
                    changes.moved.append(.init(code: code, name: ward.name, kind: "ward"))
                } else {
                    changes.unchanged += 1
                }
            } else {
                written.append(Locality(
                    id: id(gss: code), name: info.name, kind: .ward, parentId: districtId, gssCode: code, gssYear: lookup.year,
                    slug: newSlug(slug(info.name) + "-ward", code), alsoWithin: divisionIds))
                changes.added.append(.init(code: code, name: info.name, kind: "ward"))
            }
            if inDivisions.count > 1 { changes.multiWard[info.name] = inDivisions.count }
        }
        // Divisions the lookup no longer has: retired, never deleted.
        for current in try Locality.fetchAll(db, sql: "SELECT * FROM locality WHERE kind = 'division' AND retired_on IS NULL")
        where !divisions.keys.contains(current.gssCode ?? "") {
            var retired = current
            retired.retiredOn = today
            written.append(retired)
            changes.retired.append(.init(code: current.gssCode ?? "", name: current.name, kind: "division"))
        }
        if apply { for place in written { try place.save(db) } }
        return changes
    }
}
