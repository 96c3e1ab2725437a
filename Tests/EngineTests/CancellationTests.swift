import Foundation
import SLMModels
import TestSupport
import XCTest

@testable import SLMEngine

/// Ctrl-C's engine side: a cancellation stops prefill between batches and decode between steps, deterministically
/// here (a flag that cancels itself on its N-th poll), and whatever was computed stays: the text emitted and the
/// prompt's complete blocks in the prefix cache.
final class CancellationTests: XCTestCase {
    /// 300 prompt tokens: batches of 64 (EngineModel's maxBatch) start at 0, 64, 128, 192, 256; 9 complete blocks.
    func prompt(_ engine: Engine) throws -> [Int32] {
        let text = try String(contentsOf: TestPaths.fixtures.appendingPathComponent("ppl-gpl3.txt"), encoding: .utf8)
        return Array(engine.tokenize(text).prefix(300))
    }

    func cache(_ engine: Engine, _ dir: URL) -> PrefixCache {
        var o = PrefixCacheOptions()
        o.directory = dir.path
        return PrefixCache(layout: KVLayout(engine: engine), options: o)
    }

    func testPrefillStopsBetweenBatchesAndSavesTheBlocksItComputed() throws {
        let engine = try EngineModel.smolLM()
        let dir = try temporaryDirectory()
        var request = GenerationRequest(prompt: try prompt(engine), contextLength: 512)
        request.maxTokens = 8
        request.prefixCache = cache(engine, dir)
        // Polls: before any work (1), before the batches at 64, 128 (2, 3) pass; the one before 192 cancels.
        request.cancellation = CancellationFlag(cancelAfterChecks: 3)
        var emitted = ""
        let stats = try engine.generate(request) { emitted += $0 }
        XCTAssertEqual(stats.stopReason, .interrupted)
        XCTAssertEqual(stats.computedTokens, 192)
        XCTAssertEqual(stats.generatedTokens, 0)
        XCTAssertEqual(emitted, "")
        XCTAssertEqual(try blockFiles(dir).count, 6, "192 computed positions = 6 blocks, saved")
        // A new process (a new cache object on the directory) restores them.
        XCTAssertEqual(cache(engine, dir).lookup(request.prompt).count, 6)
    }

    func testDecodeStopsBetweenStepsKeepingTheTextAndEveryPromptBlock() throws {
        let engine = try EngineModel.smolLM()
        let dir = try temporaryDirectory()
        var request = GenerationRequest(prompt: try prompt(engine), contextLength: 512)
        request.maxTokens = 50
        request.sampling.temperature = 0
        request.prefixCache = cache(engine, dir)
        // One token per decode step (a speculative step may accept several), so polls count tokens.
        request.speculation = Speculation(draftMax: 0)
        // 5 polls in prefill (start, then batches at 64...256), then one per decode step: 3 steps pass, the 4th stops.
        request.cancellation = CancellationFlag(cancelAfterChecks: 5 + 3)
        var emitted = ""
        let stats = try engine.generate(request) { emitted += $0 }
        XCTAssertEqual(stats.stopReason, .interrupted)
        XCTAssertEqual(stats.generatedTokens, 3)
        XCTAssertEqual(try blockFiles(dir).count, 9, "all 9 complete prompt blocks saved")

        // The text is what an uninterrupted greedy run prints for its first 3 tokens.
        var plain = GenerationRequest(prompt: request.prompt, contextLength: 512)
        plain.maxTokens = 3
        plain.sampling.temperature = 0
        var expected = ""
        _ = try engine.generate(plain) { expected += $0 }
        XCTAssertEqual(emitted, expected)
    }

    /// With speculation a step may accept several drafted tokens; a cancel still stops between steps, and the text so
    /// far is a prefix of what the uninterrupted run prints.
    func testSpeculativeDecodeStopsBetweenStepsWithAPrefixOfTheText() throws {
        let engine = try EngineModel.smolLM()
        var request = GenerationRequest(prompt: try prompt(engine), contextLength: 512)
        request.maxTokens = 40
        request.sampling.temperature = 0
        request.cancellation = CancellationFlag(cancelAfterChecks: 5 + 6)
        var emitted = ""
        let stats = try engine.generate(request) { emitted += $0 }
        XCTAssertEqual(stats.stopReason, .interrupted)
        XCTAssertGreaterThanOrEqual(stats.generatedTokens, 6)
        XCTAssertLessThan(stats.generatedTokens, 40)
        var plain = GenerationRequest(prompt: request.prompt, contextLength: 512)
        plain.maxTokens = 40
        plain.sampling.temperature = 0
        plain.speculation = Speculation(draftMax: 0)
        var expected = ""
        _ = try engine.generate(plain) { expected += $0 }
        XCTAssertTrue(expected.hasPrefix(emitted), "\(emitted) is not a prefix of \(expected)")
        XCTAssertFalse(emitted.isEmpty)
    }

    /// Without a prefix cache the prefill also stops between batches, and a flag that never fires changes nothing.
    func testPrefillWithoutACacheStopsBetweenBatchesAndOtherwiseMatches() throws {
        let engine = try EngineModel.smolLM()
        var request = GenerationRequest(prompt: try prompt(engine), contextLength: 512)
        request.maxTokens = 6
        request.sampling.temperature = 0
        request.cancellation = CancellationFlag(cancelAfterChecks: 2)  // start, batch at 64 pass; the one at 128 stops
        let stopped = try engine.generate(request) { _ in XCTFail("nothing is emitted") }
        XCTAssertEqual(stopped.stopReason, .interrupted)
        XCTAssertEqual(stopped.computedTokens, 128)
        var texts: [String] = []
        for flag in [nil, CancellationFlag()] {
            request.cancellation = flag
            var text = ""
            let stats = try engine.generate(request) { text += $0 }
            XCTAssertEqual(stats.generatedTokens, 6)
            texts.append(text)
        }
        XCTAssertEqual(texts[0], texts[1], "batch by batch gives the same tokens as one call")
    }

    func testAFlagCancelledBeforeTheStartDoesNoWork() throws {
        let engine = try EngineModel.smolLM()
        var request = GenerationRequest(prompt: try prompt(engine), contextLength: 512)
        request.maxTokens = 8
        let flag = CancellationFlag()
        flag.cancel()
        request.cancellation = flag
        let stats = try engine.generate(request) { _ in XCTFail("nothing is emitted") }
        XCTAssertEqual(stats.stopReason, .interrupted)
        XCTAssertEqual(stats.computedTokens, 0)
    }
}
