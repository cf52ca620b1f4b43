/// The projects, costs, budget and approval ballots of a vote: all an allocation rule sees. No
/// ballot carries anything about who cast it.
public struct PBElection: Sendable {
    public struct Project: Sendable, Hashable {
        public var id: String
        public var cost: Rational

        public init(id: String, cost: Rational) {
            self.id = id
            self.cost = cost
        }
    }

    public var projects: [Project]
    public var budget: Rational
    /// Each ballot: the positions in `projects` it approves.
    public var ballots: [[Int]]
    /// One currency unit in the units costs are given in: what `mes-add1-greedy` raises each
    /// voter's share by (1 for a Pabulib file in its currency; 100 for pence).
    public var unit: Rational
    /// Whether costs are in pence: explanations then read in pounds (`£4,500.00`).
    public var inPence: Bool
    /// Whether a project nobody voted for may be funded. The reference rules (`greedy`, the greedy
    /// completion of `mes-add1-greedy`, `phragmen`) fund such a project when it fits, and `pb
    /// allocate` keeps that for research; a council's vote sets this to false, so that residents'
    /// money only ever goes to what residents chose.
    public var fundsUnapproved: Bool

    public init(
        projects: [Project], budget: Rational, ballots: [[Int]], unit: Rational = .one, inPence: Bool = false,
        fundsUnapproved: Bool = true
    ) {
        self.projects = projects
        self.budget = budget
        self.ballots = ballots
        self.unit = unit
        self.inPence = inPence
        self.fundsUnapproved = fundsUnapproved
    }

    /// An amount as explanations write it.
    func money(_ value: Rational) -> String {
        guard inPence else { return value.decimal(places: 2) }
        let pounds = (value / Rational(100)).decimal(places: 2)
        let (whole, fraction) = (pounds.split(separator: ".").first ?? "0", pounds.split(separator: ".").dropFirst().first ?? "00")
        var digits = Array(whole.drop { $0 == "-" })
        var grouped = ""
        while digits.count > 3 {
            grouped = "," + String(digits.suffix(3)) + grouped
            digits.removeLast(3)
        }
        return (whole.hasPrefix("-") ? "-" : "") + "£" + String(digits) + grouped + "." + fraction
    }
}

/// How a vote's result is computed; chosen before the vote opens.
public enum AllocationRule: String, Codable, Sendable, CaseIterable {
    /// Projects in order of approvals, most first, each funded if it still fits.
    case greedy
    /// The Method of Equal Shares with cost utilities.
    case mes
    /// Equal Shares made exhaustive: each voter's share raised one unit at a time while the
    /// outcome fits the real budget, then the rest filled greedily.
    case mesAdd1Greedy = "mes-add1-greedy"
    /// Sequential Phragmén.
    case phragmen

    public var summary: String {
        switch self {
        case .greedy: "most approvals first, each funded if it still fits"
        case .mes: "Method of Equal Shares: each voter holds an equal share of the budget"
        case .mesAdd1Greedy: "Equal Shares, shares raised a unit at a time until the budget is used, then the rest greedily"
        case .phragmen: "sequential Phragmén: supporters share the load of each project as evenly as possible"
        }
    }

    public init(parsing text: String) throws {
        guard let rule = AllocationRule(rawValue: text.lowercased()) else {
            throw LocalityError.invalid(
                "'\(text)' is not an allocation rule; use one of: \(AllocationRule.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = rule
    }
}

/// A rule's result with the explanation a resident can read.
public struct Allocation: Sendable, Codable {
    public var rule: AllocationRule
    public var budget: Rational
    /// Funded project ids, in the order the rule chose them.
    public var funded: [String]
    public var spent: Rational
    /// One line per project, funded first in the order chosen, then the rest by approvals.
    public var projects: [ProjectResult]

    public struct ProjectResult: Sendable, Codable {
        public var id: String
        public var cost: Rational
        public var approvals: Int
        public var funded: Bool
        /// 1 for the first project funded, and so on.
        public var order: Int?
        /// Equal Shares: how many supporters paid, and the most any one of them paid.
        public var payers: Int?
        public var largestShare: Rational?
        public var explanation: String
    }

    enum CodingKeys: String, CodingKey { case rule, budget, funded, spent, projects }
}

extension Rational: Codable {
    /// Encoded as a decimal string with two places (money), exact values stay in memory only.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(decimal(places: 2))
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Rational(decimal: Substring(text)) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a decimal number"))
        }
        self = value
    }
}

