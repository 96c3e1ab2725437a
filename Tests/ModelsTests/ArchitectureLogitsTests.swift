import SLMModels
import TestSupport
import XCTest

/// Each architecture test model (qwen2, qwen3, llama with Llama 3 RoPE factors and untied output, phi3, gemma2:
/// SmolLM2-135M's tensors re-laid, tools/make-arch-models.py) against llama.cpp's exact-math teacher-forced logits of
/// the same Q8_0 file (Tests/Fixtures/arch-models), with the bounds of ReferenceLogitsTests; the prompts include two
/// (577 and 1,288 tokens) longer than gemma2's 256-token window and than the 1024-token original context of the
/// llama file's RoPE factors.
final class ArchitectureLogitsTests: XCTestCase {
    func check(_ arch: String) throws {
        let model = try ModelFixture.load(TestPaths.archFile(arch))
        XCTAssertEqual(model.config.architecture, arch)
        var cmp = LogitsComparison()
        for c in try LogitsReference.cases(architecture: arch) {
            try ModelFixture.forEachRow(model, c.tokens) { i, row in cmp.add(reference: c.top[i], logits: row) }
        }
        print("\(arch) logits vs reference: \(cmp)")
        XCTAssertGreaterThan(cmp.positions, 1_900)
        XCTAssertGreaterThanOrEqual(cmp.top1, 0.95, "\(cmp)")
        XCTAssertLessThanOrEqual(cmp.median, 0.18, "\(cmp)")
        XCTAssertLessThanOrEqual(cmp.percentile(0.99), 0.9, "\(cmp)")
    }

    func testQwen2LogitsMatchReference() throws { try check("qwen2") }
    func testQwen3LogitsMatchReference() throws { try check("qwen3") }
    func testLlama3LogitsMatchReference() throws { try check("llama") }
    func testPhi3LogitsMatchReference() throws { try check("phi3") }
    func testGemma2LogitsMatchReference() throws { try check("gemma2") }

    /// Prefill in one batch, in chunks of 7 and token by token give the same bits, for every architecture (gemma2
    /// across its 256-token window: its soft-capped attention runs the same chunk schedule).
    func testBatchSplitInvariance() throws {
        for arch in TestPaths.testArchitectures {
            let model = try ModelFixture.load(TestPaths.archFile(arch))
            let tokens = Array(try LogitsReference.cases(model: "smollm2-135m")[7].tokens.prefix(arch == "gemma2" ? 300 : 40))
            func tail(_ maxBatch: Int) throws -> [Float] {
                var rows: [Float] = []
                try ModelFixture.forEachRow(model, tokens, maxBatch: maxBatch, from: tokens.count - 3) { _, row in
                    rows.append(contentsOf: row)
                }
                return rows
            }
            let whole = try tail(64)
            XCTAssertEqual(whole, try tail(7), arch)
            if arch != "gemma2" { XCTAssertEqual(whole, try tail(1), arch) }
        }
    }
}
