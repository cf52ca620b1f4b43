import Foundation
import GRDB

/// The demo council: Marcher County, a fictional shire authority with two areas, four wards and
/// six parishes and towns, the groups that serve them, an outcomes framework and a community
/// fund per area for 2026/27.
///
/// Every record has a stable id derived from its name, so a device's `init --demo` and the
/// server's `--demo` hold the same records. GSS codes use the unassigned `9xxxxx` range so they
/// can never be mistaken for real ones.
public enum DemoCouncil {
    public static let usernames = ["admin", "officer", "cabinet", "cllr-north", "cllr-south", "clerk-north", "clerk-south"]

    /// The password every demo account has on a demo server.
    public static let password = "demo-password"

    static func id(_ name: String) -> UUID { UUID.stable("demo:" + name) }

    private static let gssYear = 2026
    private static let startOfYear = Date(timeIntervalSince1970: 1_775_001_600)  // 2026-04-01T00:00:00Z
    private static let autumn = Date(timeIntervalSince1970: 1_790_000_000)  // 2026-09-21

    public static let localities: [Locality] = [
        place("marcher", "Marcher County", .county, nil, gss: "E10900001"),
        place("north-area", "North Area", .area, "marcher"),
        place("south-area", "South Area", .area, "marcher"),
        place("whitmere-ward", "Whitmere Ward", .ward, "north-area", gss: "E05900001"),
        place("brockton-ward", "Brockton Ward", .ward, "north-area", gss: "E05900002"),
        place("clunbury-ward", "Clunbury Ward", .ward, "south-area", gss: "E05900003"),
        place("ledwyche-ward", "Ledwyche Ward", .ward, "south-area", gss: "E05900004"),
        place("whitmere-town", "Whitmere", .marketTown, "whitmere-ward", gss: "E04900001"),
        place("ashby-parva", "Ashby Parva", .parish, "whitmere-ward", gss: "E04900002"),
        place("brockton", "Brockton", .parish, "brockton-ward", gss: "E04900003"),
        place("brockton-heath", "Brockton Heath", .village, "brockton"),
        place("clunbury", "Clunbury", .parish, "clunbury-ward", gss: "E04900004"),
        place("hopton-cross", "Hopton Cross", .parish, "clunbury-ward", gss: "E04900005"),
        place("ledwyche-town", "Ledwyche", .marketTown, "ledwyche-ward", gss: "E04900006"),
        place("ledwyche-east", "Ledwyche East", .neighbourhood, "ledwyche-town"),
    ]

    private static func place(_ slug: String, _ name: String, _ kind: Locality.Kind, _ parent: String?, gss: String? = nil)
        -> Locality
    {
        Locality(
            id: id("locality:" + slug), name: name, kind: kind, parentId: parent.map { id("locality:" + $0) },
            gssCode: gss, gssYear: gss == nil ? nil : gssYear, slug: slug)
    }

    public static let organisations: [(Organisation, [String])] = [
        (org("whitmere-town-council", "Whitmere Town Council", .townCouncil, nil), ["whitmere-town"]),
        (org("clunbury-parish-council", "Clunbury Parish Council", .parishCouncil, nil), ["clunbury"]),
        (org("brockton-village-hall", "Brockton Village Hall Trust", .charity, "GB-CHC-1099901"), ["brockton"]),
        (org("marches-community-transport", "Marches Community Transport", .socialEnterprise, "GB-COH-09900001"),
         ["north-area", "south-area"]),
        (org("ledwyche-youth-mutual", "Ledwyche Youth Mutual", .mutual, "GB-MARCHER-LYM"), ["ledwyche-town"]),
        (org("hopton-cross-good-neighbours", "Hopton Cross Good Neighbours", .communityGroup, "GB-MARCHER-HCGN"),
         ["hopton-cross"]),
        (org("marcher-locality-team", "Marcher County Council Locality Team", .inHouseTeam, "GB-LAE-MAR"), ["marcher"]),
        (org("marches-health-partnership", "Marches Health Partnership", .publicBody, nil), ["marcher"]),
    ]

