import XCTest
import SLMEngine
import TestSupport

/// Every schema of the suite, both reference models, temperature 0.8, two seeds: each output must be complete,
/// valid JSON under its schema (checked by Python's jsonschema, an independent implementation).
final class JSONSchemaGenerationTests: XCTestCase {
    func run(_ file: String) throws {
        let engine = try JSONSchemaSuite.engine(file)
        var pairs: [(schema: String, instance: String)] = []
        var reasons: [String] = []
        for (i, schema) in JSONSchemaSuite.schemas.enumerated() {
            let grammar = try JSONSchemaGrammar.grammar(schema: schema)
            for seed: UInt64 in [1, 2] {
                var req = GenerationRequest(prompt: try JSONSchemaSuite.prompt(engine, "Give an example, as JSON."),
                                            contextLength: 1024)
                req.grammar = grammar
                req.maxTokens = 200
                req.sampling.temperature = 0.8
                req.sampling.seed = seed
                var text = ""
                let stats = try engine.generate(req) { text += $0 }
                if stats.stopReason != .eos { reasons.append("schema \(i) seed \(seed): stop \(stats.stopReason) after \(stats.generatedTokens): \(text)") }
                pairs.append((schema, text))
            }
        }
        XCTAssertEqual(reasons, [], "every answer ends because the grammar is complete, not cut by the limit")
        let bad = try JSONSchemaSuite.invalid(pairs)
        XCTAssertEqual(bad, [], "outputs invalid under their schema")
    }

    func testSuiteOnSmolLM2() throws { try run(TestPaths.smollmFile) }
    func testSuiteOnGemma3() throws { try run(TestPaths.gemmaFile) }
}
