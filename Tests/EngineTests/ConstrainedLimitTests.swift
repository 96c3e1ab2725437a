import Foundation
import XCTest
@testable import SLMEngine
import TestSupport

/// Output under a grammar or schema is complete whatever max_tokens is: for every schema of the suite and a set of
/// GBNF grammars, on both reference models, the refusal threshold is exact (one token less is refused, that many
/// succeeds) and sampled limits from the threshold up to 300 all give output that parses and validates (Python's
/// jsonschema for schemas; the grammar's own matcher and an independent regular expression for GBNF).
final class ConstrainedLimitTests: XCTestCase {
    /// GBNF grammars with the same language as a regular expression (ICU, via NSRegularExpression), or nil for a
    /// grammar no regular expression describes (nested parentheses).
    static let grammars: [(gbnf: String, regex: String?, prompt: String)] = [
        (#"root ::= ("yes" | "no") ", because " [a-z ]{1,40} "." "#, #"(yes|no), because [a-z ]{1,40}\."#,
         "Is the sea salty? Answer yes or no and say why."),
        ("root ::= \"- \" date (\"\\n- \" date){0,3}\ndate ::= [12] [0-9]{3} \"-\" [01] [0-9] \"-\" [0-3] [0-9]",
         #"- [12][0-9]{3}-[01][0-9]-[0-3][0-9](\n- [12][0-9]{3}-[01][0-9]-[0-3][0-9]){0,3}"#, "List some important dates."),
        ("root ::= field (\",\" field){2}\nfield ::= [A-Za-z0-9 ]{1,12}", #"[A-Za-z0-9 ]{1,12}(,[A-Za-z0-9 ]{1,12}){2}"#,
         "Write one CSV row: name, city, age."),
        ("root ::= expr\nexpr ::= term ((\"+\" | \"-\" | \"*\") term){0,6}\nterm ::= [0-9]{1,3} | \"(\" expr \")\"", nil,
         "Write an arithmetic expression with parentheses."),
    ]

    func request(_ engine: Engine, _ grammar: Grammar, _ prompt: String, seed: UInt64) -> GenerationRequest {
        var req = GenerationRequest(prompt: JSONSchemaSuite.prompt(engine, prompt), contextLength: 1024)
        req.grammar = grammar
        req.sampling.temperature = 0.8
        req.sampling.seed = seed
        return req
    }

    /// Generates at `least - 1` (must be refused), `least`, and two sampled limits up to 300; returns the outputs.
    func sweep(_ engine: Engine, _ req: GenerationRequest, rng: inout SeededGenerator, label: String) throws -> [String] {
        var req = req
        let least = try engine.budgetPlan(for: req).minimumMaxTokens
        XCTAssertGreaterThan(least, 0, label)
        req.maxTokens = least - 1
        XCTAssertThrowsError(try engine.generate(req) { _ in }, label) { e in
            guard case EngineError.budgetTooSmall(let m, _, let a, _) = e else { return XCTFail("\(label): \(e)") }
            XCTAssertEqual(m, least - 1)
            XCTAssertEqual(a, least)
            XCTAssertTrue("\(e)".contains("--max-tokens \(least - 1)") && "\(e)".contains("\(least) or more"), "\(e)")
        }
        var outputs: [String] = []
        for m in [least, least + 1 + Int(rng.next() % 12), least + Int(rng.next() % UInt64(301 - least))] {
            req.maxTokens = m
            var text = ""
            let stats = try engine.generate(req) { text += $0 }
            XCTAssertLessThanOrEqual(stats.generatedTokens, m, label)
            XCTAssertEqual(stats.answerMinTokens, least, label)
            outputs.append(text)
        }
        return outputs
    }

    func schemas(_ file: String) throws {
        XCTAssertEqual(JSONSchemaSuite.schemas.count, 23, "the fixture loads")
        let engine = try EngineModel.load(file)
        var rng = SeededGenerator(seed: 19)
        var pairs: [(schema: String, instance: String)] = []
        for (i, schema) in (JSONSchemaSuite.schemas + [#"true"#]).enumerated() {
            let grammar = schema == "true" ? try Grammar(gbnf: JSONSchemaGrammar.anyValueGBNF) : try JSONSchemaGrammar.grammar(schema: schema)
            let req = request(engine, grammar, "Give an example, as JSON.", seed: UInt64(i))
            for out in try sweep(engine, req, rng: &rng, label: "schema \(i)") { pairs.append((schema, out)) }
        }
        XCTAssertEqual(try JSONSchemaSuite.invalid(pairs), [])
    }

    func testSchemaLimitsSmolLM2() throws { try schemas(TestPaths.smollmFile) }
    func testSchemaLimitsGemma3() throws { try schemas(TestPaths.gemmaFile) }

    func gbnf(_ file: String) throws {
        let engine = try EngineModel.load(file)
        var rng = SeededGenerator(seed: 23)
        for (i, item) in Self.grammars.enumerated() {
            let grammar = try Grammar(gbnf: item.gbnf)
            let regex = try item.regex.map { try NSRegularExpression(pattern: "^(?:" + $0 + ")$") }
            for seed: UInt64 in [1, 2] {
                for out in try sweep(engine, request(engine, grammar, item.prompt, seed: seed), rng: &rng, label: "grammar \(i)") {
                    XCTAssertTrue(grammar.matches(out), "grammar \(i): \(out.debugDescription)")
                    if let regex {
                        let whole = NSRange(out.startIndex..., in: out)
                        XCTAssertNotNil(regex.firstMatch(in: out, range: whole), "grammar \(i) (regex): \(out.debugDescription)")
                    } else {
                        XCTAssertTrue(Self.balancedArithmetic(out), "grammar \(i): \(out.debugDescription)")
                    }
                }
            }
        }
    }

    func testGBNFLimitsSmolLM2() throws { try gbnf(TestPaths.smollmFile) }
    func testGBNFLimitsGemma3() throws { try gbnf(TestPaths.gemmaFile) }

    /// The arithmetic grammar's language, checked without it: digits runs of 1-3, operators between operands,
    /// parentheses balanced and never empty.
    static func balancedArithmetic(_ s: String) -> Bool {
        var depth = 0, digits = 0
        var expectOperand = true
        for c in s {
            switch c {
            case "0"..."9":
                guard expectOperand || digits > 0, digits < 3 else { return false }
                digits += 1; expectOperand = false
            case "(":
                guard expectOperand, digits == 0 else { return false }
                depth += 1
            case ")":
                guard !expectOperand, depth > 0 else { return false }
                depth -= 1; digits = 0
            case "+", "-", "*":
                guard !expectOperand else { return false }
                expectOperand = true; digits = 0
            default: return false
            }
        }
        return depth == 0 && !expectOperand
    }
}