    private static func org(_ slug: String, _ name: String, _ kind: Organisation.Kind, _ identifier: String?) -> Organisation {
        Organisation(id: id("organisation:" + slug), name: name, kind: kind, orgIdentifier: identifier, slug: slug)
    }

    /// The accounts: username, display name, and roles (role, ward or organisation slug).
    public static let accounts: [(String, String, [(Role, String?)])] = [
        ("admin", "Sync Server Operator", [(.operator, nil)]),
        ("officer", "Priya Shah (Locality Commissioner)", [(.officer, nil), (.member, "marcher-locality-team")]),
        ("cabinet", "Cllr Margaret Rowe (Cabinet Member for Communities)", [(.executive, nil)]),
        ("cllr-north", "Cllr Tom Hughes", [(.councillor, "whitmere-ward"), (.councillor, "brockton-ward")]),
        ("cllr-south", "Cllr Aisha Patel", [(.councillor, "clunbury-ward"), (.councillor, "ledwyche-ward")]),
        ("clerk-north", "Jenny Marsh (Clerk, Whitmere Town Council)", [(.member, "whitmere-town-council")]),
        ("clerk-south", "David Owen (Clerk, Clunbury Parish Council)", [(.member, "clunbury-parish-council")]),
    ]

    public static func personID(_ username: String) -> UUID { id("person:" + username) }

    /// Inserts the demo council. Run inside a transaction on an empty database.
    public static func load(into db: Database) throws {
        for locality in localities { try locality.insert(db) }
        for (organisation, served) in organisations {
            try organisation.insert(db)
            for slug in served {
                try OrganisationLocality(organisationId: organisation.id, localityId: id("locality:" + slug)).insert(db)
            }
        }
        for (username, displayName, roles) in accounts {
            try Person(id: personID(username), username: username, displayName: displayName).insert(db)
            for (index, (role, scope)) in roles.enumerated() {
                try RoleAssignment(
                    id: id("role:\(username):\(index)"), personId: personID(username), role: role,
                    localityId: role == .councillor ? scope.map { id("locality:" + $0) } : nil,
                    organisationId: role == .member ? scope.map { id("organisation:" + $0) } : nil
                ).insert(db)
            }
        }
        try loadOutcomes(db)
        try loadBudgets(db)
        try loadDelegation(db)
        try loadNeeds(db)
    }

    private static func loadOutcomes(_ db: Database) throws {
        let framework: [(String, String, Outcome.Level, String?)] = [
            ("independent-living", "People live independently at home for longer", .strategic, nil),
            ("connected-communities", "Communities are connected and resilient", .strategic, nil),
            ("young-people-thrive", "Young people thrive in their communities", .strategic, nil),
            ("less-isolation", "Fewer older people are lonely or isolated", .service, "connected-communities"),
            ("rural-transport", "People without a car can reach services", .service, "connected-communities"),
            ("youth-activities", "Young people have safe places to go and things to do", .service, "young-people-thrive"),
            ("falls-prevented", "Fewer falls at home among people over 65", .service, "independent-living"),
        ]
        for (slug, title, level, parent) in framework {
            try Outcome(
                id: id("outcome:" + slug), title: title, level: level, parentId: parent.map { id("outcome:" + $0) },
                slug: slug
            ).insert(db)
        }
        let indicators: [(String, String, String, Indicator.Direction, Double, Double)] = [
            ("less-isolation", "Residents 65+ who often feel lonely", "%", .lowerIsBetter, 14, 10),
            ("rural-transport", "Community transport journeys a month", "journeys", .higherIsBetter, 320, 500),
            ("youth-activities", "Young people attending weekly sessions", "people", .higherIsBetter, 40, 90),
            ("falls-prevented", "Emergency admissions for falls, 65+", "per 100,000", .lowerIsBetter, 2100, 1900),
        ]
        for (outcome, name, unit, direction, baseline, target) in indicators {
            try Indicator(
                id: id("indicator:\(outcome):\(name)"), outcomeId: id("outcome:" + outcome), name: name, unit: unit,
                direction: direction, baseline: baseline, target: target
            ).insert(db)
        }
    }

