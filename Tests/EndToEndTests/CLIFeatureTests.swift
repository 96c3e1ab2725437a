import Foundation
import TestSupport
import XCTest

/// What llama.cpp and Ollama users look for first: short flags, random seeds written down, -n -1, escapes, pieces,
/// detokenize from stdin, JSON from info and models.
final class CLIFeatureTests: EndToEndTestCase {
    static let prompt = "The capital of France is"

    func stats(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> (SLMResult, [String: Any]) {
        let path = try makeScratch().appendingPathComponent("stats.json")
        let r = try SLM.succeed(args + ["--stats-file", path.path], file: file, line: line)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any]
        return (r, try XCTUnwrap(object, file: file, line: line))
    }

    func testShortFlagsMeanTheLongOnes() throws {
        _ = try requireSmolLM()
        let long = try SLM.succeed(["generate", "--model", "smollm2-135m", "--threads", "1", "--max-tokens", "8",
                                    "--ctx", "256", "--seed", "5", "--temperature", "0.9", "--raw", Self.prompt])
        let short = try SLM.succeed(["generate", "-m", "smollm2-135m", "-t", "1", "-n", "8", "-c", "256", "-s", "5",
                                     "--temp", "0.9", "--raw", "-p", Self.prompt])
        XCTAssertEqual(short.out, long.out)
        let f = try makeScratch().appendingPathComponent("prompt.txt")
        try Data(Self.prompt.utf8).write(to: f)
        XCTAssertEqual(try SLM.succeed(["generate", "-t", "1", "-n", "8", "-s", "5", "--temp", "0.9", "--raw", "-f", f.path]).out,
                       long.out, "-f reads the prompt from a file")
        SLM.assertError(try SLM.run(["generate", "-p", "a", "b"]), status: 2, mentions: ["prompt"])
    }

    /// No --seed (or --seed -1): a random seed, printed and written to the stats, which repeats the run.
    func testRandomSeedIsRecordedAndRepeats() throws {
        _ = try requireSmolLM()
        let args = ["generate", "--raw", "--temp", "1.0", "-n", "12", "--no-cache", Self.prompt]
        let (a, sa) = try stats(args)
        let (_, sb) = try stats(args + ["--seed", "-1"])
        let seedA = try XCTUnwrap((sa["seed"] as? NSNumber)?.uint64Value)
        let seedB = try XCTUnwrap((sb["seed"] as? NSNumber)?.uint64Value)
        // Two draws of a 32-bit seed agree with probability 2^-32.
        XCTAssertNotEqual(seedA, seedB, "each run draws its own seed")
        XCTAssertTrue(a.err.contains("seed \(seedA)"), "the summary names the seed: \(a.err)")
        let again = try SLM.succeed(args + ["-s", String(seedA)])
        XCTAssertEqual(again.out, a.out, "the recorded seed repeats the run")
    }

    /// -n -1 generates until the context is full; without -n a prompt near the end of the context is given the room
    /// left, with a note; an explicit -n that does not fit is still refused.
    func testMaxTokensMinusOneAndTheClampNote() throws {
        _ = try requireSmolLM()
        let (r, s) = try stats(["generate", "--raw", "--temp", "0", "--ignore-eos", "-c", "24", "-n", "-1", Self.prompt])
        let promptTokens = try XCTUnwrap(s["prompt_tokens"] as? Int)
        XCTAssertEqual(s["generated_tokens"] as? Int, 24 - promptTokens, r.err)
        XCTAssertEqual(s["stop_reason"] as? String, "length")
        let (clamped, cs) = try stats(["generate", "--raw", "--temp", "0", "--ignore-eos", "-c", "24", Self.prompt])
        XCTAssertEqual(cs["generated_tokens"] as? Int, 24 - promptTokens)
        XCTAssertTrue(clamped.err.contains("note: the context of 24 tokens has room for \(24 - promptTokens)"), clamped.err)
        let refused = try SLM.run(["generate", "--raw", "-c", "24", "-n", "100", Self.prompt])
        SLM.assertError(refused, status: 1, mentions: ["context", "--ctx"])
    }

