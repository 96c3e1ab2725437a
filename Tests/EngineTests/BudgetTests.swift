import XCTest
import SLMEngine
import TestSupport

/// --think-budget with and without a schema, --hide-reasoning, and the stop reasons the budgets give.
final class BudgetTests: XCTestCase {
    static let schema = #"{"type":"object","properties":{"city":{"type":"string","maxLength":20},"population":{"type":"integer","minimum":0,"maximum":99999999}},"required":["city","population"]}"#

    func request(_ engine: Engine, budget: Int?, seed: UInt64) throws -> GenerationRequest {
        var req = GenerationRequest(prompt: try JSONSchemaSuite.prompt(engine, "Name a big city and its population, as JSON."), contextLength: 1024)
        req.grammar = try JSONSchemaGrammar.grammar(schema: Self.schema)
        req.thinkBudget = budget
        req.maxTokens = 160
        req.sampling.temperature = 0.8
        req.sampling.seed = seed
        return req
    }

    func thinkBudget16(_ file: String, expectReasoning: Bool) throws {
        let engine = try JSONSchemaSuite.engine(file)
        var answers: [(schema: String, instance: String)] = []
        for seed: UInt64 in [3, 4] {
            var text = ""
            let stats = try engine.generate(try request(engine, budget: 16, seed: seed)) { text += $0 }
            XCTAssertLessThanOrEqual(stats.reasoningTokens, 16, "the budget caps reasoning")
            // Whether the model reasons at all is its choice (ending the section at once is legal); where it does
            // (smollm2 at these seeds) the engine must cut it at the budget.
            if expectReasoning { XCTAssertGreaterThan(stats.reasoningTokens, 0, "budget 16: the model reasons before the close") }
            XCTAssertTrue(text.hasPrefix("<think>\n"), text)
            guard let close = text.range(of: "</think>\n") else { XCTFail("no close marker: \(text)"); continue }
            XCTAssertEqual(stats.stopReason, .eos, text)
            answers.append((Self.schema, String(text[close.upperBound...])))
        }
        XCTAssertEqual(try JSONSchemaSuite.invalid(answers), [])
    }

    func testThinkBudget16WithSchemaSmolLM2() throws { try thinkBudget16(TestPaths.smollmFile, expectReasoning: true) }
    func testThinkBudget16WithSchemaGemma3() throws { try thinkBudget16(TestPaths.gemmaFile, expectReasoning: false) }

    func testBudgetZeroAndHiddenReasoning() throws {
        let engine = try JSONSchemaSuite.engine(TestPaths.smollmFile)
        var text = ""
        let zero = try engine.generate(try request(engine, budget: 0, seed: 5)) { text += $0 }
        XCTAssertEqual(zero.reasoningTokens, 0)
        XCTAssertFalse(text.contains("think>"), "budget 0: no reasoning section is printed")
        var hidden = try request(engine, budget: 8, seed: 6)
        hidden.hideReasoning = true
        var text2 = ""
        let h = try engine.generate(hidden) { text2 += $0 }
        XCTAssertLessThanOrEqual(h.reasoningTokens, 8)
        XCTAssertFalse(text2.contains("think>"), "hidden reasoning prints neither markers nor text: \(text2)")
        XCTAssertEqual(try JSONSchemaSuite.invalid([(Self.schema, text), (Self.schema, text2)]), [])
    }

    func testStopReasons() throws {
        let engine = try JSONSchemaSuite.engine(TestPaths.smollmFile)
        var cut = try request(engine, budget: nil, seed: 7)
        cut.maxTokens = 3
        XCTAssertEqual(try engine.generate(cut) { _ in }.stopReason, .budget, "limit hit before the grammar completed")
        var thinking = try request(engine, budget: 50, seed: 7)
        thinking.maxTokens = 4
        let t = try engine.generate(thinking) { _ in }
        XCTAssertEqual(t.stopReason, .budget, "limit hit inside the reasoning section")
        XCTAssertEqual(t.reasoningTokens, 4)
        var free = GenerationRequest(prompt: try JSONSchemaSuite.prompt(engine, "Count to ten."), contextLength: 512)
        free.maxTokens = 3
        free.ignoreEOS = true
        XCTAssertEqual(try engine.generate(free) { _ in }.stopReason, .length)
    }
}
