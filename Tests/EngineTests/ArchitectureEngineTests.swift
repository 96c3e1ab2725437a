import Foundation
import SLMEngine
import SLMModels
import TestSupport
import XCTest

/// The architecture test models (qwen2, qwen3, llama 3, phi3, gemma2; tools/make-arch-test-models) through the
/// engine: perplexity against llama.cpp's exact-math value of the same file, a prefix-cache hit equal to a cold run,
/// and schema-constrained answers valid under their schema.
final class ArchitectureEngineTests: XCTestCase {
    /// The contract's bar: within 1.5% of the exact-math perplexity on the GPL-3 text at context 512.
    func perplexity(_ arch: String, within: Double = 0.015) throws {
        let text = try String(contentsOf: TestPaths.fixtures.appendingPathComponent("ppl-gpl3.txt"), encoding: .utf8)
        let engine = try EngineModel.load(TestPaths.archFile(arch))
        let ppl = try engine.perplexity(engine.tokenize(text), context: 512).ppl
        let reference = try LogitsReference.perplexity(architecture: arch)
        print("\(arch) PPL = \(ppl) (reference \(reference), \(String(format: "%+.2f", (ppl / reference - 1) * 100))%)")
        XCTAssertEqual(ppl, reference, accuracy: reference * within, arch)
    }

    func testQwen2Perplexity() throws { try perplexity("qwen2") }
    func testQwen3Perplexity() throws { try perplexity("qwen3") }
    func testLlama3Perplexity() throws { try perplexity("llama") }
    func testPhi3Perplexity() throws { try perplexity("phi3") }
    func testGemma2Perplexity() throws { try perplexity("gemma2") }

    /// A schema-constrained answer per architecture and schema (the first six of the suite, one seed), complete and
    /// valid under its schema (Python's jsonschema).
    func testJSONSchemaAnswersAreValid() throws {
        var pairs: [(schema: String, instance: String)] = []
        var reasons: [String] = []
        for arch in TestPaths.testArchitectures {
            let engine = try EngineModel.load(TestPaths.archFile(arch))
            for (i, schema) in JSONSchemaSuite.schemas.prefix(6).enumerated() {
                var req = GenerationRequest(prompt: JSONSchemaSuite.prompt(engine, "Give an example, as JSON."),
                                            contextLength: 1024)
                req.grammar = try JSONSchemaGrammar.grammar(schema: schema)
                req.maxTokens = 200
                req.sampling.temperature = 0.8
                req.sampling.seed = 1
                var text = ""
                let stats = try engine.generate(req) { text += $0 }
                if stats.stopReason != .eos { reasons.append("\(arch) schema \(i): stop \(stats.stopReason): \(text)") }
                pairs.append((schema, text))
            }
        }
        XCTAssertEqual(reasons, [], "every answer ends because the grammar is complete, not cut by the limit")
        XCTAssertEqual(try JSONSchemaSuite.invalid(pairs), [], "outputs invalid under their schema")
    }
}

extension PrefixCacheModelTests {
    /// For every architecture: a prefix restored from disk gives the logits and tokens of a cold run, bit for bit;
    /// 300 tokens cross gemma2's 256-token window, so its local layers restore only what they hold.
    func testArchitecturesHitEqualsColdRun() throws {
        let text = try LogitsReference.cases(model: "smollm2-135m").map(\.tokens).max { $0.count < $1.count }!
        let prompt = Array(text.prefix(300))
        for arch in TestPaths.testArchitectures {
            let engine = try loadEngine(TestPaths.archFile(arch), maxBatch: 64)
            let dir = try temporaryDirectory()
            let warnings = WarningLog()
            let cold = try run(engine, prompt, cache: nil, steps: 3)
            let first = try run(engine, prompt, cache: makeCache(engine, dir: dir, warnings), steps: 3)
            XCTAssertEqual(first.cached, 0, arch)
            XCTAssertEqual(first.logits, cold.logits, arch)
            let warm = try run(engine, prompt, cache: makeCache(engine, dir: dir, warnings), steps: 3)
            XCTAssertEqual(warm.cached, 288, arch)  // 9 complete blocks of 32
            XCTAssertEqual(warm.logits, cold.logits, arch)
            XCTAssertEqual(warm.tokens, cold.tokens, arch)
            XCTAssertEqual(warnings.lines, [], arch)
        }
    }
}
