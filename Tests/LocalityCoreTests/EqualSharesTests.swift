import Foundation
@testable import LocalityCore
import Testing

/// Equal Shares made quickly — the order found in floating point where that is certain, then what
/// each supporter paid worked out exactly along it — gives exactly what the all-rational count
/// gives: the same projects in the same order, the same payers and the same largest share.
@Suite struct EqualSharesQuicklyTests {
    @Test(arguments: PabulibFixtures.names)
    func theQuickCountEqualsTheExactOne(_ name: String) throws {
        let election = try PabulibFixtures.instance(name).election()
        let count = Count(election, meter: CountMeter(limit: .unlimited, rule: .mes))
        for bonus in [0, 1, 7, 40] {
            let exact = try count.equalShares(bonusPerVoter: bonus)
            let quick = try count.equalSharesQuickly(bonusPerVoter: bonus)
            #expect(quick.order == exact.order, "\(name), bonus \(bonus)")
            #expect(quick.shares.count == exact.shares.count, "\(name), bonus \(bonus)")
            for (project, share) in exact.shares {
                #expect(quick.shares[project]?.payers == share.payers, "\(name), bonus \(bonus), project \(project)")
                #expect(quick.shares[project]?.largest == share.largest, "\(name), bonus \(bonus), project \(project)")
            }
        }
    }
}