/// The allocation rules: pure functions of an election, exact (rational) arithmetic throughout,
/// ties broken by project id in ascending string order (by Unicode code points).
public enum AllocationRules {
    /// The rule's result, or `CountStopped` when it needs more work than `limit` allows.
    public static func allocate(_ election: PBElection, rule: AllocationRule, limit: CountLimit = .standard) throws(CountStopped) -> Allocation {
        let count = Count(election, meter: CountMeter(limit: limit, rule: rule))
        switch rule {
        case .greedy:
            let order = count.greedy(from: [], remaining: election.budget)
            return count.result(rule, order: order, shares: [:], notFunded: { count.greedyReason($0, order: order) })
        case .mes:
            let (order, shares) = try count.equalSharesQuickly(bonusPerVoter: 0)
            return count.result(rule, order: order, shares: shares, notFunded: { count.sharesReason($0, shares: shares) })
        case .mesAdd1Greedy:
            let (order, shares) = try count.equalSharesAddOne()
            let spent = order.reduce(Rational.zero) { $0 + count.costs[$1] }
            let filled = count.greedy(from: order, remaining: election.budget - spent)
            return count.result(rule, order: order + filled, shares: shares, notFunded: { count.greedyReason($0, order: order + filled) })
        case .phragmen:
            let (order, stoppedAt) = try count.phragmen()
            return count.result(rule, order: order, shares: [:], notFunded: { project in
                if count.costs[project] > election.budget {
                    return "it costs \(election.money(count.costs[project])), more than the whole budget of \(election.money(election.budget))"
                }
                if project == stoppedAt {
                    let left = election.budget - order.reduce(.zero) { $0 + count.costs[$1] }
                    return "its turn came next, but it costs \(election.money(count.costs[project])) and only \(election.money(left)) was left, so the count stopped"
                }
                if count.approvals[project] == 0 { return "nobody voted for it" }
                return "the count stopped before its turn"
            })
        }
    }
}

/// The working state of a count: projects by position, ballots grouped into kinds (identical
/// approval sets), which every rule treats alike — voters with the same ballot always hold and
/// pay the same.
struct Count {
    let election: PBElection
    let costs: [Rational]
    let approvals: [Int]
    /// Position of each project in ascending id order: the tie-break.
    let rank: [Int]
    /// Distinct ballots and how many voters cast each.
    let kinds: [(projects: [Int], voters: Int)]
    /// For each project, the ballot kinds that approve it.
    let supporters: [[Int]]
    let voters: Int
    let meter: CountMeter

    init(_ election: PBElection, meter: CountMeter) {
        self.election = election
        self.meter = meter
        costs = election.projects.map(\.cost)
        var grouped: [[Int]: Int] = [:]
        var approvals = Array(repeating: 0, count: election.projects.count)
        for ballot in election.ballots {
            let set = Array(Set(ballot)).sorted()
            grouped[set, default: 0] += 1
            for project in set { approvals[project] += 1 }
        }
        self.approvals = approvals
        let kinds = grouped.map { (projects: $0.key, voters: $0.value) }.sorted { $0.projects.lexicographicallyPrecedes($1.projects) }
        self.kinds = kinds
        var supporters = Array(repeating: [Int](), count: election.projects.count)
        for (index, kind) in kinds.enumerated() { for project in kind.projects { supporters[project].append(index) } }
        self.supporters = supporters
        voters = election.ballots.count
        let ids = election.projects.map { Array($0.id.unicodeScalars.map(\.value)) }
        let byId = ids.indices.sorted { ids[$0].lexicographicallyPrecedes(ids[$1]) }
        var rank = Array(repeating: 0, count: ids.count)
        for (position, project) in byId.enumerated() { rank[project] = position }
        self.rank = rank
    }

    /// All projects in greedy order: most approvals first, then by id.
    var greedyOrder: [Int] {
        costs.indices.sorted { approvals[$0] != approvals[$1] ? approvals[$0] > approvals[$1] : rank[$0] < rank[$1] }
    }

    /// What setting up one Equal Shares pass costs, in steps, before any project is priced.
    var passCost: Int { 64 + 2 * (costs.count + kinds.count) }

    /// Whether the rule may fund `project` at all: a council's vote funds only what someone chose.
    func eligible(_ project: Int) -> Bool { election.fundsUnapproved || approvals[project] > 0 }