    private static func loadBudgets(_ db: Database) throws {
        let year = FinancialYear(startYear: 2026)
        let budgets: [(String, String, String, [(LedgerEntry.Source, Int64, String)])] = [
            ("north-2026-27", "North Area Community Fund 2026/27", "north-area", [
                (.council, 6_000_000, "Locality budget devolved by Cabinet"),
                (.health, 1_500_000, "Pooled with Marches Health Partnership for social prescribing"),
            ]),
            ("south-2026-27", "South Area Community Fund 2026/27", "south-area", [
                (.council, 5_000_000, "Locality budget devolved by Cabinet"),
                (.police, 1_000_000, "Police and Crime Commissioner community safety fund"),
            ]),
        ]
        for (slug, name, locality, allocations) in budgets {
            let budgetID = id("budget:" + slug)
            try Budget(id: budgetID, name: name, slug: slug, localityId: id("locality:" + locality), financialYear: year)
                .insert(db)
            for (index, (source, pence, note)) in allocations.enumerated() {
                try LedgerEntry(
                    id: id("ledger:\(slug):\(index)"), budgetId: budgetID, kind: .allocation, source: source,
                    amount: Money(pence: pence), note: note, recordedAt: startOfYear
                ).insert(db)
            }
        }
    }

    /// The scheme of delegation, as the Marcher constitution words it (thresholds are data).
    public static let delegation: [(Role, Delegation.Scope, Int64?, String)] = [
        (.councillor, .ownWards, 500_000, "Ward councillors, from their area's community fund, for proposals in their own wards"),
        (.officer, .authority, 2_500_000, "The Locality Commissioner, under officer delegated powers"),
        (.executive, .authority, nil, "The Cabinet Member for Communities, as an executive decision"),
    ]

    private static func loadDelegation(_ db: Database) throws {
        for (role, scope, pence, description) in delegation {
            try Delegation(
                id: id("delegation:\(role.rawValue)"), role: role, scope: scope, maxAmount: pence.map(Money.init(pence:)),
                description: description
            ).insert(db)
        }
    }

    private static func loadNeeds(_ db: Database) throws {
        let needs: [(String, String, String, String, Int, Int, String, String)] = [
            ("brockton-bus", "brockton", "No bus to the GP surgery on market days",
             "Since the 14 was cut, residents of Brockton without a car cannot reach the Whitmere surgery.",
             4, 180, "cllr-north", "rural-transport"),
            ("clunbury-lonely", "clunbury", "Older residents isolated over winter",
             "The lunch club closed in March; the parish clerk reports a dozen residents who see nobody for days.",
             3, 40, "cllr-south", "less-isolation"),
            ("ledwyche-youth", "ledwyche-east", "Nowhere for teenagers to go in the evenings",
             "Anti-social behaviour reports up; the youth club lost its hall.", 3, 120, "cllr-south", "youth-activities"),
        ]
        for (key, locality, title, description, severity, affected, recorder, outcome) in needs {
            let needID = id("need:" + key)
            try Need(
                id: needID, localityId: id("locality:" + locality), title: title, description: description,
                category: nil, outcomeId: id("outcome:" + outcome), severity: severity, peopleAffected: affected,
                latitude: nil, longitude: nil, holdsPersonalData: false, status: .open, statusReason: nil,
                recordedBy: personID(recorder), recordedAt: autumn, updatedAt: autumn
            ).insert(db)
            try Evidence(
                id: id("evidence:" + key), needId: needID, kind: .residentContact,
                note: "Raised at the ward surgery", observedOn: "2026-09-19", addedBy: personID(recorder),
                addedAt: autumn
            ).insert(db)
        }
    }
}