    /// The README's `--stop "\n\n"`: the two characters \n are read as a newline (llama.cpp's -e), so generation
    /// stops at the first blank line; --no-escape takes them literally.
    func testStopEscapesAreRead() throws {
        _ = try requireSmolLM()
        let base = ["generate", "--temp", "0", "-n", "48", "--no-cache"]
        let prompt = "Give me a recipe for pancakes."
        let full = try SLM.succeed(base + [prompt]).out
        let blank = try XCTUnwrap(full.range(of: "\n\n"), "the greedy answer has a blank line: \(full.debugDescription)")
        let stopped = try SLM.succeed(base + ["--stop", "\\n\\n", prompt]).out
        XCTAssertEqual(stopped, String(full[..<blank.lowerBound]) + "\n")
        XCTAssertEqual(try SLM.succeed(base + ["--no-escape", "--stop", "\\n\\n", prompt]).out, full,
                       "literal backslash-n never appears")
        // In the prompt argument too: "a\nb" given as backslash-n tokenizes as a newline.
        let escaped = try SLM.succeed(["tokenize", "a\\nb\\x21"]).out
        XCTAssertEqual(escaped, try SLM.succeed(["tokenize", "a\nb!"]).out)
        XCTAssertNotEqual(try SLM.succeed(["tokenize", "--no-escape", "a\\nb"]).out, try SLM.succeed(["tokenize", "a\nb"]).out)
        SLM.assertError(try SLM.run(["generate", "--stop", "\\xff", "hi"]), status: 2, mentions: ["--stop", "UTF-8"])
    }

    func testTokenizePiecesAndDetokenizeFromStdin() throws {
        _ = try requireSmolLM()
        let text = "Hello world\n\tdone"
        let ids = parseIDs(try SLM.succeed(["tokenize", "--no-escape", text]))
        let pieces = try SLM.succeed(["tokenize", "--pieces", "--no-escape", text]).out.split(separator: "\n").map(String.init)
        XCTAssertEqual(pieces.count, ids.count)
        // id TAB "piece": the pieces, unescaped, concatenate to the text.
        var joined = ""
        for (line, id) in zip(pieces, ids) {
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            XCTAssertEqual(parts.first, String(id))
            let quoted = try XCTUnwrap(parts.last)
            XCTAssertTrue(quoted.hasPrefix("\"") && quoted.hasSuffix("\""), quoted)
            XCTAssertFalse(quoted.contains("\n") || quoted.contains("\t"), "control characters escaped: \(quoted)")
            joined += String(quoted.dropFirst().dropLast())
        }
        XCTAssertEqual(joined, "Hello world\\n\\tdone")
        // tokenize | detokenize round-trips, for gemma too (whose tokenize adds BOS).
        for model in [[String](), ["-m", "gemma3-270m"]] {
            if !model.isEmpty, TestPaths.model(TestPaths.gemmaFile) == nil { continue }
            let out = try SLM.succeed(["tokenize"] + model + ["--no-escape", text]).out
            XCTAssertEqual(try SLM.succeed(["detokenize"] + model, stdin: Data(out.utf8)).out, text + "\n", "\(model)")
        }
        SLM.assertError(try SLM.run(["detokenize"], stdin: Data("12 abc".utf8)), status: 1, mentions: ["abc"])
    }

