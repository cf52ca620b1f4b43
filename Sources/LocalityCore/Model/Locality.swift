import Foundation
import GRDB

/// A place in the authority's geography: county, district, area, ward/division, market town,
/// parish, village, neighbourhood. Localities form a tree.
public struct Locality: SyncRecord, Hashable {
    public static let databaseTableName = "locality"

    public var id: UUID
    public var name: String
    public var kind: Kind
    public var parentId: UUID?
    /// ONS GSS code (E04 parish, E05 ward, E10 county…), with the year it is valid for:
    /// codes change when boundaries do.
    public var gssCode: String?
    public var gssYear: Int?
    /// What a person types: `whitmere-town`.
    public var slug: String
    /// The other localities it lies in besides its parent: a parish spanning several wards (JSON
    /// array of ids). Every one of them counts as above it.
    public var alsoWithin: String
    /// The day a boundary review retired it (`YYYY-MM-DD`): kept with its history; no new needs.
    public var retiredOn: String?
    /// Names it had before a boundary review renamed it (JSON array).
    public var formerNames: String

    public init(
        id: UUID, name: String, kind: Kind, parentId: UUID?, gssCode: String? = nil, gssYear: Int? = nil,
        slug: String, alsoWithin: [UUID] = [], retiredOn: String? = nil, formerNames: [String] = []
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.parentId = parentId
        self.gssCode = gssCode
        self.gssYear = gssYear
        self.slug = slug
        self.alsoWithin = JSONValue.array(alsoWithin.map { .string($0.key) }).jsonText
        self.retiredOn = retiredOn
        self.formerNames = JSONValue.array(formerNames.map(JSONValue.string)).jsonText
    }

    /// The other localities it lies in besides its parent.
    public var alsoWithinIds: [UUID] { Round.ids(alsoWithin) }

    public enum Kind: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
        case county, district, area, ward
        case marketTown = "market-town"
        case parish, village, neighbourhood
        /// A county electoral division: what a county councillor represents. Wards lie in one or
        /// more divisions (they do not nest).
        case division

        public var label: String {
            switch self {
            case .marketTown: "market town"
            case .ward: "ward/division"
            case .division: "electoral division"
            default: rawValue
            }
        }
    }
}

extension Locality {
    /// The ids of the locality and every locality above it, nearest first. Cheap: runs on the
    /// hot path of every permission check.
    public static func ancestorIDs(of id: UUID, in db: Database) throws -> [UUID] {
        if let cache = AncestryCache.current {
            if let known = cache.known[id] { return known }
            let found = try queryAncestorIDs(of: id, in: db)
            cache.known[id] = found
            return found
        }
        return try queryAncestorIDs(of: id, in: db)
    }

    private static func queryAncestorIDs(of id: UUID, in db: Database) throws -> [UUID] {
        let statement = try db.cachedStatement(
            sql: """
                WITH RECURSIVE up(id, depth) AS (
                    SELECT ?, 0
                    UNION
                    SELECT locality.parent_id, up.depth + 1 FROM locality JOIN up ON locality.id = up.id
                    WHERE locality.parent_id IS NOT NULL AND up.depth < 32
                    UNION
                    SELECT other.value, up.depth + 1 FROM locality JOIN up ON locality.id = up.id, json_each(locality.also_within) AS other
                    WHERE up.depth < 32
                )
                SELECT up.id FROM up JOIN locality ON locality.id = up.id GROUP BY up.id ORDER BY MIN(up.depth), up.id
                """)
        return try String.fetchAll(statement, arguments: [id.key]).compactMap(UUID.init(key:))
    }

    /// The name of the locality and the day it was retired, if a boundary review retired it. On the
    /// path of every recorded need: two columns through a cached statement, not a decoded record.
    public static func retirement(of id: UUID, _ db: Database) throws -> (name: String, retiredOn: String)? {
        if let known = AncestryCache.current?.retirements[id] { return known }
        let row = try Row.fetchOne(
            try db.cachedStatement(sql: "SELECT name, retired_on FROM locality WHERE id = ? AND retired_on IS NOT NULL"),
            arguments: [id.key])
        let retirement: (name: String, retiredOn: String)? = row.map { ($0[0], $0[1]) }
        AncestryCache.current?.retirements[id] = .some(retirement)
        return retirement
    }

    /// Whether `id` is `ancestor` or lies somewhere below it.
    public static func isWithin(_ id: UUID, _ ancestor: UUID, in db: Database) throws -> Bool {
        try ancestorIDs(of: id, in: db).contains(ancestor)
    }
}

/// Ancestries and retirements remembered for the length of one transaction in which no locality
/// changes (a push batch): thousands of mutations in the same few wards ask the same questions.
public final class AncestryCache: @unchecked Sendable {
    // @unchecked: made, used and dropped by one transaction on one thread.
    fileprivate var known: [UUID: [UUID]] = [:]
    /// Each locality asked about: whether a boundary review retired it (nil: it is live).
    fileprivate var retirements: [UUID: (name: String, retiredOn: String)?] = [:]

    @TaskLocal fileprivate static var current: AncestryCache?

    private init() {}

    /// Runs `body` with ancestries cached. Only for work that does not change localities.
    public static func during<T>(_ body: () throws -> T) rethrows -> T {
        try $current.withValue(AncestryCache()) { try body() }
    }
}
