import Foundation
import TestSupport
import XCTest

/// Ctrl-C (SIGINT) during `slm generate`: generation stops, the line is ended, the summary printed, the stats file
/// written, the prompt's prefix blocks saved, and the exit status is 130.
final class InterruptTests: EndToEndTestCase {
    func testCtrlCDuringDecode() throws {
        _ = try requireSmolLM()
        let dir = try makeScratch()
        let cacheDir = dir.appendingPathComponent("cache").path
        let statsPath = dir.appendingPathComponent("stats.json")
        let text = try String(contentsOf: TestPaths.fixtures.appendingPathComponent("ppl-gpl3.txt"), encoding: .utf8)
        let prompt = String(text.prefix(600))
        let args = ["generate", "--raw", "--temp", "0", "--ignore-eos", "-n", "3000", "-c", "4096",
                    "--cache-dir", cacheDir, "--stats-file", statsPath.path, "--no-escape", prompt]
        // SIGINT once the first bytes of text are out (prefill done, decoding).
        let r = try SLM.run(args, timeout: 300, interruptAfter: 1)
        XCTAssertFalse(r.signaled, r.summary)
        XCTAssertEqual(r.status, 130, r.summary)
        XCTAssertTrue(r.out.hasSuffix("\n"), "the line is ended: \(r.out.suffix(40).debugDescription)")
        XCTAssertTrue(r.err.contains("stop: interrupted"), "the summary is printed: \(r.err)")
        let stats = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: statsPath)) as? [String: Any])
        XCTAssertEqual(stats["stop_reason"] as? String, "interrupted")
        let generated = try XCTUnwrap(stats["generated_tokens"] as? Int)
        XCTAssertTrue((1..<3000).contains(generated), "stopped early: \(generated)")
        let promptTokens = try XCTUnwrap(stats["prompt_tokens"] as? Int)

        // The prompt's complete blocks were saved: the next run restores them.
        let cs = try SLM.succeed(["cache", "stats", "--cache-dir", cacheDir]).out
        XCTAssertTrue(cs.contains("\(promptTokens / 32) blocks"), cs)
        XCTAssertTrue(cs.contains(TestPaths.smollmFile), "names the model: \(cs)")
        let again = dir.appendingPathComponent("again.json")
        try SLM.succeed(["generate", "--raw", "-n", "1", "--cache-dir", cacheDir, "--stats-file", again.path,
                         "--no-escape", prompt])
        let second = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: again)) as? [String: Any])
        XCTAssertEqual(second["cached_tokens"] as? Int, promptTokens / 32 * 32)

        // cache clear removes the blocks and the model directory left empty.
        let cleared = try SLM.succeed(["cache", "clear", "--cache-dir", cacheDir])
        XCTAssertTrue(cleared.err.contains("1 empty model directories"), cleared.err)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cacheDir), [])
    }
}
