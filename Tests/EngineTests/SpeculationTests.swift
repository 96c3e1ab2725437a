import Foundation
@testable import SLMEngine
import SLMModels
import TestSupport
import XCTest

/// Prompt-lookup speculation changes nothing: the text and the stats (draft counts and times aside) are identical
/// with and without it, greedy and sampled, under a grammar, stop strings and a think budget. It rests on batch
/// invariance, checked here for the row counts a verify step uses.
final class SpeculationTests: XCTestCase {
    /// The copy-heavy and free-form prompts of Benchmarks/data (the benchmark's own sets).
    static func prompts(_ name: String) throws -> [String] {
        let url = TestPaths.packageRoot.appendingPathComponent("Benchmarks/data/\(name)")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try XCTUnwrap(object?["prompt"] as? String)
        }
    }

    func request(_ engine: Engine, _ text: String, temperature: Float, seed: UInt64 = 5, maxTokens: Int = 40)
        -> GenerationRequest {
        var r = GenerationRequest(prompt: JSONSchemaSuite.prompt(engine, text), contextLength: 1024)
        r.maxTokens = maxTokens
        r.sampling.temperature = temperature
        r.sampling.seed = seed
        return r
    }

    /// Runs `request` with speculation off and on; asserts the same text and stats; returns the speculative stats.
    @discardableResult
    func same(_ engine: Engine, _ request: GenerationRequest, _ label: String) throws -> GenerationStats {
        var off = request
        off.speculation = .off
        var on = request
        on.speculation = Speculation(draftMax: 6)
        var a = "", b = ""
        var pa: [String] = [], pb: [String] = []
        var sa = try engine.generate(off) { a += $0; pa.append($0) }
        var sb = try engine.generate(on) { b += $0; pb.append($0) }
        XCTAssertEqual(a, b, label)
        XCTAssertEqual(pa.joined(), pb.joined(), label)
        XCTAssertEqual(sa.draftedTokens, 0)
        let result = sb
        sa.prefillMs = 0; sa.decodeMs = 0; sb.prefillMs = 0; sb.decodeMs = 0
        sb.draftedTokens = 0; sb.acceptedTokens = 0
        XCTAssertEqual(sa, sb, label)
        XCTAssertLessThanOrEqual(result.acceptedTokens, result.draftedTokens)
        return result
    }

    func copyAndChat(_ file: String) throws {
        let engine = try EngineModel.load(file)
        let copy = try Self.prompts("speculation-copy.jsonl")
        let chat = try Self.prompts("speculation-chat.jsonl").prefix(2)
        for temperature: Float in [0, 0.8] {
            var drafted = 0, accepted = 0
            for (i, p) in copy.enumerated() {
                let s = try same(engine, request(engine, p, temperature: temperature), "\(file) copy \(i) t=\(temperature)")
                drafted += s.draftedTokens
                accepted += s.acceptedTokens
            }
            XCTAssertGreaterThan(drafted, 0, "copy-heavy prompts draft")
            XCTAssertGreaterThan(accepted, 0, "copy-heavy prompts accept drafts")
            for (i, p) in chat.enumerated() {
                try same(engine, request(engine, p, temperature: temperature), "\(file) chat \(i) t=\(temperature)")
            }
        }
    }

    func testIdenticalOutputSmolLM2() throws { try copyAndChat(TestPaths.smollmFile) }
    func testIdenticalOutputGemma3() throws { try copyAndChat(TestPaths.gemmaFile) }

    /// A JSON schema with a think budget, and stop strings, on a copy-heavy prompt: identical again.
    func composes(_ file: String) throws {
        let engine = try EngineModel.load(file)
        let record = try Self.prompts("speculation-copy.jsonl")[1]
        for temperature: Float in [0, 0.8] {
            var r = request(engine, record, temperature: temperature, maxTokens: 120)
            r.grammar = try JSONSchemaGrammar.grammar(schema: #"{"type":"object","properties":{"name":{"type":"string"},"address":{"type":"string"},"phone":{"type":"string"}},"required":["name","address","phone"]}"#)
            r.thinkBudget = 12
            try same(engine, r, "\(file) schema + think budget t=\(temperature)")
            var s = request(engine, try Self.prompts("speculation-copy.jsonl")[4], temperature: temperature, maxTokens: 80)
            s.stops = ["herons", "canal to"]
            try same(engine, s, "\(file) stop strings t=\(temperature)")
        }
    }

    func testComposesWithGrammarBudgetAndStopsSmolLM2() throws { try composes(TestPaths.smollmFile) }
    func testComposesWithGrammarBudgetAndStopsGemma3() throws { try composes(TestPaths.gemmaFile) }

    /// Batch invariance for a verify step: after a prompt, feeding t0...tk in one forward pass (every row's logits)
    /// gives bit-identical rows to feeding them one at a time, for k + 1 = 2...9 rows. Gemma's sliding-window layers
    /// included (the prompt is short of the window; the sequential run crosses nothing the batch does not).
    func invariance(_ file: String) throws {
        let engine = try EngineModel.load(file)
        let v = engine.config.vocabularySize
        let prompt = engine.tokenize("The quick brown fox jumps over the lazy dog. The quick brown")
        let fed: [Int32] = engine.tokenize(" fox jumps over the lazy dog again and again, then it runs home", addSpecial: false)
        XCTAssertGreaterThanOrEqual(fed.count, 9)
        let sequential = try engine.makeCache(capacity: 128)
        var logits: [Float] = []
        try engine.evaluate(prompt, cache: sequential, outputs: .last, into: &logits)
        var rows: [[Float]] = []
        for t in fed.prefix(9) {
            try engine.evaluate([t], cache: sequential, outputs: .last, into: &logits)
            rows.append(Array(logits[0..<v]))
        }
        let batched = try engine.makeCache(capacity: 128)
        try engine.evaluate(prompt, cache: batched, outputs: .last, into: &logits)
        for n in 2...9 {
            try engine.evaluate(Array(fed.prefix(n)), cache: batched, outputs: .all, into: &logits)
            for r in 0..<n {
                XCTAssertTrue(logits[(r * v)..<((r + 1) * v)].map(\.bitPattern) == rows[r].map(\.bitPattern),
                              "\(file): row \(r) of a \(n)-row step differs from sequential decoding")
            }
            // Drop the step, as a verify that rejects every draft does (kept: the prompt).
            try batched.rewind(to: prompt.count)
        }
    }

    func testBatchInvarianceOfVerifyRowsSmolLM2() throws { try invariance(TestPaths.smollmFile) }
    func testBatchInvarianceOfVerifyRowsGemma3() throws { try invariance(TestPaths.gemmaFile) }

    /// The drafter: the longest suffix match wins, the most recent occurrence, the continuation capped at the limit.
    /// A draft model (here a second load of the same file, so its greedy drafts are often right) drafts where prompt
    /// lookup finds nothing, and still changes nothing; sampled runs reject drafts, which exercises the draft cache's
    /// rewinds.
    func testDraftModelChangesNothing() throws {
        let engine = try EngineModel.smolLM()
        let draft = try DraftModel(try Engine(modelPath: engine.file.path, threads: 2, maxBatch: 64), for: engine)
        let chat = try Self.prompts("speculation-chat.jsonl").prefix(2)
        for temperature: Float in [0, 0.8] {
            var drafted = 0, accepted = 0
            for (i, p) in chat.enumerated() {
                var r = request(engine, p, temperature: temperature, maxTokens: 48)
                r.draftModel = draft
                let s = try same(engine, r, "draft model, chat \(i) t=\(temperature)")
                drafted += s.draftedTokens
                accepted += s.acceptedTokens
            }
            XCTAssertGreaterThan(drafted, 20, "t=\(temperature): the draft model drafts on free-form text")
            XCTAssertGreaterThan(accepted, 0, "t=\(temperature)")
            if temperature == 0 { XCTAssertGreaterThan(Double(accepted), 0.8 * Double(drafted), "greedy drafts of the same model") }
        }
    }

    func testDraftModelMustShareTheTokenizer() throws {
        let engine = try EngineModel.smolLM()
        let gemma = try EngineModel.load(TestPaths.gemmaFile)
        XCTAssertThrowsError(try DraftModel(gemma, for: engine)) { error in
            XCTAssertTrue("\(error)".contains("share a tokenizer"), "\(error)")
        }
    }

    func testPromptLookupDrafts() {
        var lookup = PromptLookup(prompt: [1, 2, 3, 4, 5, 9, 2, 3, 7, 8], capacity: 32, shortest: 2, longest: 3)
        var out: [Int32] = []
        XCTAssertEqual(lookup.draft(4, into: &out), 0, "no earlier [7, 8]")
        lookup.append([1, 2, 3])
        out = []
        XCTAssertEqual(lookup.draft(3, into: &out), 3, "[1, 2, 3] at 0 is the longest match (not [2, 3] at 6)")
        XCTAssertEqual(out, [4, 5, 9])
        lookup.append(6)
        lookup.append([2, 3])
        out = []
        XCTAssertEqual(lookup.draft(4, into: &out), 3, "[2, 3]: the most recent match (at 11), up to the end")
        XCTAssertEqual(out, [6, 2, 3])
        var policy = DraftPolicy(maxLength: 6)
        policy.record(drafted: 6, accepted: 1)
        XCTAssertEqual(policy.length, 2)
        policy.record(drafted: 2, accepted: 2)
        XCTAssertEqual(policy.length, 4)
    }
}
