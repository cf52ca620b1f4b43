/// The fast path of `mes-add1-greedy`: an Equal Shares pass in floating point that knows when it
/// cannot be trusted.
extension Count {
    /// Equal Shares in Double arithmetic: the same outcome as `equalShares`, or nil when a
    /// comparison it makes is within a relative 1e-9 — far wider than the rounding error of the few
    /// hundred operations behind any value here — so that only exact arithmetic can settle it.
    func equalSharesApproximately(bonusPerVoter: Int) throws(CountStopped) -> [Int]? {
        guard voters > 0 else { return [] }
        try meter.charge(passCost)
        let tolerance = 1e-9
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= tolerance * max(abs(a), abs(b)) }
        let costs = self.costs.map(\.doubleValue)
        let start = (election.budget / Rational(voters) + Rational(bonusPerVoter) * election.unit).doubleValue
        var values: [Double] = [0, start]
        var levelOf = Array(repeating: 1, count: kinds.count)
        var bound = Array(repeating: 0.0, count: costs.count)
        var live = costs.indices.filter { !supporters[$0].isEmpty }
        var counts = Array(repeating: 0, count: 2)
        var order: [Int] = []
        // Scratch space kept between calls: the levels a project's supporters hold, and where each
        // level moves when a project is paid for (-1: not yet).
        var used: [Int] = []
        var moved: [Int] = []

        enum Price { case tooClose, unaffordable, price(rho: Double, alpha: Double) }

        func price(_ project: Int) throws(CountStopped) -> Price {
            try meter.charge(supporters[project].count + 1)
            if counts.count < values.count { counts = Array(repeating: 0, count: values.count) }
            used.removeAll(keepingCapacity: true)
            for kind in supporters[project] {
                let level = levelOf[kind]
                if level == 0 { continue }
                if counts[level] == 0 { used.append(level) }
                counts[level] += self.kinds[kind].voters
            }
            defer { for level in used { counts[level] = 0 } }
            used.sort { values[$0] < values[$1] }
            let cost = costs[project]
            var total = 0.0
            for level in used { total += values[level] * Double(counts[level]) }
            if close(total, cost) { return .tooClose }
            guard total > cost else { return .unaffordable }
            if cost == 0 { return .price(rho: 0, alpha: 0) }
            var remaining = cost
            var payers = used.reduce(0) { $0 + counts[$1] }
            for level in used {
                let money = values[level] * Double(payers)
                if close(money, remaining) { return .tooClose }
                if money > remaining {
                    let alpha = remaining / Double(payers)
                    return .price(rho: alpha / cost, alpha: alpha)
                }
                remaining -= values[level] * Double(counts[level])
                payers -= counts[level]
            }
            return .unaffordable
        }

        while !live.isEmpty {
            // The candidate with the smallest bound (prices only rise, so bounds are lower bounds).
            var best = live[0]
            for project in live.dropFirst() where bound[project] < bound[best] || (bound[project] == bound[best] && rank[project] < rank[best]) {
                best = project
            }
            var winner: (project: Int, rho: Double, alpha: Double)
            switch try price(best) {
            case .tooClose: return nil
            case .unaffordable:
                live.removeAll { $0 == best }
                continue
            case .price(let rho, let alpha):
                bound[best] = rho
                winner = (best, rho, alpha)
            }
            // Every other candidate whose bound is not clearly above that price is priced afresh;
            // the cheapest wins, and two prices too close to tell apart go to exact arithmetic.
            let rivals = live.filter { $0 != best && (bound[$0] < winner.rho || close(bound[$0], winner.rho)) }
            var gone: [Int] = []
            var prices: [(project: Int, rho: Double, alpha: Double)] = [winner]
            for rival in rivals {
                switch try price(rival) {
                case .tooClose: return nil
                case .unaffordable: gone.append(rival)
                case .price(let rho, let alpha):
                    bound[rival] = rho
                    prices.append((rival, rho, alpha))
                }
            }
            live.removeAll { gone.contains($0) }
            prices.sort { $0.rho < $1.rho }
            winner = prices[0]
            if prices.count > 1, close(prices[0].rho, prices[1].rho) { return nil }
            live.removeAll { $0 == winner.project }
            order.append(winner.project)
            if moved.count < values.count { moved = Array(repeating: -1, count: values.count + 16) }
            var touched: [Int] = []
            defer { for level in touched { moved[level] = -1 } }
            for kind in supporters[winner.project] where levelOf[kind] != 0 {
                let old = levelOf[kind]
                if moved[old] >= 0 {
                    levelOf[kind] = moved[old]
                    continue
                }
                let value = values[old]
                if close(value, winner.alpha) { return nil }
                let new: Int
                if value < winner.alpha {
                    new = 0
                } else {
                    values.append(value - winner.alpha)
                    new = values.count - 1
                }
                moved[old] = new
                touched.append(old)
                levelOf[kind] = new
            }
        }
        return order
    }
}
