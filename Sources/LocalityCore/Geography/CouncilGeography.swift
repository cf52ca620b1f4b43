import Foundation
import GRDB

/// What an import would change (or changed) in a council's geography.
public struct GeographyChanges: Codable, Sendable {
    public struct Entry: Codable, Sendable, Hashable {
        public var code: String
        public var name: String
        public var kind: String
    }

    public struct Rename: Codable, Sendable, Hashable {
        public var code: String
        public var kind: String
        public var from: String
        public var to: String
    }

    public var year: Int
    public var added: [Entry] = []
    public var renamed: [Rename] = []
    /// Now lying in other wards (or another district) than before.
    public var moved: [Entry] = []
    public var retired: [Entry] = []
    public var unchanged = 0
    /// Parishes that lie in more than one ward, with how many.
    public var multiWard: [String: Int] = [:]

    public var isEmpty: Bool { added.isEmpty && renamed.isEmpty && moved.isEmpty && retired.isEmpty }
}

/// A council's places, set up and kept current from ONS's lookups. Places are known by their GSS
/// code: re-importing a newer lookup adds, renames, moves and retires, and never deletes.
public enum CouncilGeography {
    /// The council's own locality: the root of its tree.
    public static func authority(_ db: Database) throws -> Locality? {
        try Locality.fetchOne(
            db, sql: "SELECT * FROM locality WHERE parent_id IS NULL AND kind IN ('county', 'district') ORDER BY rowid LIMIT 1")
    }

    /// The stable id of a place with a GSS code: the same on every import.
    public static func id(gss code: String) -> UUID { UUID.stable("locality:gss:" + code.uppercased()) }

    /// Creates the authority on an empty database.
    public static func initialise(name: String, gss code: String, in db: Database) throws -> Locality {
        let name = try Validate.title(name, field: "council name")
        let code = code.uppercased().trimmingWhitespace()
        guard let kind = GSS.authorityKind(code) else {
            throw LocalityError.invalid(
                "'\(code)' is not a council's GSS code: a county is E10…, a unitary, district, metropolitan or London borough E06…/E07…/E08…/E09…, a Welsh principal area W06…")
        }
        if let existing = try Locality.fetchOne(db, sql: "SELECT * FROM locality ORDER BY rowid LIMIT 1") {
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM locality") ?? 0
            throw LocalityError(
                .invalidTransition,
                "this database already holds a council's places (\(count), starting with \(existing.name)); a council is set up once, on an empty database")
        }
        let authority = Locality(id: id(gss: code), name: name, kind: kind, parentId: nil, gssCode: code, slug: slug(name))
        try authority.insert(db)
        return authority
    }

