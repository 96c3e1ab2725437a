import Foundation
import XCTest
import SLMEngine
import TestSupport

/// Many sampled strings (a hot temperature, prompts that invite line breaks, quotes and non-ASCII text) under `--json`
/// and schemas with string fields, both models: every output passes strict parsers (Python's json.loads with
/// jsonschema, and Foundation's JSONSerialization), so no raw control character or lone surrogate reaches a string.
final class JSONStringSamplingTests: XCTestCase {
    static let schemas = [
        #"true"#,
        #"{"type":"object","properties":{"name":{"type":"string"},"bio":{"type":"string"},"tags":{"type":"array","items":{"type":"string"},"maxItems":4}},"required":["name","bio","tags"]}"#,
        #"{"type":"object","properties":{"poem":{"type":"string","maxLength":120},"lines":{"type":"integer","minimum":1,"maximum":9}},"required":["poem","lines"]}"#,
        #"{"type":"array","items":{"type":"string","minLength":1,"maxLength":30},"minItems":2,"maxItems":5}"#,
        #"{"type":"object","additionalProperties":{"type":"string"}}"#,
    ]
    static let prompts = [
        "Write a short profile of a person with a multi-line biography, as JSON.",
        "Write a two-line poem with a quotation in it, in JSON.",
        "Give some words in French, German and Japanese, as JSON.",
    ]

    func run(_ file: String) throws {
        let engine = try EngineModel.load(file)
        var pairs: [(schema: String, instance: String)] = []
        var foundationRejects: [String] = []
        for (i, schema) in Self.schemas.enumerated() {
            let grammar = schema == "true" ? try Grammar(gbnf: JSONSchemaGrammar.anyValueGBNF) : try JSONSchemaGrammar.grammar(schema: schema)
            for (j, prompt) in Self.prompts.enumerated() {
                var req = GenerationRequest(prompt: JSONSchemaSuite.prompt(engine, prompt), contextLength: 1024)
                req.grammar = grammar
                req.maxTokens = 160
                req.sampling.temperature = 1.1
                req.sampling.seed = UInt64(10 * i + j)
                var text = ""
                _ = try engine.generate(req) { text += $0 }
                pairs.append((schema, text))
                if (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) == nil {
                    foundationRejects.append(text)
                }
            }
        }
        XCTAssertEqual(foundationRejects, [])
        XCTAssertEqual(try JSONSchemaSuite.invalid(pairs), [])
    }

    func testSmolLM2() throws { try run(TestPaths.smollmFile) }
    func testGemma3() throws { try run(TestPaths.gemmaFile) }
}
