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
    public static let usernames = [
        "admin", "officer", "finance", "cabinet", "cllr-north", "cllr-south", "clerk-north", "clerk-south", "resident-south",
        "transport",
    ]

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
        (org("ledwyche-youth-mutual", "Ledwyche Youth Mutual", .mutual, nil), ["ledwyche-town"]),
        (org("hopton-cross-good-neighbours", "Hopton Cross Good Neighbours", .communityGroup, nil),
         ["hopton-cross"]),
        (org("marcher-locality-team", "Marcher County Council Locality Team", .inHouseTeam, "GB-LAE-MAR"), ["marcher"]),
        (org("marches-health-partnership", "Marches Health Partnership", .publicBody, nil), ["marcher"]),
    ]

    private static func org(_ slug: String, _ name: String, _ kind: Organisation.Kind, _ identifier: String?) -> Organisation {
        Organisation(id: id("organisation:" + slug), name: name, kind: kind, orgIdentifier: identifier, slug: slug)
    }

    /// The accounts: username, display name, and roles (role, ward or organisation slug).
    public static let accounts: [(String, String, [(Role, String?)])] = [
        ("admin", "Sync Server Operator and Council Administrator", [(.operator, nil), (.administrator, nil)]),
        ("officer", "Priya Shah (Locality Commissioner)", [(.officer, nil), (.member, "marcher-locality-team")]),
        ("finance", "Ben Carter (Finance Business Partner)", [(.finance, nil)]),
        ("cabinet", "Cllr Margaret Rowe (Cabinet Member for Communities)", [(.executive, nil)]),
        ("cllr-north", "Cllr Tom Hughes", [(.councillor, "whitmere-ward"), (.councillor, "brockton-ward")]),
        ("cllr-south", "Cllr Aisha Patel", [(.councillor, "clunbury-ward"), (.councillor, "ledwyche-ward")]),
        ("clerk-north", "Jenny Marsh (Clerk, Whitmere Town Council)", [(.member, "whitmere-town-council")]),
        ("clerk-south", "David Owen (Clerk, Clunbury Parish Council)", [(.member, "clunbury-parish-council")]),
        ("resident-south", "Sam Evans (resident of Ledwyche)", [(.resident, "ledwyche-town")]),
        ("transport", "Gareth Lloyd (Operations Manager, Marches Community Transport)", [(.member, "marches-community-transport")]),
    ]

    public static func personID(_ username: String) -> UUID { id("person:" + username) }

    /// The titles of the proposals the demo's pass round the cycle brings (see `loadCycle`), so
    /// that tests can tell their own records from the demo's.
    public static let cycleProposalTitles: Set<String> = Set(
        ["Winter lunch club at the chapel", "Friday youth evenings", "Village green benches"] + youDecideProposals.map(\.title)
            + commissionBids.map(\.title))

    /// The participatory-budgeting round: Ledwyche's proposals, submitted and checked for
    /// feasibility, ready for an officer to put to the residents' vote (`locality vote open`).
    public static let youDecideProposals: [(slug: String, organisation: String, place: String, title: String, pence: Int64, summary: String)] = [
        ("skate-ramps", "ledwyche-youth-mutual", "ledwyche-east", "Skate ramps on Ledwyche East rec", 600_000,
         "Modular skate ramps, installed and insured, with two free coaching days."),
        ("litter-kit", "ledwyche-youth-mutual", "ledwyche-town", "Riverside litter-pick kit and skips", 150_000,
         "Grabbers, hoops, hi-vis and two skips a year for the monthly riverside clean-up."),
        ("dial-a-ride", "marches-community-transport", "ledwyche-town", "Dial-a-ride to Ledwyche market", 400_000,
         "A weekly accessible minibus from the outlying lanes to Saturday market for a year."),
        ("christmas-lights", "ledwyche-youth-mutual", "ledwyche-town", "Town-centre Christmas lights", 350_000,
         "Low-energy lights for the market square, put up by volunteers with the youth group."),
    ]

    /// Builds the demo council. Run inside a transaction on an empty database.
    ///
    /// The geography and the accounts are what an operator's `localities import` and `user
    /// import` make; organisations, the outcomes framework, funds and their money, the scheme of
    /// delegation and the councillors' needs are made through the same mutations a real council's officers use, as the
    /// people who would make them, so the demo cannot drift from what a real council gets.
    public static func load(into db: Database) throws {
        for locality in localities { try locality.insert(db) }
        for (username, displayName, roles) in accounts {
            try Person(id: personID(username), username: username, displayName: displayName).insert(db)
            for (index, (role, scope)) in roles.enumerated() {
                try RoleAssignment(
                    id: id("role:\(username):\(index)"), personId: personID(username), role: role,
                    localityId: role == .councillor || role == .resident ? scope.map { id("locality:" + $0) } : nil,
                    organisationId: role == .member ? scope.map { id("organisation:" + $0) } : nil
                ).insert(db)
            }
        }
        for (organisation, served) in organisations {
            try run(
                AddOrganisation(
                    organisationId: organisation.id, name: organisation.name, kind: organisation.kind,
                    orgIdentifier: organisation.orgIdentifier, localityIds: served.map { id("locality:" + $0) }, slug: organisation.slug),
                as: "officer", at: startOfYear, db)
        }
        try loadOutcomes(db)
        try loadDelegation(db)
        try loadBudgets(db)
        try loadNeeds(db)
        try loadCycle(db)
        try loadYouDecide(db)
        try loadCommission(db)
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
            try run(
                AddOutcome(outcomeId: id("outcome:" + slug), title: title, level: level, parentId: parent.map { id("outcome:" + $0) }, slug: slug),
                as: "admin", at: startOfYear, db)
        }
        let indicators: [(String, String, String, Indicator.Direction, Double, Double, String)] = [
            ("less-isolation", "Residents 65+ who often feel lonely", "%", .lowerIsBetter, 14, 10, "Marcher residents' survey"),
            ("rural-transport", "Community transport journeys a month", "journeys", .higherIsBetter, 320, 500, "Operators' returns"),
            ("youth-activities", "Young people attending weekly sessions", "people", .higherIsBetter, 40, 90, "Youth service registers"),
            ("falls-prevented", "Emergency admissions for falls, 65+", "per 100,000", .lowerIsBetter, 2100, 1900, "OHID Fingertips"),
        ]
        for (outcome, name, unit, direction, baseline, target, source) in indicators {
            try run(
                AddIndicator(
                    indicatorId: id("indicator:\(outcome):\(name)"), outcomeId: id("outcome:" + outcome), name: name, unit: unit,
                    direction: direction, baseline: baseline, target: target, source: source),
                as: "admin", at: startOfYear, db)
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
            try run(
                CreateBudget(budgetId: budgetID, name: name, localityId: id("locality:" + locality), financialYear: year, slug: slug),
                as: "finance", at: startOfYear, db)
            for (index, (source, pence, note)) in allocations.enumerated() {
                try run(
                    AllocateBudget(ledgerEntryId: id("ledger:\(slug):\(index)"), budgetId: budgetID, source: source, amount: Money(pence: pence), note: note),
                    as: "finance", at: startOfYear, db)
            }
            // Proposals are submitted into an open round only: each fund takes proposals all
            // year through its open call, as well as through any themed round.
            try Round(
                id: id("round:\(slug):open-call"), budgetId: budgetID, title: "\(name): open call", opensOn: "2026-04-01",
                closesOn: "2027-03-31", maxAward: nil, localityIds: "[]", organisationKinds: "[]", needIds: "[]", outcomeIds: "[]",
                councillorsAssess: true, createdBy: personID("officer"), createdAt: startOfYear
            ).insert(db)
            try Criterion(
                id: id("criterion:\(slug):open-call"), roundId: id("round:\(slug):open-call"), name: "Overall merit", weight: 100,
                scaleMax: 5, guidance: "Fit to the area's needs, value for money and deliverability, taken together", position: 0
            ).insert(db)
        }
    }

    /// The scheme of delegation, as the Marcher constitution words it (thresholds are data).
    public static let delegation: [(Role, Delegation.Scope, Int64?, String)] = [
        (.councillor, .ownWards, 500_000, "Ward councillors, from their area's community fund, for proposals in their own wards"),
        (.officer, .authority, 2_500_000, "The Locality Commissioner, under officer delegated powers"),
        (.executive, .authority, nil, "The Cabinet Member for Communities, as an executive decision"),
    ]

    /// Who may move money between funds, as the Marcher financial regulations word it.
    public static let virements: [(Role, Int64?, String)] = [
        (.finance, 1_000_000, "The Finance Business Partner, between locality funds, under the financial regulations"),
        (.executive, nil, "The Cabinet Member for Communities, as an executive decision"),
    ]

    private static func loadDelegation(_ db: Database) throws {
        let lines = delegation.map { role, scope, pence, description in
            AdoptScheme.Line(
                id: id("delegation:\(role.rawValue)"), role: role, scope: scope, maxAmount: pence.map(Money.init(pence:)), description: description)
        } + virements.map { role, pence, description in
            AdoptScheme.Line(
                id: id("delegation:virement:\(role.rawValue)"), matter: .virement, role: role, scope: .authority,
                maxAmount: pence.map(Money.init(pence:)), description: description)
        }
        try run(
            AdoptScheme(basedOnVersion: 0, lines: lines, note: "Marcher County Council constitution, part 3, as adopted in May 2026"),
            as: "admin", at: startOfYear, db)
    }

    /// Applies a mutation as one of the demo's people would make it, through the same rules.
    static func run(_ command: some MutationCommand, as username: String, at date: Date, _ db: Database) throws {
        let context = MutationContext(
            actor: try Actor.load(db, personId: personID(username)), at: date,
            hlc: HLCTimestamp(wallMillis: Int64(date.timeIntervalSince1970 * 1000), counter: 0, node: "demo"))
        try db.inMutationSavepoint { try command.apply(context, db) }
    }

    /// One pass round the cycle on the South fund, so a newcomer sees every part of it: an open
    /// round with weighted criteria; three submitted proposals, assessed; one approved by the ward
    /// councillor and awarded, part paid, monitored and reviewed; one awaiting a decision; one
    /// rejected with reasons.
    private static func loadCycle(_ db: Database) throws {
        let budget = id("budget:south-2026-27")
        let round = id("round:south-small-grants")
        let october = Date(timeIntervalSince1970: 1_791_331_200)  // 2026-10-07
        let november = Date(timeIntervalSince1970: 1_763_337_600 + 31_536_000)  // 2026-11-17
        try Round(
            id: round, budgetId: budget, title: "South small grants 2026/27", opensOn: "2026-09-01", closesOn: "2027-01-31",
            maxAward: Money(pence: 500_000), localityIds: "[]", organisationKinds: "[]",
            needIds: JSONValue.array([.string(id("need:clunbury-lonely").key), .string(id("need:ledwyche-youth").key)]).jsonText,
            outcomeIds: JSONValue.array([.string(id("outcome:less-isolation").key), .string(id("outcome:youth-activities").key)]).jsonText,
            councillorsAssess: true, createdBy: personID("officer"), createdAt: autumn
        ).insert(db)
        let criteria: [(String, String, Int, String)] = [
            ("fit", "Fit to the priority needs", 40, "Does it meet a need recorded in the area, with evidence?"),
            ("outcomes", "Outcomes and how they will be measured", 20, "Clear indicators, baselines and targets"),
            ("value", "Value for money and social value", 20, "Cost per person helped; local jobs and volunteers"),
            ("deliverability", "Deliverability and risk", 20, "Track record, permissions, what could go wrong"),
        ]
        for (position, (key, name, weight, guidance)) in criteria.enumerated() {
            try Criterion(
                id: id("criterion:\(key)"), roundId: round, name: name, weight: weight, scaleMax: 5, guidance: guidance,
                position: position
            ).insert(db)
        }
        let proposals: [(String, String, String, String, Int64, String, String, Proposal.Status, [Int])] = [
            ("lunch-club", "hopton-cross-good-neighbours", "hopton-cross", "Winter lunch club at the chapel", 450_000,
             "A weekly hot lunch and transport for isolated older residents, October to March.", "clunbury-lonely", .approved,
             [5, 4, 4, 4]),
            ("youth-evenings", "ledwyche-youth-mutual", "ledwyche-town", "Friday youth evenings", 380_000,
             "Two youth workers and a hired hall on Friday evenings for a year.", "ledwyche-youth", .submitted, [4, 3, 3, 3]),
            ("benches", "clunbury-parish-council", "clunbury", "Village green benches", 120_000,
             "Six new benches on the village green.", "clunbury-lonely", .rejected, [1, 2, 3, 5]),
        ]
        for (key, organisation, place, title, pence, summary, need, status, scores) in proposals {
            let proposalID = id("proposal:" + key)
            try Proposal(
                id: proposalID, budgetId: budget, localityId: id("locality:" + place), organisationId: id("organisation:" + organisation),
                title: title, summary: summary, amountRequested: Money(pence: pence), deliveryModel: .communityLed, socialValue: "",
                status: status,
                statusReason: status == .rejected ? "Highways will replace the benches in the 2027 programme" : nil,
                createdBy: personID(organisation == "clunbury-parish-council" ? "clerk-south" : "officer"), createdAt: autumn,
                updatedAt: october, submittedAt: autumn, roundId: round
            ).insert(db)
            try db.execute(
                sql: "INSERT INTO proposal_need (proposal_id, need_id) VALUES (?, ?)", arguments: [proposalID.key, id("need:" + need).key])
            for (index, (criterion, _, _, _)) in criteria.enumerated() {
                try Assessment(
                    id: id("assessment:\(key):\(criterion)"), proposalId: proposalID, criterionId: id("criterion:\(criterion)"),
                    assessorId: personID("officer"), score: scores[index], comment: "", scoredAt: october
                ).insert(db)
            }
        }
        // The lunch club: approved by the ward councillor within her delegation, awarded, part paid.
        let lunch = id("proposal:lunch-club")
        let approval = id("decision:lunch-club")
        try Decision(
            id: approval, proposalId: lunch, outcome: .approved, amount: Money(pence: 450_000), decidedBy: personID("cllr-south"),
            authority: "councillor up to £5,000.00 for their own wards (\(delegation[0].3))", delegationId: id("delegation:councillor"),
            reasons: "Highest scored; meets the isolation need recorded at the ward surgery", conditions: "DBS checks for drivers",
            decidedAt: october, schemeVersion: 1
        ).insert(db)
        try Decision(
            id: id("decision:benches"), proposalId: id("proposal:benches"), outcome: .rejected, amount: nil,
            decidedBy: personID("officer"), authority: "officer up to £25,000.00 (\(delegation[1].3))",
            delegationId: id("delegation:officer"), reasons: "Highways will replace the benches in the 2027 programme",
            conditions: "", decidedAt: october, schemeVersion: 1
        ).insert(db)
        try LedgerEntry(
            id: id("ledger:lunch-club:commitment"), budgetId: budget, kind: .commitment, amount: Money(pence: 450_000),
            note: "Approved: Winter lunch club at the chapel", recordedAt: october, decisionId: approval, proposalId: lunch,
            recordedBy: personID("cllr-south")
        ).insert(db)
        let award = id("award:lunch-club")
        try Award(
            id: award, proposalId: lunch, decisionId: approval, budgetId: budget,
            organisationId: id("organisation:hopton-cross-good-neighbours"), title: "Winter lunch club at the chapel",
            amount: Money(pence: 450_000), status: .active, startsOn: "2026-10-12", endsOn: "2027-03-31",
            createdBy: personID("officer"), createdAt: october
        ).insert(db)
        let milestones: [(String, String, String, Milestone.Status)] = [
            ("kitchen", "Chapel kitchen certified", "2026-10-31", .met),
            ("twenty", "Twenty regular guests", "2026-12-18", .pending),
            ("spring", "Hand-over plan for spring", "2027-03-15", .pending),
        ]
        for (key, title, due, status) in milestones {
            try Milestone(
                id: id("milestone:lunch-club:\(key)"), awardId: award, title: title, dueOn: due, status: status,
                metOn: status == .met ? "2026-10-28" : nil
            ).insert(db)
        }
        try Instalment(id: id("instalment:lunch-club:1"), awardId: award, amount: Money(pence: 225_000), dueOn: "2026-10-12", onOutcome: nil)
            .insert(db)
        try Instalment(
            id: id("instalment:lunch-club:2"), awardId: award, amount: Money(pence: 225_000), dueOn: nil,
            onOutcome: "Twenty regular guests, evidenced by the register"
        ).insert(db)
        let guests = id("award-indicator:lunch-club:guests")
        try AwardIndicator(id: guests, awardId: award, name: "Regular guests", unit: "people", baseline: 0, target: 20).insert(db)
        try LedgerEntry(
            id: id("ledger:lunch-club:payment:1"), budgetId: budget, kind: .payment, amount: Money(pence: 225_000),
            note: "First instalment", recordedAt: october, decisionId: approval, proposalId: lunch, recordedBy: personID("officer"),
            awardId: award
        ).insert(db)
        try MonitoringReport(
            id: id("report:lunch-club:1"), awardId: award, periodEnd: "2026-11-13",
            progress: "Kitchen certified; five lunches served; volunteers drive four guests from outlying farms.",
            spend: Money(pence: 148_000), issues: "The minibus insurance renewal is late.",
            measurements: JSONValue.object([guests.key: .double(14)]).jsonText, submittedBy: personID("officer"),
            submittedAt: november
        ).insert(db)
        try Review(
            id: id("review:lunch-club:interim"), awardId: award, verdict: .extend,
            achieved: JSONValue.array([.object([
                "indicator": .string("Regular guests"), "unit": .string("people"), "target": .double(20), "baseline": .double(0),
                "latest": .double(14),
            ])]).jsonText,
            summary: "Interim review: 14 regular guests against 20; on track by Christmas.",
            lessons: "Transport, not the lunch, is what brings people: the next round should fund it directly.",
            raisedNeedIds: "[]", reviewedBy: personID("officer"), reviewedAt: november
        ).insert(db)
    }

    /// "Ledwyche: You Decide": a round for participatory budgeting, its proposals submitted.
    private static func loadYouDecide(_ db: Database) throws {
        let round = id("round:ledwyche-you-decide")
        try Round(
            id: round, budgetId: id("budget:south-2026-27"), title: "Ledwyche: You Decide 2026/27", opensOn: "2026-10-01",
            closesOn: "2026-10-31", maxAward: Money(pence: 600_000),
            localityIds: JSONValue.array([.string(id("locality:ledwyche-town").key)]).jsonText, organisationKinds: "[]",
            needIds: "[]", outcomeIds: "[]", councillorsAssess: true, createdBy: personID("officer"), createdAt: autumn
        ).insert(db)
        try Criterion(
            id: id("criterion:you-decide:feasible"), roundId: round, name: "Feasible, legal and deliverable within the year",
            weight: 100, scaleMax: 1, guidance: "The officers' feasibility check before the residents' vote", position: 0
        ).insert(db)
        for proposal in youDecideProposals {
            try Proposal(
                id: id("proposal:" + proposal.slug), budgetId: id("budget:south-2026-27"), localityId: id("locality:" + proposal.place),
                organisationId: id("organisation:" + proposal.organisation), title: proposal.title, summary: proposal.summary,
                amountRequested: Money(pence: proposal.pence), deliveryModel: .communityLed, socialValue: "", status: .submitted,
                statusReason: nil, createdBy: personID("officer"), createdAt: autumn, updatedAt: autumn, submittedAt: autumn,
                roundId: round
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
            var need = RecordNeed(needId: id("need:" + key), localityId: id("locality:" + locality), title: title)
            need.description = description
            need.outcomeId = id("outcome:" + outcome)
            need.severity = severity
            need.peopleAffected = affected
            need.evidence = [
                EvidenceInput(id: id("evidence:" + key), kind: .residentContact, note: "Raised at the ward surgery", observedOn: "2026-09-19")
            ]
            try run(need, as: recorder, at: autumn, db)
        }
    }
}