    /// Brings the council's wards and parishes into line with `lookup` (or, with `apply` false,
    /// only says what that would change).
    public static func importLookup(_ lookup: ONSParishLookup, today: String, apply: Bool, _ db: Database) throws -> GeographyChanges {
        guard let authority = try authority(db) else {
            throw LocalityError(.invalidTransition, "no council is set up yet: run `locality-sync council init` first")
        }
        let districts = lookup.districts
        let twoTier = authority.kind == .county
        if !twoTier {
            let others = districts.keys.filter { $0 != authority.gssCode }.sorted()
            if !others.isEmpty {
                let sample = others.prefix(3).map { "\($0) \(districts[$0] ?? "")" }.joined(separator: ", ")
                throw LocalityError.invalid(
                    "the file holds \(others.count) other district\(others.count == 1 ? "" : "s") than \(authority.name) (\(authority.gssCode ?? "")): \(sample)…; "
                        + "give --lad \(authority.gssCode ?? "CODE") to import only the council's own")
            }
        }
        var changes = GeographyChanges(year: lookup.year)
        var existing: [String: Locality] = [:]
        for place in try Locality.fetchAll(db, sql: "SELECT * FROM locality WHERE gss_code IS NOT NULL") {
            if let code = place.gssCode { existing[code] = place }
        }
        var slugs = Set(try String.fetchAll(db, sql: "SELECT slug FROM locality"))
        func uniqueSlug(_ base: String, code: String) -> String {
            if !slugs.contains(base) { return base }
            return base + "-" + code.suffix(4).lowercased()
        }
        var written: [Locality] = []
        /// Adds, renames or moves one place; nil parent for the authority's own children.
        func place(code: String, name: String, kind: Locality.Kind, parent: UUID, also: [UUID], slugBase: String) {
            let id = id(gss: code)
            if var current = existing[code] {
                var changed = false
                if current.name != name {
                    changes.renamed.append(.init(code: code, kind: kind.rawValue, from: current.name, to: name))
                    var former = Round.strings(current.formerNames)
                    former.append(current.name)
                    current.formerNames = JSONValue.array(former.map(JSONValue.string)).jsonText
                    current.name = name
                    changed = true
                }
                // A ward the council has put in one of its areas stays there.
                let keepsArea = kind == .ward && current.parentId != parent && (try? Locality.find(db, id: current.parentId ?? id))??.kind == .area
                let newAlso = JSONValue.array(also.map { .string($0.key) }).jsonText
                if (!keepsArea && current.parentId != parent) || (kind == .parish && current.alsoWithin != newAlso) {
                    if !keepsArea { current.parentId = parent }
                    if kind == .parish { current.alsoWithin = newAlso }
                    changes.moved.append(.init(code: code, name: name, kind: kind.rawValue))
                    changed = true
                }
                if current.retiredOn != nil {
                    current.retiredOn = nil
                    changed = true
                }
                if !changed { changes.unchanged += 1 }
                if current.gssYear != lookup.year {
                    current.gssYear = lookup.year  // the same place on newer boundaries' lookup
                    changed = true
                }
                if changed { written.append(current) }
            } else {
                let slug = uniqueSlug(slugBase, code: code)
                slugs.insert(slug)
                written.append(Locality(
                    id: id, name: name, kind: kind, parentId: parent, gssCode: code, gssYear: lookup.year, slug: slug, alsoWithin: also))
                changes.added.append(.init(code: code, name: name, kind: kind.rawValue))
            }
        }

        // Districts (a county's), then wards, then parishes, each in code order.
        var wardParent: [String: UUID] = [:]
        for (code, name) in districts.sorted(by: { $0.key < $1.key }) {
            if twoTier {
                place(code: code, name: name, kind: .district, parent: authority.id, also: [], slugBase: slug(name) + "-district")
                wardParent[code] = id(gss: code)
            } else {
                wardParent[code] = authority.id
            }
        }
        var wards: [String: (name: String, district: String)] = [:]
        var parishWards: [String: (name: String, wards: Set<String>)] = [:]
        for row in lookup.rows {
            wards[row.wardCode] = (row.wardName, row.districtCode)
            parishWards[row.parishCode, default: (row.parishName, [])].wards.insert(row.wardCode)
        }
        for (code, ward) in wards.sorted(by: { $0.key < $1.key }) {
            place(code: code, name: ward.name, kind: .ward, parent: wardParent[ward.district] ?? authority.id, also: [], slugBase: slug(ward.name) + "-ward")
        }
        for (code, parish) in parishWards.sorted(by: { $0.key < $1.key }) {
            let inWards = parish.wards.sorted().map { id(gss: $0) }
            if parish.wards.count > 1 { changes.multiWard[parish.name] = parish.wards.count }
            place(code: code, name: parish.name, kind: .parish, parent: inWards[0], also: Array(inWards.dropFirst()), slugBase: slug(parish.name))
        }
        // Places of the districts imported that the lookup no longer has: retired, never deleted.
        let importedDistricts = Set(districts.keys)
        let present = Set(districts.keys).union(wards.keys).union(parishWards.keys)
        for (code, current) in existing.sorted(by: { $0.key < $1.key })
        where current.retiredOn == nil && !present.contains(code) && current.id != authority.id
            && [.district, .ward, .parish].contains(current.kind)
        {
            // Only within the districts this file covers: importing one district retires nothing elsewhere.
            let ancestors = try Locality.ancestorIDs(of: current.id, in: db)
            let inScope = !twoTier || (current.kind != .district && importedDistricts.contains { ancestors.contains(id(gss: $0)) })
            guard inScope else { continue }
            var retired = current
            retired.retiredOn = today
            written.append(retired)
            changes.retired.append(.init(code: code, name: current.name, kind: current.kind.rawValue))
        }
        if apply {
            for place in written { try place.save(db) }
        }
        return changes
    }

