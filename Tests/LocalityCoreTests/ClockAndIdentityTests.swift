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

@Suite("Timestamps: one canonical text per millisecond")
struct TimestampTests {
    /// Foundation's own formatter truncates: for a `Date` a hair below its millisecond it writes
    /// the one before, so its text would not round-trip. Ours names the exact millisecond, and
    /// Foundation reads it back as that millisecond.
    @Test func theHandWrittenFormatIsExactAndFoundationReadsItBack() throws {
        var generator = SeededGenerator(seed: 11)
        let foundation = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
        for _ in 0..<5_000 {
            // 1900 to 2200, including leap days and the ends of years.
            let millis = Int64.random(in: -2_208_988_800_000...7_258_118_400_000, using: &generator)
            let date = Date(milliseconds: millis)
            let text = Timestamps.format(date)
            #expect(Timestamps.milliseconds(try foundation.parse(text)) == millis, "\(text)")
            #expect(Timestamps.parse(text) == date)
        }
        #expect(Timestamps.format(Date(milliseconds: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamps.format(Date(milliseconds: 951_782_400_000)) == "2000-02-29T00:00:00.000Z")
    }

    @Test func otherISOFormsStillParseAndNonsenseDoesNot() {
        #expect(Timestamps.parse("2026-11-22T21:17:06Z") == Date(milliseconds: 1_795_382_226_000))
        #expect(Timestamps.parse("2026-13-22T21:17:06.000Z") == nil)
        // Found by fuzzing: Foundation read this as the year 202116, which could not be written back.
        #expect(Timestamps.parse("202116-9-30T17:00:00.0006-9-30T17:00:00.000Z") == nil)
        #expect(Timestamps.parse("yesterday") == nil)
    }
}

@Suite("UUID text: the hand-written codec agrees with Foundation's")
struct UUIDTextTests {
    @Test func keysMatchFoundationAndParseBack() {
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<5_000 {
            let id = UUID.v7(at: Date(milliseconds: Int64.random(in: 0...4_000_000_000_000, using: &generator)), using: &generator)
            #expect(id.key == id.uuidString.lowercased())
            #expect(UUID(key: id.key) == id)
            #expect(UUID(key: id.uuidString) == id)
        }
    }

    @Test(arguments: ["", "not-a-uuid", "01a2051e-9d6a-7bdb-8d3d-d47048b89b6", "01a2051e-9d6a-7bdb-8d3d-d47048b89b6dd",
                      "01a2051e+9d6a-7bdb-8d3d-d47048b89b6d", "01a2051g-9d6a-7bdb-8d3d-d47048b89b6d", "é1a2051e-9d6a-7bdb-8d3d-d47048b89b6"])
    func refusesWhatIsNotAUUID(_ text: String) {
        #expect(UUID(key: text) == nil)
    }
}