    /// Greedy from an existing selection: each project in greedy order funded if it still fits.
    func greedy(from chosen: [Int], remaining start: Rational) -> [Int] {
        var remaining = start
        let already = Set(chosen)
        var order: [Int] = []
        for project in greedyOrder where !already.contains(project) && eligible(project) && costs[project] <= remaining {
            order.append(project)
            remaining -= costs[project]
        }
        return order
    }

    struct Share { var payers: Int; var largest: Rational }

    /// The Method of Equal Shares with cost utilities; every voter starts with budget/n plus the bonus.
    ///
    /// Voters are tracked by level: a level is an amount of money still held, and every ballot
    /// kind is at one level. Kinds at the same level pay alike, so a price is worked out over the
    /// few levels among a project's supporters, not over every voter.
    func equalShares(bonusPerVoter: Int) throws(CountStopped) -> (order: [Int], shares: [Int: Share]) {
        guard voters > 0 else { return ([], [:]) }
        try meter.charge(passCost)
        let start = election.budget / Rational(voters) + Rational(bonusPerVoter) * election.unit
        var levels = Levels(values: [.zero, start], kinds: Array(repeating: 1, count: kinds.count))
        // Lower bounds on each candidate's price per unit of utility (ρ): prices only rise as
        // money is spent, so a candidate whose recomputed price equals its bound is the cheapest.
        var bound: [Int: Rational] = [:]
        for project in costs.indices where !supporters[project].isEmpty { bound[project] = .zero }
        var order: [Int] = []
        var shares: [Int: Share] = [:]
        while !bound.isEmpty {
            guard let next = bound.min(by: { $0.value != $1.value ? $0.value < $1.value : rank[$0.key] < rank[$1.key] }) else { break }
            guard let (rho, alpha) = try price(next.key, levels) else {
                bound[next.key] = nil
                continue
            }
            if rho != next.value {
                bound[next.key] = rho
                continue
            }
            bound[next.key] = nil
            order.append(next.key)
            shares[next.key] = Share(payers: pay(next.key, alpha, &levels), largest: alpha)
        }
        return (order, shares)
    }

    /// Every supporter of `project` still holding money pays up to `alpha`; returns how many paid.
    private func pay(_ project: Int, _ alpha: Rational, _ levels: inout Levels) -> Int {
        var payers = 0
        var moved: [Int: Int] = [:]  // old level → new level
        for kind in supporters[project] where levels.kinds[kind] != 0 {
            payers += kinds[kind].voters
            let old = levels.kinds[kind]
            if let new = moved[old] {
                levels.kinds[kind] = new
            } else {
                let value = levels.values[old]
                let new = value <= alpha ? 0 : levels.add(value - alpha)
                moved[old] = new
                levels.kinds[kind] = new
            }
        }
        return payers
    }

    /// Equal Shares as `equalShares`, with the order found in floating point where that is certain
    /// (`equalSharesApproximately`) and only what each supporter paid worked out exactly, along
    /// that order: one exact price per funded project instead of a search among all of them.
    /// Falls back to the exact count when floating point cannot be sure.
    func equalSharesQuickly(bonusPerVoter bonus: Int) throws(CountStopped) -> (order: [Int], shares: [Int: Share]) {
        guard voters > 0 else { return ([], [:]) }
        guard let order = try equalSharesApproximately(bonusPerVoter: bonus) else { return try equalShares(bonusPerVoter: bonus) }
        return try shares(along: order, bonusPerVoter: bonus)
    }

    /// What each supporter paid, worked out exactly along an order Equal Shares is known to take.
    func shares(along order: [Int], bonusPerVoter bonus: Int) throws(CountStopped) -> (order: [Int], shares: [Int: Share]) {
        guard voters > 0 else { return ([], [:]) }
        let start = election.budget / Rational(voters) + Rational(bonus) * election.unit
        var levels = Levels(values: [.zero, start], kinds: Array(repeating: 1, count: kinds.count))
        var shares: [Int: Share] = [:]
        for project in order {
            // The same price the exact count found when it chose this project.
            guard let (_, alpha) = try price(project, levels) else { return try equalShares(bonusPerVoter: bonus) }
            shares[project] = Share(payers: pay(project, alpha, &levels), largest: alpha)
        }
        return (order, shares)
    }

    /// Amounts (of money held, or of load carried) shared by ballot kinds: level 0 is zero.
    struct Levels {
        var values: [Rational]
        var kinds: [Int]

