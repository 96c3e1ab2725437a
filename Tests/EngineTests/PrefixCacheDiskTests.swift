import Foundation
@testable import SLMEngine
import XCTest

/// The disk tier and the index on small synthetic blocks (2 layers, kvDim 4, 4 tokens per block): every kind of bad
/// file is skipped with exactly one warning and then replaced, concurrent writers never expose a partial file, and
/// eviction keeps memory and disk under their caps.
final class PrefixCacheDiskTests: XCTestCase {
    let layout = KVLayout(modelID: Hash128(high: 1, low: 2), numerics: 1, layerCount: 2, kvDim: 4, blockTokens: 4)

    func testBlocksRoundTripThroughDisk() throws {
        let dir = try temporaryDirectory(), log = WarningLog()
        let tokens = tokenRun(12, seed: 1)
        cache(dir, log).store(makeBlocks(tokens))
        let found = cache(dir, log).lookup(tokens + [99])
        XCTAssertEqual(found.count, 3)
        for (a, b) in zip(found, makeBlocks(tokens)) { XCTAssertTrue(samePayload(a, b)) }
        XCTAssertEqual(log.lines, [])
    }

    func testCorruptedPayloadIsSkippedOnceThenReplaced() throws {
        try checkBadFile(expect: "checksum") { try self.flipByte(in: $0, at: -3) }
    }

    func testTruncatedFileIsSkippedOnceThenReplaced() throws {
        try checkBadFile(expect: "truncated") { url in
            let d = try Data(contentsOf: url)
            try d.prefix(d.count / 2).write(to: url)
        }
    }

    func testFileFromAnotherModelIsSkipped() throws {
        try checkBadFile(expect: "another model") { url in
            // The same prefix written under another model's identity, placed where this model looks.
            var other = self.layout
            other.modelID = Hash128(high: 3, low: 4)
            let otherDir = try self.temporaryDirectory()
            let tokens = self.tokenRun(12, seed: 1)
            let b = self.makeBlocks(tokens, layout: other)[1]
            let fake = KVBlock(layout: other, index: 1, hash: self.layout.blockHashes(tokens)[1],
                               parent: self.layout.blockHashes(tokens)[0], tokens: b.tokens)
            fake.payload.copyMemory(from: UnsafeRawBufferPointer(b.payload))
            let path = otherDir.appendingPathComponent("x.kvb").path
            XCTAssertNil(BlockFile.write(fake, to: path, tempPath: path + ".tmp"))
            try FileManager.default.removeItem(at: url)
            try FileManager.default.copyItem(atPath: path, toPath: url.path)
        }
    }

    func testWrongFormatVersionIsSkipped() throws {
        try checkBadFile(expect: "format version 7") { url in
            var d = try Data(contentsOf: url)
            d[8] = 7  // u32 version at offset 8 (a newer format, header checksum and all)
            try d.write(to: url)
        }
    }

    func testGarbageFileIsSkipped() throws {
        try checkBadFile(expect: "bad magic") { url in
            try Data((0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(to: url)
        }
    }

    /// A process killed mid-write leaves a temporary file (never a partial block under its real name, but we plant
    /// one too): lookups ignore the temporary file, the partial one is skipped with one warning, and a stale
    /// temporary file is cleaned up while a fresh one (maybe another live process's) is left alone.
    func testKilledWriterLeavesUsableCache() throws {
        let dir = try temporaryDirectory(), log = WarningLog()
        let tokens = tokenRun(12, seed: 5)
        let blocks = makeBlocks(tokens)
        cache(dir, log).store(blocks)
        let modelDir = dir.appendingPathComponent(layout.modelID.description)
        let stale = modelDir.appendingPathComponent(".tmp-999999-1-1-b000003-00000000000000000000000000000000.kvb")
        let fresh = modelDir.appendingPathComponent(".tmp-999999-2-2-b000004-00000000000000000000000000000000.kvb")
        try Data(repeating: 0xAB, count: 100).write(to: stale)
        try Data(repeating: 0xAB, count: 100).write(to: fresh)
        let old = Date(timeIntervalSinceNow: -Double(DiskTier.staleTempSeconds + 60))
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: stale.path)
        let files = try blockFiles(dir)
        let d = try Data(contentsOf: files[2])
        try d.prefix(150).write(to: files[2])

        let c = cache(dir, log)
        XCTAssertEqual(c.lookup(tokens).count, 2)
        XCTAssertEqual(log.lines.count, 1)
        c.store([blocks[2]])
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path), "stale temporary file removed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: fresh.path), "fresh temporary file kept")
        XCTAssertEqual(cache(dir, log).lookup(tokens).count, 3)
        XCTAssertEqual(log.lines.count, 1)
    }