    func testInfoAndModelsAsJSON() throws {
        let path = try requireSmolLM()
        let info = try XCTUnwrap(try JSONSerialization.jsonObject(with: SLM.succeed(["info", "--json"]).stdout) as? [String: Any])
        XCTAssertEqual(info["architecture"] as? String, "llama")
        XCTAssertEqual(info["file_size"] as? Int, try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        XCTAssertEqual(info["layers"] as? Int, 30)
        let kernels = try XCTUnwrap(info["kernels"] as? [String: Any])
        XCTAssertTrue(["ref", "avx2", "avx512", "avx512vnni"].contains(kernels["isa"] as? String ?? ""), "\(kernels)")
        let refInfo = try SLM.run(["info", "--json"], env: ["SLM_ISA": "ref"])
        let refKernels = try XCTUnwrap((try JSONSerialization.jsonObject(with: refInfo.stdout) as? [String: Any])?["kernels"] as? [String: Any])
        XCTAssertEqual(refKernels["isa"] as? String, "ref", "SLM_ISA=ref shows")
        XCTAssertEqual(refKernels["wide_rows"] as? Bool, false, "no 16-row kernels on the scalar ones")
        let offInfo = try SLM.run(["info", "--json"], env: ["SLM_ZMM16": "0"])
        let offKernels = try XCTUnwrap((try JSONSerialization.jsonObject(with: offInfo.stdout) as? [String: Any])?["kernels"] as? [String: Any])
        XCTAssertEqual(offKernels["wide_rows"] as? Bool, false, "SLM_ZMM16=0 turns them off")
        if kernels["cpu_best"] as? String == "avx512vnni" {
            let onInfo = try SLM.run(["info", "--json"], env: ["SLM_ZMM16": "1"])
            let onKernels = try XCTUnwrap((try JSONSerialization.jsonObject(with: onInfo.stdout) as? [String: Any])?["kernels"] as? [String: Any])
            XCTAssertEqual(onKernels["wide_rows"] as? Bool, true, "SLM_ZMM16=1 turns them on where AVX-512 VNNI runs")
        }
        XCTAssertTrue(try SLM.succeed(["info"]).out.contains("kernels"), "the text form names the kernels too")

        let models = try XCTUnwrap(try JSONSerialization.jsonObject(with: SLM.succeed(["models", "--json"]).stdout) as? [String: Any])
        let entries = try XCTUnwrap(models["models"] as? [[String: Any]])
        let smol = try XCTUnwrap(entries.first { $0["file"] as? String == TestPaths.smollmFile })
        XCTAssertTrue((smol["names"] as? [String])?.contains("smollm2-135m") ?? false, "\(smol)")
        let known = try XCTUnwrap(models["known"] as? [[String: Any]])
        XCTAssertEqual(known.first?["name"] as? String, "smollm2-135m")
    }

    /// A model file that is empty or not GGUF: the error names the file. A metadata key with control characters is
    /// shown with escapes, never raw.
    func testModelFileErrorsNameTheFileAndShowNoControlBytes() throws {
        let dir = try makeScratch()
        let empty = dir.appendingPathComponent("empty.gguf")
        try Data().write(to: empty)
        let text = dir.appendingPathComponent("passwd.gguf")
        try Data("root:x:0:0:root:/root:/bin/bash\n".utf8).write(to: text)
        for f in [empty, text] {
            SLM.assertError(try SLM.run(["info", "-m", f.path]), status: 1, mentions: [f.path])
        }
        var w = GGUFWriter()
        let key = "evil\u{1B}[31m\rkey\n"
        w.add(key, .uint32(1))
        w.add(key, .uint32(2))
        let dup = dir.appendingPathComponent("dup.gguf")
        try Data(w.bytes()).write(to: dup)
        let r = try SLM.run(["info", "-m", dup.path])
        SLM.assertError(r, status: 1, mentions: ["duplicate", "evil\\x1b[31m\\rkey\\n"])
        XCTAssertFalse(r.stderr.contains(0x1B) || r.stderr.contains(0x0D), "no raw control bytes: \(r.err.debugDescription)")
    }

    /// A cache directory that cannot be made: a warning naming why in errno's words, no Foundation error code.
    func testCacheDirectoryProblemIsWorded() throws {
        _ = try requireSmolLM()
        let r = try SLM.succeed(["generate", "--raw", "-n", "1", "--cache-dir", "/dev/null/cache", "hi"])
        XCTAssertTrue(r.err.contains("warning: prefix cache: cannot use directory '/dev/null/cache' ('/dev/null': Not a directory)"), r.err)
        XCTAssertFalse(r.err.contains("Domain") || r.err.contains("error 512"), r.err)
    }

    /// With no prompt and stdin a terminal, slm says it is reading stdin (else it would look hung).
    func testStdinHintOnATerminal() throws {
        _ = try requireSmolLM()
        // python's pty module gives the child a terminal as stdin; Ctrl-D at once ends the (empty) prompt.
        let script = """
            import os, pty, sys, time
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(os.environ["SLM"], ["slm", "tokenize"])
            time.sleep(1.0)
            os.write(fd, b"Hello\\n\\x04")
            out = b""
            while True:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            os.waitpid(pid, 0)
            sys.stdout.write(out.decode("utf-8", "replace"))
            """
        let r = try SLM.run(["(pty) tokenize"], timeout: 60,
                            shell: "python3 -c '\(script.replacingOccurrences(of: "'", with: "'\\''"))'")
        XCTAssertTrue(r.out.contains("from stdin (end it with Ctrl-D)"), r.out)
        XCTAssertTrue(r.out.contains("19556"), "then reads it: \(r.out)")
        // Not a terminal: no hint.
        XCTAssertEqual(try SLM.succeed(["tokenize"], stdin: Data("Hello".utf8)).err, "")
    }
}
