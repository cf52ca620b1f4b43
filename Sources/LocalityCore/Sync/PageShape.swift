/// How a pull page carries its rows. `rows` (the default, and what every earlier device reads):
/// each row an object of column name to value. `columns`: each table's column names once in the
/// page's `columns`, each row an array of values in that order. A first sync of a million records
/// would otherwise repeat every column name a million times: written, compressed, sent, parsed and
/// hashed on both sides for nothing.
public enum PageShape: String, Sendable, CaseIterable {
    case rows
    case columns

    /// The shape a pull asks for (`shape=`), or why it cannot be one.
    public init(parsing text: String?) throws(LocalityError) {
        guard let text else {
            self = .rows
            return
        }
        guard let shape = PageShape(rawValue: text) else {
            throw LocalityError.invalidInput("'shape' must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
        }
        self = shape
    }
}

extension PullResponse {
    /// The same page with its rows in columns: each table's names once, each row its values in
    /// that order. A column some row lacks is null in that row, as an absent member is.
    public func inColumns() -> PullResponse {
        // Each table's names from its first row; a row with a name its table's first lacks sends
        // the page round again with every name any of its rows has (rows of a table agree in practice).
        var names: [String: [String]] = [:]
        for change in changes where names[change.table] == nil {
            if let row = change.row { names[change.table] = row.keys.sorted() }
        }
        if let page = placed(names) { return page }
        var every: [String: Set<String>] = [:]
        for change in changes { if let row = change.row { every[change.table, default: []].formUnion(row.keys) } }
        return placed(every.mapValues { $0.sorted() }) ?? self
    }

    /// The page with each row's values placed by `names`, or nil if a row has a name not among its table's.
    private func placed(_ names: [String: [String]]) -> PullResponse? {
        var page = self
        let positions = names.mapValues { Dictionary(uniqueKeysWithValues: $0.enumerated().map { ($1, $0) }) }
        for index in page.changes.indices {
            guard let row = page.changes[index].row, let places = positions[page.changes[index].table] else { continue }
            var values = [JSONValue](repeating: .null, count: places.count)
            for (name, value) in row {
                guard let place = places[name] else { return nil }
                values[place] = value
            }
            page.changes[index].values = values
            page.changes[index].row = nil
        }
        page.columns = names.isEmpty ? nil : names
        return page
    }

    /// A field of a changed row, whichever shape the page came in.
    public func field(_ name: String, of change: RowChange) -> JSONValue? {
        if let row = change.row { return row[name] }
        guard let values = change.values, let columns = columns?[change.table], let index = columns.firstIndex(of: name),
            index < values.count
        else { return nil }
        return values[index]
    }
}
