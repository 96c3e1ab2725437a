import Foundation
import SLMEngine
import SLMModels
import TestSupport
import XCTest

/// Metamorphic checks on the real models: a prefix-cache hit gives exactly the logits (and so the tokens) of a cold
/// run. Exact equality is the bar: restored rows are the f16 values a cold run stores, and prefill numerics do not
/// depend on batching (BatchInvarianceTests), so any difference is a bug.
final class PrefixCacheModelTests: XCTestCase {
    /// The model's identity in cache keys is read with pread: the same value as hashing the same ranges through the
    /// mapping (so caches written before stay valid), and different for a different file.
    func testFingerprintReadsTheSameBytesAsTheMapping() throws {
        for path in [TestPaths.smollmFile, TestPaths.gemmaFile] {
            let engine = try loadEngine(path, maxBatch: 8)
            let file = engine.file
            var h = Hasher128(seed: 0x534C_4D4D_4F44_454C)
            h.add(UInt64(file.fileSize))
            let head = min(file.dataOffset, file.fileSize)
            h.add(bytes: UnsafeRawBufferPointer(start: file.baseAddress, count: head))
            for i in 0..<64 {
                let offset = head + Int((UInt64(file.fileSize - head) * UInt64(i)) / 64)
                h.add(bytes: UnsafeRawBufferPointer(start: file.baseAddress + offset, count: min(4096, file.fileSize - offset)))
            }
            XCTAssertEqual(ModelFingerprint.of(file), h.finalize(), path)
        }
        let a = try loadEngine(TestPaths.smollmFile, maxBatch: 8), b = try loadEngine(TestPaths.gemmaFile, maxBatch: 8)
        XCTAssertNotEqual(ModelFingerprint.of(a.file), ModelFingerprint.of(b.file))
    }

    func testSmolLM2HitEqualsColdRunAndOtherSuffixHits() throws {
        let engine = try loadEngine(TestPaths.smollmFile, maxBatch: 48)
        let text = try LogitsReference.cases(model: "smollm2-135m").map(\.tokens).max { $0.count < $1.count }!
        let prompt = Array(text.prefix(140))
        let dir = try temporaryDirectory()
        let warnings = WarningLog()
        let cold = try run(engine, prompt, cache: nil)
        let first = try run(engine, prompt, cache: makeCache(engine, dir: dir, warnings))
        XCTAssertEqual(first.cached, 0)
        XCTAssertEqual(first.logits, cold.logits, "a cold run that stores blocks must equal --no-cache")
        XCTAssertEqual(first.tokens, cold.tokens)

        // New cache object on the same directory: the hit comes from disk, as in a new process.
        let warm = try run(engine, prompt, cache: makeCache(engine, dir: dir, warnings))
        XCTAssertEqual(warm.cached, 128)  // 4 complete blocks of 32 out of 140 tokens
        XCTAssertEqual(warm.logits, cold.logits)
        XCTAssertEqual(warm.tokens, cold.tokens)

        // Same first 100 tokens, different rest: hits the 3 shared blocks and equals its own cold run.
        let other = Array(prompt.prefix(100)) + Array(text.dropFirst(200).prefix(30))
        let otherCold = try run(engine, other, cache: nil)
        let otherWarm = try run(engine, other, cache: makeCache(engine, dir: dir, warnings))
        XCTAssertEqual(otherWarm.cached, 96)
        XCTAssertEqual(otherWarm.logits, otherCold.logits)
        XCTAssertEqual(otherWarm.tokens, otherCold.tokens)

        // A prompt wholly made of cached blocks restores all but its last token.
        let exact = Array(prompt.prefix(128))
        let exactWarm = try run(engine, exact, cache: makeCache(engine, dir: dir, warnings))
        XCTAssertEqual(exactWarm.cached, 127)
        XCTAssertEqual(exactWarm.logits, try run(engine, exact, cache: nil).logits)
        XCTAssertEqual(warnings.lines, [])
    }

    /// gemma3's local layers keep only the last 512 positions: a restored prefix of 544 tokens must rebuild exactly
    /// what they hold after a cold prefill.
    func testGemma3HitAcrossSlidingWindowEqualsColdRun() throws {
        let engine = try loadEngine(TestPaths.gemmaFile, maxBatch: 128)
        let prompt = try LogitsReference.cases(model: "gemma3-270m")[5].tokens
        XCTAssertGreaterThan(prompt.count, 560)
        let head = Array(prompt.prefix(560))
        let dir = try temporaryDirectory()
        let warnings = WarningLog()
        // The cold run stores 17 blocks (544 positions, past the window); it equals a --no-cache run because capture
        // only copies rows and prefill is batch-split invariant (testSmolLM2HitEqualsColdRunAndOtherSuffixHits and
        // BatchInvarianceTests check both). The warm run, from disk, restores 544 positions and computes 16.
        let cold = try run(engine, head, cache: makeCache(engine, dir: dir, warnings), steps: 3)
        XCTAssertEqual(cold.cached, 0)
        let warm = try run(engine, head, cache: makeCache(engine, dir: dir, warnings), steps: 3)
        XCTAssertEqual(warm.cached, 544)
        XCTAssertEqual(warm.logits, cold.logits)
        XCTAssertEqual(warm.tokens, cold.tokens)
        XCTAssertEqual(warnings.lines, [])
    }

