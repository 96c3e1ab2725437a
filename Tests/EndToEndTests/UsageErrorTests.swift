import Foundation
import TestSupport
import XCTest

/// The contract's errors: one stderr line "error: ...", exit 2 for usage errors, 1 for runtime and input-data errors.
final class UsageErrorTests: EndToEndTestCase {
    func expect(_ args: [String], stdin: Data? = nil, status: Int32, mentions: [String],
                file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try SLM.run(args, stdin: stdin, timeout: 60, file: file, line: line)
        SLM.assertError(r, status: status, mentions: mentions, file: file, line: line)
        XCTAssertEqual(r.stdout.count, 0, "nothing on stdout: \(r.out.prefix(200))", file: file, line: line)
    }

    func testBadFlagsAndValuesAreUsageErrors() throws {
        try expect(["generate", "--frobnicate", "hi"], status: 2, mentions: ["--frobnicate"])
        try expect(["generate", "--top-k=-1", "hi"], status: 2, mentions: ["--top-k"])
        // Without '=', "-1" reads as a flag, so --top-k lacks its value: still a usage error naming --top-k.
        try expect(["generate", "--top-k", "-1", "hi"], status: 2, mentions: ["--top-k"])
        try expect(["generate", "--temperature", "nan", "hi"], status: 2, mentions: ["--temperature"])
        try expect(["generate", "--temperature", "-0.5", "hi"], status: 2, mentions: ["--temperature"])
        try expect(["generate", "--threads", "0", "hi"], status: 2, mentions: ["--threads"])
        try expect(["generate", "--max-tokens", "99999999999999999999", "hi"], status: 2, mentions: ["--max-tokens"])
        try expect(["generate", "--top-p", "0", "hi"], status: 2, mentions: ["--top-p"])
        try expect(["logits", "--top", "0", "hi"], status: 2, mentions: ["--top"])
        try expect(["frobnicate"], status: 2, mentions: ["frobnicate"])
        try expect(["perplexity"], status: 2, mentions: ["--file"])
        try expect(["generate", "--raw", "--system", "x", "hi"], status: 2, mentions: ["--system"])
        try expect(["serve", "--compute-nice", "20"], status: 2, mentions: ["--compute-nice", "0...19"])
        // A context beyond what the model was trained for, in every command that takes --ctx.
        for command in [["generate", "-n", "1", "hi"], ["chat"], ["serve", "--port", "0"]] {
            try expect(command + ["--ctx", "9000000"], stdin: Data(), status: 2, mentions: ["--ctx 9000000", "trained context"])
        }
    }

    func testModelSelectionErrors() throws {
        // An unknown name is a bad --model value (as `slm pull` of an unknown name): usage, exit 2.
        try expect(["generate", "--model", "unknown-name", "hi"], status: 2, mentions: ["unknown-name"])
        // A path that does not exist or is not a file: runtime errors naming the path.
        try expect(["generate", "--model", "/nonexistent/model.gguf", "hi"], status: 1, mentions: ["/nonexistent/model.gguf"])
        let dir = try makeScratch()
        try expect(["info", "--model", dir.path], status: 1, mentions: [dir.path])
    }

    func testInputErrorsAreRuntimeErrors() throws {
        _ = try requireSmolLM()
        let bad = Data([0x61, 0x62, 0xFF, 0x63])  // "ab", an invalid byte, "c"
        try expect(["generate", "--max-tokens", "1"], stdin: bad, status: 1, mentions: ["UTF-8"])
        try expect(["tokenize"], stdin: bad, status: 1, mentions: ["UTF-8"])
        try expect(["perplexity", "--file", "/nonexistent/text.txt"], status: 1, mentions: ["/nonexistent/text.txt"])
        // A prompt longer than the context: refused before any work, naming the context.
        let r = try SLM.run(["generate", "--raw", "--ctx", "4", "--max-tokens", "0", "one two three four five six seven"])
        XCTAssertTrue(r.status == 1 || r.status == 2, r.summary)
        SLM.assertError(r, status: r.status, mentions: ["context"])
        XCTAssertTrue(r.err.contains("--ctx"), "tells how to fix it: \(r.err)")
        // A file that is not a model at all.
        let text = TestPaths.fixtures.appendingPathComponent("ppl-gpl3.txt").path
        try expect(["generate", "--model", text, "hi"], status: 1, mentions: [])
    }
}

extension UsageErrorTests {
    /// `slm generate ... | head -c 1`: once the reader is gone, writes fail with EPIPE (SIGPIPE is ignored); slm
    /// must stop quietly, not crash on the failed write.
    func testClosedStdoutIsNotACrash() throws {
        _ = try requireSmolLM()
        for args in [["generate", "--raw", "--temperature", "0", "--max-tokens", "8", "The capital of France is"],
                     ["logits", "--top", "3", "The capital of France is"], ["tokenize", "Hello world"]] {
            let r = try SLM.run(args, closedStdout: true)
            XCTAssertFalse(r.signaled, r.summary)
            XCTAssertEqual(r.status, 0, r.summary)
            XCTAssertFalse(r.err.contains("Fatal error") || r.err.contains("crashed"), r.summary)
        }
    }
}

extension UsageErrorTests {
    /// stdin that cannot be read (a directory: `slm tokenize < /tmp`) is an input error, not a crash.
    func testUnreadableStdinIsAnError() throws {
        _ = try requireSmolLM()
        let dir = try makeScratch().path
        for args in [["tokenize"], ["generate", "--max-tokens", "1"], ["logits"]] {
            let r = try SLM.run(args, stdinPath: dir)
            SLM.assertError(r, status: 1, mentions: ["stdin"])
        }
    }
}
