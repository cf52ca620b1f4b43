import Foundation

/// An organisation as the operator adds it: from the command line or a row of a file.
public struct NewOrganisation: Codable, Sendable, Equatable {
    public var name: String
    public var kind: String
    public var orgId: String?
    /// The places it serves: slugs, GSS codes or names.
    public var localities: [String]

    public init(name: String, kind: String, orgId: String?, localities: [String]) {
        self.name = name
        self.kind = kind
        self.orgId = orgId
        self.localities = localities
    }
}

/// A file of organisations: `name,kind,org-id,localities`, a header row first (the columns in any
/// order, `type`/`identifier`/`places` accepted as other names), places separated by `;`.
/// Only the file's shape is read here; each row's rules (kind, org-id register, places) are the
/// store's, checked as it is added.
public enum OrganisationFile {
    public static func parse(_ text: String) throws(LocalityError) -> [(line: Int, organisation: NewOrganisation)] {
        let records: [(line: Int, fields: [String])]
        do { records = try CSV.records(text) } catch { throw LocalityError.invalidInput(error.description) }
        guard let header = records.first else { throw LocalityError.invalidInput("the file is empty") }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: "-") }
        func column(_ options: [String]) -> Int? { names.firstIndex { options.contains($0) } }
        guard let name = column(["name"]), let kind = column(["kind", "type"]) else {
            throw LocalityError.invalidInput("line \(header.line): the header must name the columns name, kind, org-id and localities")
        }
        let orgId = column(["org-id", "orgid", "org-identifier", "identifier"])
        let localities = column(["localities", "places", "locality", "serves"])
        var organisations: [(line: Int, organisation: NewOrganisation)] = []
        for record in records.dropFirst() {
            guard record.fields.count == header.fields.count else {
                throw LocalityError.invalidInput("line \(record.line): \(record.fields.count) fields where the header has \(header.fields.count)")
            }
            let value = { (index: Int?) in index.map { record.fields[$0].trimmingCharacters(in: .whitespaces) } ?? "" }
            organisations.append((record.line, NewOrganisation(
                name: value(name), kind: value(kind), orgId: value(orgId).isEmpty ? nil : value(orgId),
                localities: value(localities).split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })))
        }
        guard !organisations.isEmpty else { throw LocalityError.invalidInput("the file has no organisations after its header") }
        return organisations
    }
}
