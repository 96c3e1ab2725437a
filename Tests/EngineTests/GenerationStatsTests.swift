import Foundation
import SLMEngine
import XCTest

/// The --stats-file object: the contract's field names, rates derived from counts and times.
final class GenerationStatsTests: XCTestCase {
    func testJSONFieldNames() throws {
        var s = GenerationStats()
        s.promptTokens = 10
        s.cachedTokens = 2
        s.computedTokens = 8
        s.generatedTokens = 11
        s.seed = 1234
        s.loadMs = 50
        s.totalMs = 2500
        s.reasoningTokens = 3
        s.prefillMs = 400
        s.decodeMs = 2000
        s.stopReason = .stop
        let data = try JSONEncoder().encode(s)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(Set(object.keys), [
            "prompt_tokens", "cached_tokens", "generated_tokens", "reasoning_tokens", "prefill_ms", "decode_ms",
            "prefill_tokens_per_s", "decode_tokens_per_s", "stop_reason", "computed_tokens", "seed", "load_ms",
            "total_ms", "answer_shortened", "think_budget", "reasoning_limit", "reasoning_end", "answer_min_tokens",
            "inserted_tokens", "drafted_tokens", "accepted_tokens",
        ])
        XCTAssertEqual(object["seed"] as? Int, 1234)
        XCTAssertEqual(object["computed_tokens"] as? Int, 8)
        XCTAssertEqual(object["load_ms"] as? Double, 50)
        XCTAssertEqual(object["total_ms"] as? Double, 2500)
        XCTAssertEqual(object["answer_shortened"] as? Bool, false)
        XCTAssertTrue(object["think_budget"] is NSNull, "no reasoning section: null, not absent")
        XCTAssertEqual(object["prompt_tokens"] as? Int, 10)
        XCTAssertEqual(object["cached_tokens"] as? Int, 2)
        XCTAssertEqual(object["generated_tokens"] as? Int, 11)
        XCTAssertEqual(object["reasoning_tokens"] as? Int, 3)
        XCTAssertEqual(object["stop_reason"] as? String, "stop")
        // Prefill rate counts only the positions actually computed: 8 / 0.4 s.
        XCTAssertEqual(try XCTUnwrap(object["prefill_tokens_per_s"] as? Double), 20, accuracy: 1e-9)
        // Decode rate: the first token comes out of prefill, so 10 single-token steps in 2 s.
        XCTAssertEqual(try XCTUnwrap(object["decode_tokens_per_s"] as? Double), 5, accuracy: 1e-9)
        XCTAssertEqual(try JSONDecoder().decode(GenerationStats.self, from: data), s, "round trip")
    }

    func testZeroTimesGiveZeroRates() throws {
        let s = GenerationStats()
        XCTAssertEqual(s.prefillTokensPerSecond, 0)
        XCTAssertEqual(s.decodeTokensPerSecond, 0)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: JSONEncoder().encode(s)) as? [String: Any])
        XCTAssertEqual(object["stop_reason"] as? String, "length")
    }

    func testStopReasonNames() {
        XCTAssertEqual([StopReason.eos, .length, .stop, .interrupted].map(\.rawValue), ["eos", "length", "stop", "interrupted"])
        XCTAssertEqual([ReasoningEnd.model, .thinkBudget, .maxTokens].map(\.rawValue), ["model", "think_budget", "max_tokens"])
    }

    func testBudgetFiguresRoundTrip() throws {
        var s = GenerationStats()
        s.answerShortened = true
        s.thinkBudget = 64
        s.reasoningLimit = 20
        s.reasoningEnd = .maxTokens
        s.answerMinTokens = 8
        s.insertedTokens = 5
        let data = try JSONEncoder().encode(s)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["reasoning_end"] as? String, "max_tokens")
        XCTAssertEqual(object["reasoning_limit"] as? Int, 20)
        XCTAssertEqual(try JSONDecoder().decode(GenerationStats.self, from: data), s)
    }
}
