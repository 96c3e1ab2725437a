import XCTest
@testable import SLMEngine
import TestSupport

/// The trie-walk mask against the obvious twin (every token checked on its own), over a real vocabulary, in grammar
/// states of different breadth; and the sample-first path against mask-then-argmax.
final class GrammarMaskTests: XCTestCase {
    func testMaskEqualsPerTokenCheck() throws {
        let engine = try JSONSchemaSuite.engine(TestPaths.smollmFile)
        let vocab = TokenVocabulary(tokenizer: engine.tokenizer)
        let g = try Grammar(gbnf: JSONSchemaGrammar.anyValueGBNF)
        // Prefixes that leave the grammar at the start, inside a key, inside a string with a split character, in a
        // number, after a complete value.
        let prefixes: [[UInt8]] = [[], Array(#"{"ke"#.utf8), Array(#"["a"#.utf8) + [0xC3], Array("[12".utf8), Array("[1]".utf8)]
        for prefix in prefixes {
            var p = GrammarProcessor(grammar: g, vocab: vocab)
            XCTAssertTrue(p.accept(bytes: prefix))
            let mask = p.allowedMask()
            var mismatches = 0
            for t in 0..<Int32(vocab.size) where mask[Int(t)] != p.allows(t) { mismatches += 1 }
            XCTAssertEqual(mismatches, 0, "prefix \(prefix)")
            XCTAssertGreaterThan(mask.filter { $0 }.count, 0, "some token is allowed after \(prefix)")
        }
    }

    func testGreedyUnderGrammarIsBestAllowedToken() throws {
        let engine = try JSONSchemaSuite.engine(TestPaths.smollmFile)
        let vocab = TokenVocabulary(tokenizer: engine.tokenizer)
        let g = try Grammar(gbnf: #"root ::= "{\"n\": " [0-9]+ "}""#)
        var rng = SystemRandomNumberGenerator()
        var params = SamplingParameters()
        params.temperature = 0
        for _ in 0..<20 {
            var proc = GrammarProcessor(grammar: g, vocab: vocab)
            _ = proc.accept(bytes: Array(#"{"n"#.utf8))
            let logits = (0..<vocab.size).map { _ in Float.random(in: -5...5, using: &rng) }
            var sampler = Sampler(params)
            let picked = logits.withUnsafeBufferPointer { sampler.sample($0, grammar: &proc) }
            let best = (0..<Int32(vocab.size)).filter { proc.allows($0) }.max { logits[Int($0)] < logits[Int($1)] }
            XCTAssertEqual(picked, best)
        }
    }
}
