import Foundation
import SLMEngine
import TestSupport
import XCTest

/// Engine.generate on smollm2-135m against the engine's own step-by-step evaluation.
final class GenerationTests: XCTestCase {
    /// The best id of the row, leaving out `excluded` (ties to the lower id).
    func argmax(_ row: ArraySlice<Float>, excluding excluded: Set<Int32> = []) -> Int32 {
        var best: Int?
        for i in row.indices where !excluded.contains(Int32(i - row.startIndex)) && (best == nil || row[i] > row[best!]) {
            best = i
        }
        return Int32(best! - row.startIndex)
    }

    /// With ignoreEOS the model cannot choose to end: where greedy decoding would pick an end-of-generation token,
    /// generation takes the best other token and runs to maxTokens, as llama.cpp's ignore_eos (its logit bias of
    /// -inf on those tokens). Before, the end token was sampled and generation went on after it.
    func testIgnoreEOSNeverSamplesAnEndToken() throws {
        let engine = try EngineModel.smolLM()
        let v = engine.config.vocabularySize
        let eog = engine.tokenizer.eogTokens
        let prompt = JSONSchemaSuite.prompt(engine, "Reply with the single word yes.")
        let n = 24
        var request = GenerationRequest(prompt: prompt, contextLength: 256)
        request.maxTokens = n
        request.sampling.temperature = 0
        let natural = try engine.generate(request) { _ in }
        XCTAssertEqual(natural.stopReason, .eos, "the prompt must end on its own within \(n) tokens for this test")

        request.ignoreEOS = true
        var text = ""
        let stats = try engine.generate(request) { text += $0 }
        XCTAssertEqual(stats.generatedTokens, n)
        XCTAssertEqual(stats.stopReason, .length)

        let cache = try engine.makeCache(capacity: 256)
        var logits: [Float] = []
        try engine.evaluate(prompt, cache: cache, outputs: .last, into: &logits)
        var ids: [Int32] = []
        var wouldEnd = false
        for _ in 0..<n {
            wouldEnd = wouldEnd || eog.contains(argmax(logits[0..<v]))
            let t = argmax(logits[0..<v], excluding: eog)
            ids.append(t)
            try engine.evaluate([t], cache: cache, outputs: .last, into: &logits)
        }
        XCTAssertTrue(wouldEnd, "greedy decoding picks an end token somewhere in the \(n) steps")
        XCTAssertEqual(text, engine.tokenizer.decode(ids, renderSpecial: false))
    }

    /// Greedy generation equals the argmax continuation computed by evaluating one token at a time.
    func testGreedyGenerateEqualsStepwiseArgmax() throws {
        let engine = try EngineModel.smolLM()
        let v = engine.config.vocabularySize
        let prompt = engine.tokenize("Once upon a time, there was a little robot who")
        let n = 12
        var request = GenerationRequest(prompt: prompt, contextLength: 64)
        request.maxTokens = n
        request.sampling.temperature = 0
        request.ignoreEOS = true
        var text = ""
        var pieces = 0
        let stats = try engine.generate(request) { text += $0; pieces += 1 }
        XCTAssertEqual(stats.promptTokens, prompt.count)
        XCTAssertEqual(stats.generatedTokens, n)
        XCTAssertEqual(stats.stopReason, .length)
        XCTAssertGreaterThan(pieces, 1, "text is streamed, not emitted at the end")

        let cache = try engine.makeCache(capacity: 64)
        var logits: [Float] = []
        try engine.evaluate(prompt, cache: cache, outputs: .last, into: &logits)
        var ids: [Int32] = []
        for _ in 0..<n {
            let t = argmax(logits[0..<v], excluding: engine.tokenizer.eogTokens)
            ids.append(t)
            try engine.evaluate([t], cache: cache, outputs: .last, into: &logits)
        }
        XCTAssertEqual(text, engine.tokenizer.decode(ids, renderSpecial: false))
        XCTAssertFalse(text.isEmpty)
    }

    /// Seeded sampling through the engine is reproducible, and the stop string ends the text.
    func testSeededGenerateIsReproducibleAndStops() throws {
        let engine = try EngineModel.smolLM()
        var request = GenerationRequest(prompt: engine.tokenize("The capital of France is"), contextLength: 64)
        request.maxTokens = 10
        request.sampling.temperature = 0.9
        request.sampling.seed = 77
        var a = "", b = ""
        _ = try engine.generate(request) { a += $0 }
        _ = try engine.generate(request) { b += $0 }
        XCTAssertEqual(a, b)
        // A stop string at the start of the second word (10 tokens of text hold at least two words).
        let space = try XCTUnwrap(a.dropFirst().firstIndex(of: " "), "two words in \(a.debugDescription)")
        let stop = String(a[space...].prefix(2))
        request.stops = [stop]
        var c = ""
        let stats = try engine.generate(request) { c += $0 }
        XCTAssertEqual(stats.stopReason, .stop)
        XCTAssertEqual(c, String(a[..<(try XCTUnwrap(a.range(of: stop))).lowerBound]))
    }

    func testContextOverflowIsAnErrorBeforeAnyWork() throws {
        let engine = try EngineModel.smolLM()
        let prompt = engine.tokenize("one two three four five six seven eight")
        var request = GenerationRequest(prompt: prompt, contextLength: prompt.count + 3)
        request.maxTokens = 4
        var emitted = false
        XCTAssertThrowsError(try engine.generate(request) { _ in emitted = true }) { error in
            guard case EngineError.invalidArgument(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("context"), message)
        }
        XCTAssertFalse(emitted)
        // prompt + maxTokens overflowing Int is the same error, not a trap.
        request.maxTokens = .max
        XCTAssertThrowsError(try engine.generate(request) { _ in })
        // Exactly filling the context is allowed.
        request.maxTokens = 3
        request.sampling.temperature = 0
        request.ignoreEOS = true
        let stats = try engine.generate(request) { _ in }
        XCTAssertEqual(stats.generatedTokens, 3)
        // An empty prompt has nothing to condition on.
        XCTAssertThrowsError(try engine.generate(GenerationRequest(prompt: [], contextLength: 8)) { _ in }) {
            guard case EngineError.emptyPrompt = $0 else { return XCTFail("\($0)") }
        }
    }

    /// The same prompt evaluated in one batch and one token at a time gives the same next-token logits (the
    /// batched path multiplies matrices, the single path takes dot products: only rounding may differ).
    func testBatchedAndStepwisePrefillAgree() throws {
        let engine = try EngineModel.smolLM()
        let v = engine.config.vocabularySize
        let prompt = engine.tokenize("def fibonacci(n):\n    return n")
        var batched: [Float] = []
        try engine.evaluate(prompt, cache: try engine.makeCache(capacity: 32), outputs: .last, into: &batched)
        let cache = try engine.makeCache(capacity: 32)
        var single: [Float] = []
        for t in prompt { try engine.evaluate([t], cache: cache, outputs: .last, into: &single) }
        XCTAssertEqual(argmax(batched[0..<v]), argmax(single[0..<v]))
        var maxDiff: Float = 0
        for i in 0..<v { maxDiff = max(maxDiff, abs(batched[i] - single[i])) }
        // Logits are O(10-30); summation order differences through 30 layers stay well under 0.05 (measured ~1e-3).
        XCTAssertLessThan(maxDiff, 0.05)
    }
}