        mutating func add(_ value: Rational) -> Int {
            values.append(value)
            return values.count - 1
        }

        /// How many voters among `supporters` are at each level, for the levels other than 0.
        func census(_ supporters: [Int], _ kinds: [(projects: [Int], voters: Int)]) -> [(level: Int, voters: Int)] {
            var counts = Array(repeating: 0, count: values.count)
            for kind in supporters { counts[self.kinds[kind]] += kinds[kind].voters }
            var result: [(level: Int, voters: Int)] = []
            for level in 1..<counts.count where counts[level] > 0 { result.append((level, counts[level])) }
            return result
        }
    }

    /// What funding `project` would ask of each supporter: the smallest α with
    /// Σ min(held, α) = cost over its supporters, and ρ = α / cost. Nil if they cannot afford it.
    func price(_ project: Int, _ levels: Levels) throws(CountStopped) -> (rho: Rational, alpha: Rational)? {
        try meter.charge(supporters[project].count + 1)
        let cost = costs[project]
        let census = levels.census(supporters[project], kinds).sorted { levels.values[$0.level] < levels.values[$1.level] }
        guard !cost.isZero else { return census.isEmpty ? nil : (.zero, .zero) }
        var remaining = cost
        var payers = census.reduce(0) { $0 + $1.voters }
        for (level, voters) in census {
            let money = levels.values[level]
            if money.times(payers) >= remaining {
                let alpha = remaining / Rational(payers)
                return (alpha / cost, alpha)
            }
            remaining -= money.times(voters)
            payers -= voters
        }
        return nil
    }

    /// Equal Shares with every share raised one currency unit at a time while the outcome's cost
    /// stays within the real budget, keeping the last outcome within it (or the first exhaustive one).
    ///
    /// "Exhaustive" is judged over the projects someone approved (and that cost something: an
    /// approved project costing nothing is always bought): Equal Shares can never buy a project
    /// nobody approved, so such a project must not keep the shares rising. The loop ends: once a
    /// share reaches the dearest approved project's cost, every approved project is affordable and
    /// the outcome either overspends or is exhaustive.
    func equalSharesAddOne() throws(CountStopped) -> (order: [Int], shares: [Int: Share]) {
        // Each run is first made in floating point, which is exact in its outcome unless some
        // comparison along the way is too close to call; only such runs are made again in exact
        // arithmetic. The run kept is made exactly once more, for what each supporter paid.
        func outcome(_ bonus: Int) throws(CountStopped) -> (order: [Int], shares: [Int: Share]?) {
            if let order = try equalSharesApproximately(bonusPerVoter: bonus) { return (order, nil) }
            let exact = try equalShares(bonusPerVoter: bonus)
            return (exact.order, exact.shares)
        }
        func kept(_ run: (order: [Int], shares: [Int: Share]?), _ bonus: Int) throws(CountStopped) -> (order: [Int], shares: [Int: Share]) {
            if let shares = run.shares { return (run.order, shares) }
            return try shares(along: run.order, bonusPerVoter: bonus)
        }
        let buyable = costs.indices.filter { !supporters[$0].isEmpty && !costs[$0].isZero }
        var bonus = 0
        var previous: (run: (order: [Int], shares: [Int: Share]?), bonus: Int)?
        while true {
            let run = try outcome(bonus)
            let spent = run.order.reduce(Rational.zero) { $0 + costs[$1] }
            if spent > election.budget {
                guard let previous else { return ([], [:]) }
                return try kept(previous.run, previous.bonus)
            }
            let chosen = Set(run.order)
            let exhaustive = buyable.allSatisfy { chosen.contains($0) || spent + costs[$0] > election.budget }
            if exhaustive || voters == 0 { return try kept(run, bonus) }
            previous = (run, bonus)
            bonus += 1
        }
    }

