import LocalityCore
import Testing

@Suite("Money: integer pence, parsed as people type it, shown as £1,250.50")
struct MoneyTests {
    @Test(arguments: [
        ("£1,250.50", 125_050), ("1250.5", 125_050), ("1250", 125_000), ("£0.75", 75), (".5", 50),
        ("  £12  ", 1200), ("1,000,000", 100_000_000), ("£100,000,000,000.00", 10_000_000_000_000),
        ("0", 0), ("£3.07", 307),
    ] as [(String, Int64)])
    func parses(_ text: String, _ pence: Int64) throws {
        #expect(try Money(parsing: text).pence == pence)
    }

    @Test(arguments: [
        ("", "required"), ("abc", "not a sum of money"), ("-5", "negative"), ("1.234", "two decimal places"),
        ("12,50", "thousands separators"), ("1,2345", "thousands separators"), ("£", "no amount"),
        ("1e5", "not a sum of money"), ("$5", "not a sum of money"), ("1.2.3", "more than one decimal point"),
        ("12.", "ends with a decimal point"), ("£100,000,000,000.01", "larger than the largest"),
        ("99999999999999999999999", "larger than the largest"), ("١٢٣", "not a sum of money"),
    ])
    func refuses(_ text: String, _ reason: String) {
        do {
            let money = try Money(parsing: text)
            Issue.record("'\(text)' parsed as \(money)")
        } catch let error as LocalityError {
            #expect(error.code == .invalidInput)
            #expect(error.message.contains(reason), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(arguments: [
        (0, "£0.00"), (5, "£0.05"), (125_050, "£1,250.50"), (100_000_000, "£1,000,000.00"), (-1200, "-£12.00"),
        (99_999, "£999.99"), (100_000, "£1,000.00"),
    ] as [(Int64, String)])
    func formats(_ pence: Int64, _ text: String) {
        #expect(Money(pence: pence).description == text)
    }

    @Test func roundTripsThroughItsOwnFormatting() throws {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<2_000 {
            let money = Money(pence: Int64.random(in: 0...Money.maximum.pence, using: &generator))
            #expect(try Money(parsing: money.description) == money)
        }
    }

    @Test func encodesAsAnIntegerOfPence() throws {
        let json = try JSONValue(encoding: ["amount": Money(pence: 125_050)])
        #expect(json == .object(["amount": .int(125_050)]))
    }
}

@Suite("Financial years run April to March, written 2026/27")
struct FinancialYearTests {
    @Test func parsesAndFormats() throws {
        #expect(try FinancialYear(parsing: "2026/27").startYear == 2026)
        #expect(try FinancialYear(parsing: "2099-00").description == "2099/00")
        #expect(FinancialYear(startYear: 2009).description == "2009/10")
    }

    // "0226-27": found by the fuzzer (it read as the year 226, written back as "226/27").
    @Test(arguments: ["2026/28", "2026", "26/27", "2026/2027", "abcd/ef", "", "0226-27", "1899/00"])
    func refuses(_ text: String) {
        #expect(throws: LocalityError.self) { try FinancialYear(parsing: text) }
    }
}
