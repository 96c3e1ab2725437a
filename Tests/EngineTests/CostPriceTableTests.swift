import Foundation
@testable import SLMEngine
import XCTest

/// The price table loader: the built-in copy, and files whose faults must be named with their row.
final class CostPriceTableTests: XCTestCase {
    func table(_ rows: String, asOf: String = "2026-11-23") -> String { #"{"as_of": "\#(asOf)", "models": [\#(rows)]}"# }
    let good = #"{"provider": "openai", "model": "a", "input_per_mtok_usd": 0.15, "cached_input_per_mtok_usd": 0.075, "output_per_mtok_usd": 0.6, "source": "s", "seen": "2026-11"}"#

    func rowError(_ text: String) -> CostError? {
        do { _ = try PriceTable.parse(text); return nil } catch { return error }
    }

    func testBuiltInTableLoadsWithSourcesAndCacheRules() throws {
        let t = PriceTable.builtIn
        XCTAssertEqual(t.asOf, "2026-11-23")
        XCTAssertGreaterThanOrEqual(t.rows.count, 20)
        XCTAssertTrue(t.rows.allSatisfy { !$0.source.isEmpty && !$0.seen.isEmpty && $0.confidence != nil && $0.status != nil })
        let mini = try XCTUnwrap(t.row(named: "gpt-4o-mini"))
        XCTAssertEqual([mini.inputUSDPerMTok, mini.cachedInputUSDPerMTok, mini.outputUSDPerMTok], [0.15, 0.075, 0.6])
        XCTAssertEqual(mini.cacheRules, CacheRules(minPromptTokens: 1024, incrementTokens: 128))
        let haiku = try XCTUnwrap(t.row(named: "anthropic claude-haiku-4-5"))
        XCTAssertEqual(haiku.cacheRules.minPromptTokens, 4096)
        XCTAssertEqual(haiku.cacheRules.writeUSDPerMTok, 1.25)
        XCTAssertEqual(t.defaultReference.model, "gpt-4o-mini")
    }

    func testUnitsAreConverted() throws {
        let t = try PriceTable.parse(table(#"{"provider": "p", "model": "k", "input_per_ktok_usd": 0.0001, "output_per_token_usd": 2e-7, "source": "s", "seen": "x"}"#))
        XCTAssertEqual(t.rows[0].inputUSDPerMTok, 0.1, accuracy: 1e-12)
        XCTAssertEqual(t.rows[0].outputUSDPerMTok, 0.2, accuracy: 1e-12)
        XCTAssertNil(t.rows[0].cachedInputUSDPerMTok)
    }

    func testMissingFieldNamesTheRow() {
        let e = rowError(table(good + "," + #"{"provider": "p", "model": "b", "input_per_mtok_usd": 1, "source": "s", "seen": "x"}"#))
        XCTAssertEqual(e, .priceRow(row: 2, name: "p b", problem: .missingField("output_per_mtok_usd")))
        XCTAssertEqual(e?.description, "price table row 2 (p b): missing field 'output_per_mtok_usd'")
        let noModel = rowError(table(#"{"provider": "p", "input_per_mtok_usd": 1, "output_per_mtok_usd": 1, "source": "s", "seen": "x"}"#))
        XCTAssertEqual(noModel, .priceRow(row: 1, name: "p", problem: .missingField("model")))
        let noSource = rowError(table(#"{"provider": "p", "model": "c", "input_per_mtok_usd": 1, "output_per_mtok_usd": 1, "seen": "x"}"#))
        XCTAssertEqual(noSource, .priceRow(row: 1, name: "p c", problem: .missingField("source")))
    }

    func testNegativePriceNamesTheRow() {
        let e = rowError(table(good + "," + good + "," + #"{"provider": "p", "model": "n", "input_per_mtok_usd": -0.5, "output_per_mtok_usd": 1, "source": "s", "seen": "x"}"#))
        XCTAssertEqual(e, .priceRow(row: 3, name: "p n", problem: .negativePrice(field: "input_per_mtok_usd", value: -0.5)))
    }

    func testUnknownUnitNamesTheRow() {
        let e = rowError(table(#"{"provider": "p", "model": "u", "input_per_mtok_eur": 0.5, "output_per_mtok_usd": 1, "source": "s", "seen": "x"}"#))
        XCTAssertEqual(e, .priceRow(row: 1, name: "p u", problem: .unknownUnit(key: "input_per_mtok_eur")))
        XCTAssertTrue(e!.description.contains("unknown unit in 'input_per_mtok_eur'"), e!.description)
    }

    func testOtherFaults() {
        XCTAssertEqual(rowError("not json"), rowError("not json"))
        XCTAssertNotNil(rowError("[]"))
        XCTAssertEqual(rowError(#"{"models": []}"#), .priceTable("missing 'as_of' (a YYYY-MM-DD date)"))
        XCTAssertEqual(rowError(table("")), .priceTable("'models' is empty"))
        XCTAssertEqual(rowError(table(good, asOf: "Nov 2026")), .priceTable("'as_of' must be a YYYY-MM-DD date, got 'Nov 2026'"))
        // Huge and non-numeric prices are refused, never priced.
        let huge = rowError(table(#"{"provider": "p", "model": "h", "input_per_mtok_usd": 1e308, "output_per_mtok_usd": 1, "source": "s", "seen": "x"}"#))
        XCTAssertEqual(huge, .priceRow(row: 1, name: "p h", problem: .badValue(field: "input_per_mtok_usd", expected: "at most 1000000 USD per 1M tokens")))
        let text = rowError(table(#"{"provider": "p", "model": "t", "input_per_mtok_usd": "cheap", "output_per_mtok_usd": 1, "source": "s", "seen": "x"}"#))
        XCTAssertEqual(text, .priceRow(row: 1, name: "p t", problem: .badValue(field: "input_per_mtok_usd", expected: "a number or null")))
    }

    func testStaleTableWarns() throws {
        let t = try PriceTable.parse(table(good, asOf: "2026-01-01"))
        let now = try XCTUnwrap(PriceTable.day("2026-12-06"))
        XCTAssertEqual(t.ageDays(now: now), 339)
        XCTAssertEqual(t.staleWarning(now: now), "the price table is 339 days old (as of 2026-01-01); cloud prices change: check them, or give --prices FILE")
        XCTAssertNil(try PriceTable.parse(table(good, asOf: "2026-11-23")).staleWarning(now: now))
    }

    /// The day parser agrees with Foundation's calendar on every day of 1900-2100 and refuses what is not a day.
    func testDayParserMatchesTheCalendar() throws {
        XCTAssertEqual(PriceTable.day("1970-01-01")?.timeIntervalSince1970, 0)
        XCTAssertEqual(PriceTable.day("2024-02-29")?.timeIntervalSince1970, 1_709_164_800)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var date = try XCTUnwrap(calendar.date(from: DateComponents(year: 1900, month: 1, day: 1)))
        let end = try XCTUnwrap(calendar.date(from: DateComponents(year: 2100, month: 12, day: 31)))
        while date <= end {
            let c = calendar.dateComponents([.year, .month, .day], from: date)
            let text = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
            XCTAssertEqual(PriceTable.day(text), date, text)
            date = calendar.date(byAdding: .day, value: 1, to: date)!
        }
        for bad in ["2023-02-29", "2100-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "26-01-01", "2026-1-01",
                    "2026-01-01T00", "２０２６-01-01", "", "Nov 2026"] {
            XCTAssertNil(PriceTable.day(bad), bad)
        }
    }
}
