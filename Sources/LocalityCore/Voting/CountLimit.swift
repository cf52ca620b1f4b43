/// How much work a count may do before it gives up: no election, however built, makes a count
/// run away.
///
/// Work is counted in steps: one step is one ballot kind (a set of voters with the same ballot)
/// looked at while pricing one project, and each Equal Shares pass costs its setting-up. The
/// largest real election at hand, Warszawa 2022 Śródmieście (3,880 voters, 80 projects), takes
/// 35–50 million steps under `mes-add1-greedy` (0.7 s in release); every one of 19 real Pabulib
/// elections takes under 50 million under every rule; an election built to make shares rise ten
/// million times reaches 200 million in 2.2 s (release, 2-core machine).
public struct CountLimit: Sendable, Hashable {
    public var steps: Int

    public init(steps: Int) { self.steps = steps }

    /// Four times the largest real election's need; a few seconds on a 2-core machine at the most.
    public static let standard = CountLimit(steps: 200_000_000)
    public static let unlimited = CountLimit(steps: .max)
}

/// Why a count stopped without a result.
public enum CountStopped: Error, Sendable, CustomStringConvertible {
    /// The rule needed more work than the limit allows.
    case tooMuchWork(rule: AllocationRule, steps: Int)
    /// The task running the count was cancelled (the server is shutting down).
    case cancelled

    public var description: String {
        switch self {
        case .tooMuchWork(let rule, let steps):
            "the count under \(rule.rawValue) needs more than \(steps) steps of work, the most a count may take; nothing was counted"
        case .cancelled: "the count was stopped before it finished; nothing was counted"
        }
    }
}

/// Counts the work of one count and stops it at the limit, or when its task is cancelled.
final class CountMeter {
    let limit: Int
    let rule: AllocationRule
    private(set) var steps = 0
    private var nextCancellationCheck = 1 << 16

    init(limit: CountLimit, rule: AllocationRule) {
        self.limit = limit.steps
        self.rule = rule
    }

    @inline(__always)
    func charge(_ work: Int) throws(CountStopped) {
        steps &+= work
        if steps > limit { throw .tooMuchWork(rule: rule, steps: limit) }
        if steps >= nextCancellationCheck {
            nextCancellationCheck = steps + (1 << 16)
            if Task.isCancelled { throw .cancelled }
        }
    }
}
