import Foundation
import TestSupport
import XCTest

/// Every variant of the malformed corpus (Tests/TestSupport/MalformedVariants.swift), built from a real model file,
/// given to `slm generate --model <variant>`: the contract says no input may crash, hang or allocate without bound;
/// a bad model file is a runtime error (exit 1) reported on one stderr line.
final class MalformedModelTests: EndToEndTestCase {
    /// Virtual memory for each run. A real generate on gemma3-270m runs in under 600 MB of address space (measured
    /// with ulimit -v); 2 GiB leaves room for a loaded machine's allocator arenas while an allocation sized by a
    /// forged count (2^40 bytes and up) fails inside the child, which then crashes or reports it.
    static let memoryLimitKB = 2 * 1024 * 1024
    /// A rejection needs at most the header parse and the model load (well under a second in a debug build); the
    /// brief's bound is 10 s per variant.
    static let timeLimit = 10.0

    func checkCorpus(of modelPath: String) throws {
        let variants = try malformedVariants(of: modelPath)
        // One path reused for every variant: the corpus of a 250 MB model never holds two copies on disk.
        let path = try makeScratch().appendingPathComponent("variant.gguf").path
        var slowest = (name: "", seconds: 0.0)
        var total = 0.0
        for v in variants {
            // The loader-level variants are valid GGUF: give them the real weights so only the defect differs.
            // Variants the GGUF layer rejects never get as far as reading tensor data: a sparse hole is enough.
            try v.write(to: path, tensorData: v.rejectedByGGUF ? .sparse : .copied)
            let r = try SLM.run(["generate", "--model", path, "--max-tokens", "1", "--raw", "hi"],
                                timeout: 3 * Self.timeLimit, virtualMemoryKB: Self.memoryLimitKB)
            try? FileManager.default.removeItem(atPath: path)
            total += r.seconds
            if r.seconds > slowest.seconds { slowest = (v.name, r.seconds) }
            let label = "\(v.name) (\(v.why))"
            XCTAssertFalse(r.signaled, "\(label): died by signal \(r.status): \(r.summary)")
            XCTAssertEqual(r.status, 1, "\(label): \(r.summary)")
            XCTAssertLessThan(r.seconds, Self.timeLimit, label)
            XCTAssertEqual(r.stdout.count, 0, "\(label): nothing on stdout: \(r.out.prefix(200))")
            XCTAssertEqual(r.errLines.count, 1, "\(label): one stderr line: \(r.err.prefix(600))")
            let line = r.errLines.first ?? ""
            XCTAssertTrue(line.hasPrefix("error: "), "\(label): \(line)")
            // The message names the problem: more than a bare word, and no crash report or Swift error dump.
            XCTAssertGreaterThan(line.count, "error: ".count + 15, "\(label): \(line)")
            XCTAssertFalse(line.contains("Fatal error") || line.contains("Error Domain"), "\(label): \(line)")
            // Where the corpus names the key or tensor it broke ('...' in `why`), the message names it too
            // (truncations excepted: a short file is reported by whichever count or length first overruns it; and a
            // broken name length leaves the name unreadable, so the tensor is named by its index).
            let named = Self.quotedNames(v.why)
            if !v.name.hasPrefix("truncated-") && v.name != "tensor-name-length-huge" && !named.isEmpty {
                XCTAssertTrue(named.contains { line.contains($0) }, "\(label): message names none of \(named): \(line)")
            }
            if ProcessInfo.processInfo.environment["SLM_PRINT_CORPUS"] != nil { print("\(v.name): \(line)") }
        }
        print("malformed corpus of \((modelPath as NSString).lastPathComponent): \(variants.count) variants, "
              + "\(String(format: "%.1f", total)) s, slowest \(slowest.name) \(String(format: "%.2f", slowest.seconds)) s")
    }

    /// The names quoted in a variant's description: "'a' given the offset of 'b'" -> ["a", "b"].
    static func quotedNames(_ why: String) -> [String] {
        let parts = why.split(separator: "'", omittingEmptySubsequences: false)
        return stride(from: 1, to: parts.count - 1, by: 2).map { String(parts[$0]) }
    }

    func testMalformedSmolLMVariants() throws {
        try checkCorpus(of: try requireSmolLM())
    }

    func testMalformedGemmaVariants() throws {
        try checkCorpus(of: try requireGemma())
    }

    /// The same invocation on the unmodified file succeeds under the same limits, so the limits themselves do not
    /// make the runs above fail.
    func testRealModelPassesUnderTheSameLimits() throws {
        let path = try requireSmolLM()
        let r = try SLM.run(["generate", "--model", path, "--max-tokens", "1", "--raw", "hi"],
                            timeout: 3 * Self.timeLimit, virtualMemoryKB: Self.memoryLimitKB)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertFalse(r.signaled)
    }
}

extension MalformedModelTests {
    /// Valid GGUF whose final norm weights are NaN (the bytes of a tensor, which no header check can see): every
    /// logit comes out NaN. Sampling from that once crashed (min-p emptied the candidates); it is now an error.
    func testNaNWeightsAreAnErrorNotACrash() throws {
        let source = try requireSmolLM()
        let layout = try GGUFLayout(path: source)
        let norm = try XCTUnwrap(layout.tensor("output_norm.weight"))
        XCTAssertEqual(norm.type, 0, "F32")
        let path = try makeScratch().appendingPathComponent("nan-norm.gguf")
        // Copy the bytes, never a symbolic link (a store of links would have the original overwritten).
        try Data(contentsOf: URL(fileURLWithPath: source).resolvingSymlinksInPath()).write(to: path)
        let handle = try FileHandle(forWritingTo: path)
        try handle.seek(toOffset: UInt64(layout.dataOffset) + norm.offset)
        let count = Int(norm.dims.reduce(1, *))
        try handle.write(contentsOf: [Float](repeating: .nan, count: count).withUnsafeBytes { Data($0) })
        try handle.close()
        for sampling in [[], ["--temperature", "0"], ["--top-k", "0", "--top-p", "1", "--min-p", "0"]] {
            let r = try SLM.run(["generate", "--model", path.path, "--max-tokens", "3", "--raw"] + sampling + ["hi"],
                                timeout: 60, virtualMemoryKB: Self.memoryLimitKB)
            SLM.assertError(r, status: 1, mentions: ["NaN"])
        }
    }
}
