import Foundation

/// ONS's *Parish to Ward to Local Authority District* lookup, read as ONS publishes it: one row per
/// parish–ward pair, the boundaries' year in the column names (`PAR19CD`, `WD23NM`…), extra
/// columns (Welsh names, object ids) ignored, a byte order mark allowed.
public struct ONSParishLookup: Sendable {
    public struct Row: Sendable, Hashable {
        public var line: Int
        public var parishCode: String
        public var parishName: String
        public var wardCode: String
        public var wardName: String
        public var districtCode: String
        public var districtName: String
    }

    /// The year of the boundaries (2019 for `PAR19CD`).
    public var year: Int
    public var rows: [Row]

    /// The districts (LADs) in the file, code → name.
    public var districts: [String: String] {
        Dictionary(rows.map { ($0.districtCode, $0.districtName) }, uniquingKeysWith: { first, _ in first })
    }

    /// Reads the lookup; with `districts`, keeps only their rows (a file for the whole of England
    /// and Wales, narrowed to one council).
    public static func parse(_ text: String, districts filter: Set<String> = []) throws(CSV.Problem) -> ONSParishLookup {
        let records = try CSV.records(text)
        guard let header = records.first else { throw CSV.Problem(line: 0, "the file is empty") }
        let columns = try ONSColumns(header.fields, line: header.line, wanted: [("PAR", "CD"), ("PAR", "NM"), ("WD", "CD"), ("WD", "NM"), ("LAD", "CD"), ("LAD", "NM")],
            what: "ONS's Parish to Ward to Local Authority District lookup")
        let filter = Set(filter.map { $0.uppercased() })
        var rows: [Row] = []
        var names = CodeNames()
        var seen = Set<String>()
        for record in records.dropFirst() {
            let fields = try columns.values(record.fields, line: record.line)
            let row = Row(
                line: record.line, parishCode: fields[0], parishName: fields[1], wardCode: fields[2], wardName: fields[3],
                districtCode: fields[4], districtName: fields[5])
            if !filter.isEmpty && !filter.contains(row.districtCode) { continue }
            try GSS.check(row.parishCode, as: .parish, line: record.line)
            try GSS.check(row.wardCode, as: .ward, line: record.line)
            try GSS.check(row.districtCode, as: .district, line: record.line)
            try names.check([(row.parishCode, row.parishName), (row.wardCode, row.wardName), (row.districtCode, row.districtName)], line: record.line)
            guard seen.insert(row.parishCode + "|" + row.wardCode).inserted else { continue }  // the same pair again
            rows.append(row)
        }
        if !filter.isEmpty {
            let found = Set(rows.map(\.districtCode))
            if let missing = filter.subtracting(found).sorted().first {
                throw CSV.Problem(line: 0, "no rows for district \(missing) in this file")
            }
        }
        guard !rows.isEmpty else { throw CSV.Problem(line: 0, "the file has no parish rows") }
        return ONSParishLookup(year: columns.year, rows: rows)
    }
}

/// One name per code across a file: the same code named twice differently is a broken file.
struct CodeNames {
    private var names: [String: (name: String, line: Int)] = [:]

    mutating func check(_ pairs: [(code: String, name: String)], line: Int) throws(CSV.Problem) {
        for (code, name) in pairs {
            if let earlier = names[code], earlier.name != name {
                throw CSV.Problem(line: line, "\(code) is '\(name)' here but '\(earlier.name)' on line \(earlier.line); one code, one name")
            }
            names[code] = (name, line)
        }
    }
}

/// Finds ONS's year-suffixed columns in a header: `PAR19CD`, `WD23NM`, and checks every row has
/// its fields.
struct ONSColumns {
    let positions: [Int]
    let width: Int
    let year: Int

    init(_ header: [String], line: Int, wanted: [(prefix: String, suffix: String)], what: String) throws(CSV.Problem) {
        let names = header.map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
        var positions: [Int] = []
        var years = Set<Int>()
        for (prefix, suffix) in wanted {
            let match = names.firstIndex { name in
                guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count == prefix.count + 2 + suffix.count else { return false }
                return name.dropFirst(prefix.count).prefix(2).allSatisfy(\.isASCIIDigit)
            }
            guard let match else {
                throw CSV.Problem(
                    line: line,
                    "this is not \(what): it has no \(prefix)yy\(suffix) column (its columns: \(header.prefix(12).joined(separator: ", ")))")
            }
            positions.append(match)
            years.insert(2000 + (Int(names[match].dropFirst(prefix.count).prefix(2)) ?? 0))
        }
        guard years.count == 1, let year = years.first else {
            throw CSV.Problem(line: line, "the columns are of different years (\(years.sorted().map(String.init).joined(separator: ", "))); one lookup, one year")
        }
        self.positions = positions
        self.width = header.count
        self.year = year
    }

    func values(_ fields: [String], line: Int) throws(CSV.Problem) -> [String] {
        guard fields.count == width else {
            throw CSV.Problem(line: line, "\(fields.count) fields where the header has \(width)")
        }
        return try positions.map { position throws(CSV.Problem) in
            let value = fields[position].trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { throw CSV.Problem(line: line, "an empty field where a code or name belongs") }
            if let scalar = TerminalText.firstUnsafe(in: value) {
                throw CSV.Problem(line: line, "a control character (U+\(TerminalText.hex(scalar.value))) in '\(TerminalText.safe(value))'")
            }
            return value
        }
    }
}

/// ONS's GSS codes: a letter for the nation, two digits for the kind of area, six digits.
public enum GSS {
    public enum Kind: Sendable {
        case parish, ward, district, county, division

        var entities: Set<String> {
            switch self {
            case .parish: ["E04", "W04", "E43"]  // civil parishes and communities; E43: unparished areas
            case .ward: ["E05", "W05"]
            case .district: ["E06", "E07", "E08", "E09", "W06"]
            case .county: ["E10"]
            case .division: ["E58"]
            }
        }

        var label: String {
            switch self {
            case .parish: "parish"
            case .ward: "ward"
            case .district: "local authority district"
            case .county: "county"
            case .division: "county electoral division"
            }
        }
    }

    public static func isValid(_ code: String) -> Bool {
        let scalars = Array(code.unicodeScalars)
        return scalars.count == 9 && ["E", "W", "S", "N"].contains(String(scalars[0]))
            && scalars.dropFirst().allSatisfy { $0.properties.numericType == .decimal && $0.isASCII }
    }

    static func check(_ code: String, as kind: Kind, line: Int) throws(CSV.Problem) {
        guard isValid(code), kind.entities.contains(String(code.prefix(3))) else {
            throw CSV.Problem(
                line: line, "'\(TerminalText.safe(code))' is not a \(kind.label) code (\(kind.entities.sorted().joined(separator: " or ")) and six digits)")
        }
    }

    /// The kind of authority a council's own code names.
    public static func authorityKind(_ code: String) -> Locality.Kind? {
        guard isValid(code) else { return nil }
        switch String(code.prefix(3)) {
        case "E10": return .county
        case "E06", "E07", "E08", "E09", "W06": return .district
        default: return nil
        }
    }
}
