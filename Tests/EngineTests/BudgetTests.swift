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
            guard let answer = JSONSchemaSuite.answer(after: text) else { XCTFail("no close marker: \(text)"); continue }
            XCTAssertEqual(stats.stopReason, .eos, text)
            answers.append((Self.schema, answer))
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
        // A grammar answer at the least max_tokens: complete and valid, stopped by the limit, marked shortened
        // unless the model happened to write a shortest answer itself.
        var cut = try request(engine, budget: nil, seed: 7)
        let least = try engine.budgetPlan(for: cut).minimumMaxTokens
        cut.maxTokens = least
        var text = ""
        let c = try engine.generate(cut) { text += $0 }
        XCTAssertEqual(c.generatedTokens, least)
        XCTAssertEqual(c.answerMinTokens, least)
        XCTAssertTrue([StopReason.length, .eos].contains(c.stopReason))
        XCTAssertEqual(try JSONSchemaSuite.invalid([(Self.schema, text)]), [])
        // Reasoning cut by max_tokens rather than its budget: the engine closes it, the answer follows.
        var thinking = try request(engine, budget: 50, seed: 7)
        let plan = try engine.budgetPlan(for: thinking)
        thinking.maxTokens = plan.minimumMaxTokens + 4
        var t2 = ""
        let t = try engine.generate(thinking) { t2 += $0 }
        XCTAssertEqual(t.reasoningLimit, 4)
        XCTAssertLessThanOrEqual(t.reasoningTokens, 4)
        XCTAssertLessThanOrEqual(t.generatedTokens, thinking.maxTokens)
        if t.reasoningTokens == 4 { XCTAssertEqual(t.reasoningEnd, .maxTokens) }
        guard let answer = JSONSchemaSuite.answer(after: t2) else { return XCTFail("no close marker: \(t2)") }
        XCTAssertEqual(try JSONSchemaSuite.invalid([(Self.schema, answer)]), [])
        var free = GenerationRequest(prompt: JSONSchemaSuite.prompt(engine, "Count to ten."), contextLength: 512)
        free.maxTokens = 3
        free.ignoreEOS = true
        let f = try engine.generate(free) { _ in }
        XCTAssertEqual(f.stopReason, .length)
        XCTAssertFalse(f.answerShortened, "free text is cut, not shortened")
    }

    /// --think-budget x --max-tokens: every combination ends with the close marker and a valid answer, the reasoning
    /// stays within min(budget, max - close - shortest answer), and one token below the least is refused naming both.
    func thinkWithinLimit(_ file: String) throws {
        let engine = try EngineModel.load(file)
        var pairs: [(schema: String, instance: String)] = []
        for (i, schema) in JSONSchemaSuite.schemas.enumerated() where i % 4 == 0 {
            var req = GenerationRequest(prompt: JSONSchemaSuite.prompt(engine, "Think, then give an example as JSON."), contextLength: 1024)
            req.grammar = try JSONSchemaGrammar.grammar(schema: schema)
            req.sampling.temperature = 0.8
            req.sampling.seed = UInt64(i)
            for budget in [8, 64] {
                req.thinkBudget = budget
                req.maxTokens = 1000
                let plan = try engine.budgetPlan(for: req)
                let least = plan.minimumMaxTokens
                XCTAssertEqual(least, plan.closeTokens.count + plan.answerMinTokens)
                req.maxTokens = least - 1
                XCTAssertThrowsError(try engine.generate(req) { _ in }) { e in
                    XCTAssertTrue("\(e)".contains("--max-tokens \(least - 1)") && "\(e)".contains("--think-budget \(budget)"), "\(e)")
                }
                for m in [least, least + 3, least + 20, 120] {
                    req.maxTokens = m
                    var text = ""
                    let stats = try engine.generate(req) { text += $0 }
                    let label = "schema \(i) budget \(budget) max \(m)"
                    XCTAssertLessThanOrEqual(stats.generatedTokens, m, label)
                    XCTAssertLessThanOrEqual(stats.reasoningTokens, min(budget, m - least), label)
                    XCTAssertEqual(stats.reasoningLimit, min(budget, m - least), label)
                    XCTAssertNotNil(stats.reasoningEnd, label)
                    guard let answer = JSONSchemaSuite.answer(after: text) else { XCTFail("\(label): no close marker: \(text)"); continue }
                    pairs.append((schema, answer))
                }
            }
        }
        XCTAssertEqual(try JSONSchemaSuite.invalid(pairs), [])
    }

    func testThinkWithinLimitSmolLM2() throws { try thinkWithinLimit(TestPaths.smollmFile) }
    func testThinkWithinLimitGemma3() throws { try thinkWithinLimit(TestPaths.gemmaFile) }

    /// The budget message comes before the engine's close and counts in max_tokens; the soft budget makes the close
    /// at least as likely as its floor says, so with a floor rising to ~1 the model closes before the hard limit.
    func testMessageAndSoftBudget() throws {
        let engine = try EngineModel.load(TestPaths.smollmFile)
        var req = try request(engine, budget: 12, seed: 9)
        req.thinkMessage = "Time is up; answering now."
        req.maxTokens = 200
        var text = ""
        let stats = try engine.generate(req) { text += $0 }
        if stats.reasoningEnd == .thinkBudget {
            XCTAssertTrue(text.contains("Time is up; answering now.\n</think>\n"), text)
            XCTAssertEqual(stats.insertedTokens, try engine.budgetPlan(for: req).messageTokens.count + 5)
        }
        XCTAssertLessThanOrEqual(stats.generatedTokens, 200)
        // No room for the message: it is dropped, the close and answer still fit.
        req.maxTokens = try engine.budgetPlan(for: req).minimumMaxTokens
        XCTAssertEqual(try engine.budgetPlan(for: req).messageTokens, [])

        var soft = try request(engine, budget: 40, seed: 9)
        soft.thinkSoft = 0
        soft.maxTokens = 200
        var closedByModel = 0
        for seed: UInt64 in 1...6 {
            soft.sampling.seed = seed
            var t = ""
            let s = try engine.generate(soft) { t += $0 }
            if s.reasoningEnd == .model { closedByModel += 1 }
            XCTAssertNotNil(JSONSchemaSuite.answer(after: t), t)
        }
        // P(no close in 40 steps) <= prod (1 - k/40) = 0 at the last step: the model always closes first.
        XCTAssertEqual(closedByModel, 6)
    }
}
