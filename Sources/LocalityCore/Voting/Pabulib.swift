import Foundation

/// A participatory-budgeting election as the Pabulib format holds it (pabulib.org): sections
/// META, PROJECTS and VOTES, each a `;`-separated table with a header row.
public struct PBInstance: Sendable {
    /// The META section in file order (`key;value` rows).
    public var meta: [(key: String, value: String)]
    public var projects: [PBProject]
    public var voters: [PBVoter]
    /// The column names of the PROJECTS and VOTES sections, kept for writing the file back.
    public var projectColumns: [String]
    public var voteColumns: [String]

    public init(meta: [(key: String, value: String)], projects: [PBProject], voters: [PBVoter]) {
        self.meta = meta
        self.projects = projects
        self.voters = voters
        projectColumns = ["project_id", "cost", "name"]
        voteColumns = ["voter_id", "vote"]
    }

    public func metaValue(_ key: String) -> String? { meta.first { $0.key == key }?.value }

    /// The budget limit from META.
    public var budget: Rational {
        get throws {
            guard let text = metaValue("budget") else { throw PabulibError(line: 0, "the META section has no budget") }
            guard let value = Rational(decimal: Substring(text)), !value.isNegative else {
                throw PabulibError(line: 0, "the budget '\(text)' is not a number of at least 0")
            }
            return value
        }
    }

    /// The election for the allocation rules: projects with their costs, budget, and ballots as
    /// sets of project positions.
    public func election() throws -> PBElection {
        let index = Dictionary(uniqueKeysWithValues: projects.enumerated().map { ($0.element.id, $0.offset) })
        return PBElection(
            projects: projects.map { PBElection.Project(id: $0.id, cost: $0.cost) },
            budget: try budget,
            ballots: voters.map { voter in voter.approvals.compactMap { index[$0] } })
    }
}

public struct PBProject: Sendable, Hashable {
    public var id: String
    public var cost: Rational
    public var name: String
    /// Every column of the row, by header name, as written.
    public var fields: [String: String]

    public init(id: String, cost: Rational, name: String, fields: [String: String] = [:]) {
        self.id = id
        self.cost = cost
        self.name = name
        self.fields = fields
    }
}

public struct PBVoter: Sendable, Hashable {
    public var id: String
    /// The project ids the voter approved, in the order written.
    public var approvals: [String]
    public var fields: [String: String]

    public init(id: String, approvals: [String], fields: [String: String] = [:]) {
        self.id = id
        self.approvals = approvals
        self.fields = fields
    }
}

/// A malformed Pabulib file: the line (1-based; 0 when it is about the file as a whole) and the problem.
public struct PabulibError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    public var line: Int
    public var message: String

    public init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "line \(line): \(message)" : message }
    public var errorDescription: String? { description }
}

public enum Pabulib {
    /// The ballot types Locality reads: a knapsack ballot is a set of projects, like an approval one.
    public static let supportedVoteTypes: Set<String> = ["approval", "knapsack"]

