import Foundation
import TestSupport
import XCTest

/// `slm generate` under a schema and budgets, as a user runs it: the exact up-front refusal (exit 2, naming the
/// least --max-tokens, which then succeeds with valid JSON), the reasoning refusal naming both numbers, the stats
/// file's budget figures, the flags' validation, and --help explaining every stop reason.
final class ConstrainedCommandTests: EndToEndTestCase {
    static let schema = #"{"type":"object","properties":{"name":{"type":"string","maxLength":20},"age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"]}"#

    func schemaFile() throws -> String {
        let url = try makeScratch().appendingPathComponent("schema.json")
        try Data(Self.schema.utf8).write(to: url)
        return url.path
    }

    /// The N of "give --max-tokens N or more".
    func least(_ r: SLMResult) throws -> Int {
        let m = try XCTUnwrap(r.err.range(of: #"give --max-tokens [0-9]+ or more"#, options: .regularExpression), r.err)
        return try XCTUnwrap(Int(r.err[m].split(separator: " ")[2]))
    }

    func testRefusalIsExactAndTheLeastSucceeds() throws {
        _ = try requireSmolLM()
        let schema = try schemaFile()
        let base = ["generate", "--no-cache", "--json-schema", schema, "--seed", "3", "Give a person as JSON."]
        let refused = try SLM.run(base + ["--max-tokens", "1"])
        SLM.assertError(refused, status: 2, mentions: ["--max-tokens 1", "shortest output"])
        XCTAssertEqual(refused.stdout.count, 0)
        let n = try least(refused)
        SLM.assertError(try SLM.run(base + ["--max-tokens", String(n - 1)]), status: 2, mentions: ["give --max-tokens \(n) or more"])
        let stats = try makeScratch().appendingPathComponent("stats.json")
        let ok = try SLM.succeed(base + ["--max-tokens", String(n), "--stats-file", stats.path])
        let value = try JSONSerialization.jsonObject(with: Data(ok.out.utf8)) as? [String: Any]
        XCTAssertNotNil(value?["name"] as? String, ok.out)
        XCTAssertNotNil(value?["age"] as? Int, ok.out)
        let s = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: stats)) as? [String: Any])
        XCTAssertEqual(s["answer_min_tokens"] as? Int, n)
        XCTAssertLessThanOrEqual(try XCTUnwrap(s["generated_tokens"] as? Int), n)
        if s["stop_reason"] as? String == "length" {
            XCTAssertTrue(ok.err.contains("answer shortened") == (s["answer_shortened"] as? Bool == true), ok.err)
        }
    }

    func testReasoningWithinMaxTokens() throws {
        _ = try requireSmolLM()
        let schema = try schemaFile()
        let base = ["generate", "--no-cache", "--json-schema", schema, "--think-budget", "64", "--seed", "4", "Think, then give a person as JSON."]
        let refused = try SLM.run(base + ["--max-tokens", "6"])
        SLM.assertError(refused, status: 2, mentions: ["--max-tokens 6", "--think-budget 64", "close marker"])
        let n = try least(refused)
        let stats = try makeScratch().appendingPathComponent("stats.json")
        let ok = try SLM.succeed(base + ["--max-tokens", String(n + 6), "--stats-file", stats.path])
        let close = try XCTUnwrap(ok.out.range(of: "</think>"), ok.out)
        XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(ok.out[close.upperBound...].utf8)), ok.out)
        let s = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: stats)) as? [String: Any])
        XCTAssertEqual(s["think_budget"] as? Int, 64)
        XCTAssertEqual(s["reasoning_limit"] as? Int, 6)
        XCTAssertLessThanOrEqual(try XCTUnwrap(s["reasoning_tokens"] as? Int), 6)
        XCTAssertTrue(["model", "think_budget", "max_tokens"].contains(try XCTUnwrap(s["reasoning_end"] as? String)))
        XCTAssertLessThanOrEqual(try XCTUnwrap(s["generated_tokens"] as? Int), n + 6)
    }

    func testBudgetFlagsAreValidated() throws {
        try SLM.assertError(SLM.run(["generate", "--think-budget", "8", "--think-soft", "1.5", "hi"]), status: 2, mentions: ["--think-soft"])
        try SLM.assertError(SLM.run(["generate", "--think-soft", "0.5", "hi"]), status: 2, mentions: ["--think-soft", "--think-budget"])
        try SLM.assertError(SLM.run(["generate", "--think-budget", "8", "--think-message", String(repeating: "x", count: 1001), "hi"]),
                            status: 2, mentions: ["--think-message"])
    }

    func testHelpExplainsEveryStopReason() throws {
        let help = try SLM.succeed(["generate", "--help"]).out
        for word in ["eos", "length", "stop", "answer_shortened", "--think-soft", "--think-message", "refused"] {
            XCTAssertTrue(help.contains(word), "--help mentions \(word)")
        }
    }
}