    /// The council's own grouping of its wards into areas (for its locality budgets): each row a
    /// ward's GSS code and the area's name. Areas are made as needed; each ward moves into its area.
    public static func assignAreas(_ text: String, apply: Bool, _ db: Database) throws -> (areas: [String], wardsMoved: Int) {
        guard let authority = try authority(db) else {
            throw LocalityError(.invalidTransition, "no council is set up yet: run `locality-sync council init` first")
        }
        let records: [(line: Int, fields: [String])]
        do { records = try CSV.records(text) } catch { throw LocalityError.invalid(error.description) }
        var assignments: [(ward: Locality, area: String)] = []
        var seen: [String: Int] = [:]
        for record in records {
            let fields = record.fields.map { $0.trimmingCharacters(in: .whitespaces) }
            if record.line == records.first?.line, let first = fields.first, !GSS.isValid(first.uppercased()) { continue }  // a header
            guard fields.count >= 2, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw LocalityError.invalid("line \(record.line): expected 'ward code,area name'")
            }
            let code = fields[0].uppercased()
            if let earlier = seen[code] { throw LocalityError.invalid("line \(record.line): ward \(code) is already given an area on line \(earlier)") }
            seen[code] = record.line
            guard let ward = try Locality.fetchOne(db, sql: "SELECT * FROM locality WHERE gss_code = ? AND kind = 'ward'", arguments: [code]) else {
                throw LocalityError.invalid("line \(record.line): no ward \(code); import the ONS lookup first (`locality-sync localities import`)")
            }
            let area = try Validate.title(fields[1], field: "area name")
            if let scalar = TerminalText.firstUnsafe(in: area) {
                throw LocalityError.invalid("line \(record.line): a control character (U+\(TerminalText.hex(scalar.value))) in the area name")
            }
            assignments.append((ward, area))
        }
        guard !assignments.isEmpty else { throw LocalityError.invalid("the file gives no ward an area") }
        let names = Array(Set(assignments.map(\.area))).sorted()
        guard apply else { return (names, assignments.count) }
        var areaIds: [String: UUID] = [:]
        for name in names {
            let areaSlug = slug(name)
            if let existing = try Locality.fetchOne(db, sql: "SELECT * FROM locality WHERE kind = 'area' AND name = ? COLLATE NOCASE", arguments: [name]) {
                areaIds[name] = existing.id
            } else {
                let area = Locality(id: UUID.stable("locality:area:" + areaSlug), name: name, kind: .area, parentId: authority.id, slug: areaSlug)
                try area.insert(db)
                areaIds[name] = area.id
            }
        }
        var moved = 0
        for (ward, area) in assignments {
            var updated = ward
            guard let areaId = areaIds[area], updated.parentId != areaId else { continue }
            // A county's ward keeps lying in its district.
            if let parent = ward.parentId, parent != authority.id, try Locality.find(db, id: parent)?.kind == .district {
                var also = updated.alsoWithinIds
                if !also.contains(parent) { also.append(parent) }
                updated.alsoWithin = JSONValue.array(also.map { .string($0.key) }).jsonText
            }
            updated.parentId = areaId
            try updated.update(db)
            moved += 1
        }
        return (names, moved)
    }

    /// `Shrewsbury` → `shrewsbury`; `Bayston Hill, Column and Sutton` → `bayston-hill-column-and-sutton`.
    public static func slug(_ name: String) -> String {
        let folded = name.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: Locale(identifier: "en_GB")).lowercased()
        var out = ""
        var dash = false
        for character in folded {
            if character.isASCII && (character.isLetter || character.isNumber) {
                out.append(character)
                dash = false
            } else if character != "'" && character != "’" && !dash && !out.isEmpty {
                out.append("-")
                dash = true
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "place" : out
    }
}