    /// Sequential Phragmén: the project that leaves its supporters' highest load lowest, until one
    /// no longer fits. Returns the order and the project the count stopped at, if any.
    ///
    /// As the reference does it: projects dearer than the whole budget are dropped first; a project
    /// nobody approved carries an infinite load, so such projects come last, in id order (and only
    /// where the election funds them at all); and the count stops when any project tied at the
    /// lowest load no longer fits, even one that tie-breaking would not have picked.
    func phragmen() throws(CountStopped) -> (order: [Int], stoppedAt: Int?) {
        // Loads by level, as for Equal Shares: every supporter of a funded project carries the same load.
        var levels = Levels(values: [.zero], kinds: Array(repeating: 0, count: kinds.count))
        var candidates = Set(costs.indices.filter { approvals[$0] > 0 && costs[$0] <= election.budget })
        var unapproved = costs.indices.filter { approvals[$0] == 0 && eligible($0) && costs[$0] <= election.budget }
            .sorted { rank[$0] < rank[$1] }
        var remaining = election.budget
        var order: [Int] = []
        while !candidates.isEmpty {
            var tied: [Int] = []
            var lowest: Rational?
            for project in candidates {
                try meter.charge(supporters[project].count + 1)
                var total = costs[project]
                for (level, voters) in levels.census(supporters[project], kinds) { total += levels.values[level].times(voters) }
                let newLoad = total / Rational(approvals[project])
                if let current = lowest, current < newLoad { continue }
                if let current = lowest, current == newLoad {
                    tied.append(project)
                } else {
                    lowest = newLoad
                    tied = [project]
                }
            }
            guard let newLoad = lowest else { break }
            tied.sort { rank[$0] < rank[$1] }
            if let stop = tied.first(where: { costs[$0] > remaining }) { return (order, stop) }
            let project = tied[0]
            remaining -= costs[project]
            order.append(project)
            candidates.remove(project)
            let level = newLoad.isZero ? 0 : levels.add(newLoad)
            for kind in supporters[project] { levels.kinds[kind] = level }
        }
        // Infinite loads, all tied: in id order while every one of them still fits.
        while !unapproved.isEmpty {
            if let stop = unapproved.first(where: { costs[$0] > remaining }) { return (order, stop) }
            let project = unapproved.removeFirst()
            remaining -= costs[project]
            order.append(project)
        }
        return (order, nil)
    }

    func greedyReason(_ project: Int, order: [Int]) -> String {
        if !eligible(project) { return "nobody voted for it" }
        // Replay greedy order to find what was left when its turn came.
        var remaining = election.budget
        let funded = Set(order)
        for candidate in greedyOrder {
            if candidate == project { break }
            if funded.contains(candidate) { remaining -= costs[candidate] }
        }
        let left = order.reduce(election.budget) { $0 - costs[$1] }
        let atEnd = left == remaining ? "" : " (\(election.money(left)) at the end)"
        return "did not fit: it costs \(election.money(costs[project])); \(election.money(remaining)) was left when its turn came\(atEnd)"
    }

    func sharesReason(_ project: Int, shares: [Int: Share]) -> String {
        if approvals[project] == 0 { return "nobody voted for it" }
        return "not enough support: its \(approvals[project]) supporter\(approvals[project] == 1 ? "" : "s") could not together pay its cost of \(election.money(costs[project])) from their equal shares"
    }

    func result(_ rule: AllocationRule, order: [Int], shares: [Int: Share], notFunded: (Int) -> String) -> Allocation {
        let funded = Set(order)
        var lines: [Allocation.ProjectResult] = []
        for (position, project) in order.enumerated() {
            let share = shares[project]
            var text = "funded \(position + 1)\(ordinal(position + 1)): costs \(election.money(costs[project])), backed by \(approvals[project]) voter\(approvals[project] == 1 ? "" : "s")"
            if let share {
                text += "; \(share.payers) of them paid, none more than \(election.money(share.largest))"
            } else if rule == .mesAdd1Greedy {
                text += "; funded from what Equal Shares left"
            }
            lines.append(.init(
                id: election.projects[project].id, cost: costs[project], approvals: approvals[project], funded: true,
                order: position + 1, payers: share?.payers, largestShare: share?.largest, explanation: text))
        }
        for project in greedyOrder where !funded.contains(project) {
            lines.append(.init(
                id: election.projects[project].id, cost: costs[project], approvals: approvals[project], funded: false,
                order: nil, payers: nil, largestShare: nil, explanation: notFunded(project)))
        }
        return Allocation(
            rule: rule, budget: election.budget, funded: order.map { election.projects[$0].id },
            spent: order.reduce(.zero) { $0 + costs[$1] }, projects: lines)
    }

    private func ordinal(_ n: Int) -> String {
        if (11...13).contains(n % 100) { return "th" }
        switch n % 10 {
        case 1: return "st"
        case 2: return "nd"
        case 3: return "rd"
        default: return "th"
        }
    }
}