    /// A corrupted block file gives one warning, the correct output, and a repaired cache.
    func testSmolLM2CorruptFileGivesCorrectOutputAndIsRepaired() throws {
        let engine = try loadEngine(TestPaths.smollmFile, maxBatch: 64)
        let prompt = Array(try LogitsReference.cases(model: "smollm2-135m").map(\.tokens).max { $0.count < $1.count }!.prefix(100))
        let dir = try temporaryDirectory()
        let warnings = WarningLog()
        let cold = try run(engine, prompt, cache: makeCache(engine, dir: dir, warnings))
        let files = try blockFiles(dir)
        XCTAssertEqual(files.count, 3)
        try flipByte(in: files[1], at: -100)
        let damaged = try run(engine, prompt, cache: makeCache(engine, dir: dir, warnings))
        XCTAssertEqual(warnings.lines.count, 1)
        XCTAssertTrue(warnings.lines.first?.contains("checksum") ?? false, "\(warnings.lines)")
        XCTAssertEqual(damaged.cached, 32)
        XCTAssertEqual(damaged.logits, cold.logits)
        let repaired = try run(engine, prompt, cache: makeCache(engine, dir: dir, warnings))
        XCTAssertEqual(repaired.cached, 96)
        XCTAssertEqual(repaired.logits, cold.logits)
        XCTAssertEqual(warnings.lines.count, 1)
    }

    // MARK: helpers

    struct Outcome {
        var cached: Int
        /// The prompt's last logits row, then one row per greedy step.
        var logits: [Float]
        var tokens: [Int32]
    }

    /// Prefill (through the cache when given, storing new blocks), then `steps` greedy tokens.
    func run(_ engine: Engine, _ prompt: [Int32], cache: PrefixCache?, steps: Int = 4) throws -> Outcome {
        let kv = try engine.makeCache(capacity: prompt.count + steps)
        var logits: [Float] = []
        let r = try engine.prefill(prompt, cache: kv, prefixCache: cache, into: &logits)
        cache?.store(r.blocks)
        let v = engine.config.vocabularySize
        var out = Outcome(cached: r.cachedTokens, logits: Array(logits[0..<v]), tokens: [])
        for _ in 0..<steps {
            let row = Array(logits[0..<v])
            let t = Int32(row.indices.max { row[$0] < row[$1] }!)
            out.tokens.append(t)
            try engine.evaluate([t], cache: kv, outputs: .last, into: &logits)
            out.logits += logits[0..<v]
        }
        return out
    }

    func loadEngine(_ file: String, maxBatch: Int) throws -> Engine {
        guard let path = TestPaths.model(file) else {
            if TestPaths.isCI { XCTFail("model \(file) missing; the test command fetches it first") }
            throw XCTSkip("model \(file) not in the store; run tools/fetch-models")
        }
        return try Engine(modelPath: path, threads: 2, maxBatch: maxBatch)
    }

    func makeCache(_ engine: Engine, dir: URL, _ log: WarningLog) -> PrefixCache {
        var o = PrefixCacheOptions()
        o.directory = dir.path
        o.warn = { log.add($0) }
        return PrefixCache(layout: KVLayout(engine: engine), options: o)
    }
}

/// Collects warning lines from a cache (thread-safe).
final class WarningLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func add(_ s: String) { lock.withLock { stored.append(s) } }
    var lines: [String] { lock.withLock { stored } }
}

extension XCTestCase {
    /// A fresh directory removed when the test ends.
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("slm-prefix-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// The block files under a cache root, in block order.
    func blockFiles(_ root: URL) throws -> [URL] {
        CacheDirectory.models(root: root.path).flatMap { $0.files }.filter { !$0.isTemp }
            .sorted { $0.index < $1.index }.map { URL(fileURLWithPath: $0.path) }
    }

    /// Inverts one byte; a negative offset counts from the end.
    func flipByte(in url: URL, at offset: Int) throws {
        var d = try Data(contentsOf: url)
        let i = offset < 0 ? d.count + offset : offset
        d[i] ^= 0xFF
        try d.write(to: url)
    }
}