    /// Reads a whole file, or refuses it with the first problem and its line. Nothing is returned
    /// for a file with any problem, so nothing is ever half-imported.
    public static func parse(_ text: String) throws -> PBInstance {
        var meta: [(key: String, value: String)] = []
        var projects: [PBProject] = []
        var voters: [PBVoter] = []
        var projectColumns: [String] = []
        var voteColumns: [String] = []
        var section: String?
        var header: [String]?
        var projectIndex: [String: Int] = [:]
        var voterIds: Set<String> = []
        var seenSections: Set<String> = []

        var lineNumber = 0
        // "\r\n" is one Character in Swift: split on both.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = rawLine
            if line.last == "\r" { line = line.dropLast() }
            if lineNumber == 1, line.first == "\u{FEFF}" { line = line.dropFirst() }
            if line.allSatisfy(\.isWhitespace) { continue }
            let marker = line.trimmingCharacters(in: .whitespaces).uppercased()
            if marker == "META" || marker == "PROJECTS" || marker == "VOTES" {
                guard !seenSections.contains(marker) else { throw PabulibError(line: lineNumber, "a second \(marker) section") }
                let expected = ["META", "PROJECTS", "VOTES"][seenSections.count]
                guard marker == expected else {
                    throw PabulibError(line: lineNumber, "\(marker) comes before \(expected); the sections are META, PROJECTS, VOTES in that order")
                }
                seenSections.insert(marker)
                section = marker
                header = nil
                continue
            }
            guard let current = section else {
                throw PabulibError(line: lineNumber, "expected the META section first, found '\(line.prefix(40))'")
            }
            let cells = try fields(of: line, line: lineNumber)
            guard let columns = header else {
                let names = cells.map { $0.trimmingCharacters(in: .whitespaces) }
                guard Set(names).count == names.count else { throw PabulibError(line: lineNumber, "a column name appears twice in the \(current) header") }
                switch current {
                case "META":
                    guard names.count >= 2, names[0] == "key", names[1] == "value" else {
                        throw PabulibError(line: lineNumber, "the META header must be 'key;value'")
                    }
                case "PROJECTS":
                    for required in ["project_id", "cost"] where !names.contains(required) {
                        throw PabulibError(line: lineNumber, "the PROJECTS header has no '\(required)' column")
                    }
                    projectColumns = names
                default:
                    for required in ["voter_id", "vote"] where !names.contains(required) {
                        throw PabulibError(line: lineNumber, "the VOTES header has no '\(required)' column")
                    }
                    voteColumns = names
                }
                header = names
                continue
            }
            guard cells.count == columns.count else {
                throw PabulibError(line: lineNumber, "\(cells.count) field\(cells.count == 1 ? "" : "s") where the \(current) header has \(columns.count)")
            }
            let row = Dictionary(uniqueKeysWithValues: zip(columns, cells))
            switch current {
            case "META":
                let key = cells[0].trimmingCharacters(in: .whitespaces)
                guard !key.isEmpty else { throw PabulibError(line: lineNumber, "a META row with no key") }
                guard !meta.contains(where: { $0.key == key }) else { throw PabulibError(line: lineNumber, "META key '\(key)' appears twice") }
                meta.append((key, cells[1]))
            case "PROJECTS":
                let id = row["project_id"]!.trimmingCharacters(in: .whitespaces)
                guard !id.isEmpty else { throw PabulibError(line: lineNumber, "a project with no project_id") }
                guard projectIndex[id] == nil else { throw PabulibError(line: lineNumber, "project '\(id)' appears twice") }
                let costText = row["cost"]!.trimmingCharacters(in: .whitespaces)
                guard let cost = Rational(decimal: Substring(costText)), !cost.isNegative else {
                    throw PabulibError(line: lineNumber, "project '\(id)' has cost '\(costText)', which is not a number of at least 0")
                }
                projectIndex[id] = projects.count
                projects.append(PBProject(id: id, cost: cost, name: row["name"] ?? "", fields: row))
            default:
                let id = row["voter_id"]!.trimmingCharacters(in: .whitespaces)
                guard !id.isEmpty else { throw PabulibError(line: lineNumber, "a vote with no voter_id") }
                guard voterIds.insert(id).inserted else { throw PabulibError(line: lineNumber, "voter '\(id)' votes twice") }
                var approvals: [String] = []
                var seen: Set<String> = []
                for item in row["vote"]!.split(separator: ",") {
                    let project = item.trimmingCharacters(in: .whitespaces)
                    if project.isEmpty { continue }
                    guard projectIndex[project] != nil else {
                        throw PabulibError(line: lineNumber, "voter '\(id)' votes for project '\(project)', which is not in PROJECTS")
                    }
                    if seen.insert(project).inserted { approvals.append(project) }
                }
                voters.append(PBVoter(id: id, approvals: approvals, fields: row))
            }
        }
        for required in ["META", "PROJECTS", "VOTES"] where !seenSections.contains(required) {
            throw PabulibError(line: 0, "the file has no \(required) section")
        }
        var instance = PBInstance(meta: meta, projects: projects, voters: voters)
        instance.projectColumns = projectColumns
        instance.voteColumns = voteColumns
        let voteType = instance.metaValue("vote_type") ?? "approval"
        guard supportedVoteTypes.contains(voteType) else {
            throw PabulibError(line: 0, "vote_type '\(voteType)' is not supported; Locality reads approval and knapsack ballots")
        }
        _ = try instance.budget
        return instance
    }

    /// The fields of one `;`-separated row; a field may be quoted with `"`, doubling `""` inside.
    static func fields(of line: Substring, line number: Int) throws -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var index = line.startIndex
        var atFieldStart = true
        while index < line.endIndex {
            let character = line[index]
            if quoted {
                if character == "\"" {
                    let next = line.index(after: index)
                    if next < line.endIndex, line[next] == "\"" {
                        current.append("\"")
                        index = next
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" && atFieldStart {
                quoted = true
            } else if character == ";" {
                fields.append(current)
                current = ""
                atFieldStart = true
                index = line.index(after: index)
                continue
            } else {
                current.append(character)
            }
            atFieldStart = false
            index = line.index(after: index)
        }
        guard !quoted else { throw PabulibError(line: number, "a quoted field is not closed") }
        fields.append(current)
        return fields
    }

    /// Writes an instance in the Pabulib format.
    public static func write(_ instance: PBInstance) -> String {
        var out = "META\nkey;value\n"
        for (key, value) in instance.meta { out += quote(key) + ";" + quote(value) + "\n" }
        out += "PROJECTS\n" + instance.projectColumns.map(quote).joined(separator: ";") + "\n"
        for project in instance.projects {
            out += instance.projectColumns.map { column -> String in
                switch column {
                case "project_id": quote(project.id)
                case "cost": project.cost.decimalText
                case "name": quote(project.name)
                default: quote(project.fields[column] ?? "")
                }
            }.joined(separator: ";") + "\n"
        }
        out += "VOTES\n" + instance.voteColumns.map(quote).joined(separator: ";") + "\n"
        for voter in instance.voters {
            out += instance.voteColumns.map { column -> String in
                switch column {
                case "voter_id": quote(voter.id)
                case "vote": quote(voter.approvals.joined(separator: ","))
                default: quote(voter.fields[column] ?? "")
                }
            }.joined(separator: ";") + "\n"
        }
        return out
    }

    static func quote(_ text: String) -> String {
        guard text.contains(where: { $0 == ";" || $0 == "\"" || $0 == "," || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension Rational {
    /// A whole number as digits; otherwise an exact decimal where there is one (costs in files are
    /// written like `1500` or `1500.5`).
    var decimalText: String {
        for places in 0...6 where (self * Rational(Int(pow(10.0, Double(places))))).isWhole {
            return decimal(places: places)
        }
        return decimal(places: 6)
    }

    var isWhole: Bool { self == Rational(truncated: self) }

    init(truncated value: Rational) {
        let whole = value.truncated
        self = Rational(decimal: Substring(String(whole))) ?? .zero
    }
}