    /// Several writers (each its own cache, as separate processes would be) store the same prefix at once, deleting
    /// it between rounds as another process's eviction might, while readers look it up: a reader sees a whole valid
    /// file or none, never a warning, and the directory ends valid.
    func testConcurrentWritersOfOnePrefix() throws {
        let dir = try temporaryDirectory(), log = WarningLog()
        let tokens = tokenRun(16, seed: 9)
        let blocks = makeBlocks(tokens)
        let rounds = 40
        let caches = (0..<6).map { _ in cache(dir, log) }
        let root = dir.path
        DispatchQueue.concurrentPerform(iterations: 6) { worker in
            let c = caches[worker]
            for r in 0..<rounds {
                if worker < 3 {
                    if r % 4 == worker { CacheDirectory.clear(root: root) }
                    c.store(blocks)
                } else {
                    c.clearMemory()
                    let found = c.lookup(tokens)
                    for (a, b) in zip(found, blocks) where !sameBlock(a, b) { log.add("reader saw different bytes") }
                }
            }
        }
        XCTAssertEqual(log.lines, [])
        cache(dir, log).store(blocks)
        XCTAssertEqual(cache(dir, log).lookup(tokens).count, 4)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent(layout.modelID.description).path).count, 4,
                       "no temporary files left behind")
    }

    func testMemoryEvictionKeepsUnderCapAndKeepsRecentPrefix() throws {
        var o = PrefixCacheOptions()
        let blockBytes = layout.payloadBytes
        o.memoryLimit = blockBytes * 5 + blockBytes / 2
        let c = PrefixCache(layout: layout, options: o)
        var last: [Int32] = []
        for s in 0..<6 {
            last = tokenRun(12, seed: UInt64(100 + s))
            c.store(makeBlocks(last))
            XCTAssertLessThanOrEqual(c.memoryBytes, o.memoryLimit)
        }
        XCTAssertEqual(c.memoryBlockCount, 5)
        XCTAssertEqual(c.lookup(last).count, 3, "the most recent prefix survives whole")
        XCTAssertEqual(c.lookup(tokenRun(12, seed: 100)).count, 0, "the oldest is gone")
    }

    func testDiskEvictionKeepsUnderCapAndKeepsRecentPrefix() throws {
        let dir = try temporaryDirectory(), log = WarningLog()
        let fileBytes = 128 + 4 * layout.blockTokens + layout.payloadBytes
        var o = PrefixCacheOptions()
        o.directory = dir.path
        o.diskLimit = fileBytes * 7
        o.memoryLimit = 0
        o.warn = { log.add($0) }
        var last: [Int32] = []
        for s in 0..<5 {
            last = tokenRun(12, seed: UInt64(200 + s))
            PrefixCache(layout: layout, options: o).store(makeBlocks(last))
            let bytes = CacheDirectory.models(root: dir.path).flatMap(\.files).reduce(0) { $0 + $1.size }
            XCTAssertLessThanOrEqual(bytes, o.diskLimit)
        }
        XCTAssertEqual(PrefixCache(layout: layout, options: o).lookup(last).count, 3)
        XCTAssertEqual(log.lines, [])
    }

    func testByteSizeIndependentHashesAndNames() {
        let t = tokenRun(8, seed: 3)
        var other = t
        other[7] += 1
        XCTAssertEqual(layout.blockHashes(t)[0], layout.blockHashes(other)[0])
        XCTAssertNotEqual(layout.blockHashes(t)[1], layout.blockHashes(other)[1])
        var l2 = layout
        l2.numerics = 0
        XCTAssertNotEqual(layout.blockHashes(t)[0], l2.blockHashes(t)[0], "other kernels, other chain")
        XCTAssertEqual(Hash128(hex: Substring(layout.root.description)), layout.root)
    }

    // MARK: helpers

    /// Stores a 3-block prefix, damages block 1's file, and checks: one warning naming the problem, the lookup stops
    /// before block 1, and after the recomputed block is stored the whole prefix hits again with no new warning.
    func checkBadFile(expect: String, damage: (URL) throws -> Void) throws {
        let dir = try temporaryDirectory(), log = WarningLog()
        let tokens = tokenRun(12, seed: 1)
        let blocks = makeBlocks(tokens)
        cache(dir, log).store(blocks)
        try damage(try blockFiles(dir)[1])
        let c = cache(dir, log)
        XCTAssertEqual(c.lookup(tokens).count, 1)
        XCTAssertEqual(log.lines.count, 1)
        XCTAssertTrue(log.lines.first?.contains(expect) ?? false, "\(log.lines)")
        c.store(Array(blocks[1...]))
        let again = cache(dir, log).lookup(tokens)
        XCTAssertEqual(again.count, 3)
        XCTAssertTrue(samePayload(again[1], blocks[1]))
        XCTAssertEqual(log.lines.count, 1)
    }

    func cache(_ dir: URL, _ log: WarningLog) -> PrefixCache {
        var o = PrefixCacheOptions()
        o.directory = dir.path
        o.warn = { log.add($0) }
        return PrefixCache(layout: layout, options: o)
    }

    func tokenRun(_ n: Int, seed: UInt64) -> [Int32] {
        var x = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            return Int32(x % 50_000)
        }
    }

    /// The complete blocks of `tokens`, each payload a deterministic function of its hash.
    func makeBlocks(_ tokens: [Int32], layout: KVLayout? = nil) -> [KVBlock] {
        let l = layout ?? self.layout
        let hashes = l.blockHashes(tokens)
        return hashes.indices.map { i in
            let b = KVBlock(layout: l, index: i, hash: hashes[i], parent: i == 0 ? l.root : hashes[i - 1],
                            tokens: Array(tokens[(i * l.blockTokens)..<((i + 1) * l.blockTokens)]))
            let n = l.payloadBytes / 2
            for j in 0..<n { b.storage[j] = UInt16(truncatingIfNeeded: hashes[i].low &+ UInt64(j) &* 7919) }
            return b
        }
    }

    func samePayload(_ a: KVBlock, _ b: KVBlock) -> Bool { sameBlock(a, b) }
}

private func sameBlock(_ a: KVBlock, _ b: KVBlock) -> Bool {
    a.tokens == b.tokens && a.hash == b.hash && a.payload.elementsEqual(b.payload)
}
