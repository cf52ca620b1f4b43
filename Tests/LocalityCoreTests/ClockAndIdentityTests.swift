import Foundation
import LocalityCore
import Testing

@Suite("Hybrid logical clock and device-made identifiers")
struct ClockAndIdentityTests {
    @Test func localEventsAreStrictlyIncreasingEvenWhenTheWallClockGoesBack() {
        var last: HLCTimestamp?
        let walls: [Int64] = [1000, 1000, 999, 500, 1001, 1001, 2000]
        var seen: [HLCTimestamp] = []
        for wall in walls {
            let next = HLCTimestamp.next(after: last, wallMillis: wall, node: "a")
            if let last { #expect(next > last) }
            seen.append(next)
            last = next
        }
        #expect(seen.last == HLCTimestamp(wallMillis: 2000, counter: 0, node: "a"))
    }

    @Test func receivingARemoteTimestampMovesTheClockPastIt() {
        let remote = HLCTimestamp(wallMillis: 5000, counter: 3, node: "b")
        let local = HLCTimestamp.receive(remote, local: HLCTimestamp(wallMillis: 10, counter: 0, node: "a"), wallMillis: 20, node: "a")
        #expect(local > remote)
        #expect(local.wallMillis == 5000 && local.counter == 4)
    }

    @Test func textOrderIsValueOrder() throws {
        var generator = SeededGenerator(seed: 3)
        let stamps = (0..<500).map { _ in
            HLCTimestamp(
                wallMillis: Int64.random(in: 0...2_000_000_000_000, using: &generator),
                counter: Int32.random(in: 0...99_999, using: &generator), node: ["a", "b", "c"].randomElement(using: &generator)!)
        }
        #expect(stamps.sorted() == stamps.sorted { $0.description < $1.description })
        for stamp in stamps { #expect(try HLCTimestamp(parsing: stamp.description) == stamp) }
    }

    @Test func uuidV7CarriesItsTimeAndVersion() {
        var generator = SeededGenerator(seed: 1)
        let early = UUID.v7(at: Date(timeIntervalSince1970: 1_700_000_000), using: &generator)
        let late = UUID.v7(at: Date(timeIntervalSince1970: 1_700_000_001), using: &generator)
        #expect(early.key < late.key)
        #expect(Array(early.key)[14] == "7")
        #expect(["8", "9", "a", "b"].contains(Array(early.key)[19]))
        #expect(early.key.hasPrefix("018bcfe5-6800"))
    }

    @Test func stableIdsAreTheSameEverywhereAndDistinct() {
        #expect(UUID.stable("demo:locality:brockton") == UUID.stable("demo:locality:brockton"))
        let ids = Set((0..<10_000).map { UUID.stable("name-\($0)") })
        #expect(ids.count == 10_000)
    }
}
