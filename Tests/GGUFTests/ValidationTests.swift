import XCTest
import GGUF
import TestSupport

/// Each structural check on small synthetic files, asserting the exact error.
final class ValidationTests: GGUFTestCase {
    /// The bytes of `w` after `edit`, which gets the byte layout of the unedited file.
    func patched(_ w: GGUFWriter, _ edit: (inout [UInt8], GGUFLayout) throws -> Void) throws -> [UInt8] {
        var bytes = w.bytes()
        let layout = try GGUFLayout(prefix: bytes, fileSize: bytes.count)
        try edit(&bytes, layout)
        return bytes
    }

    func testOpeningErrors() throws {
        XCTAssertThrowsError(try GGUFFile(path: path("missing.gguf"))) { error in
            guard case .cannotOpen(let p, let reason)? = error as? GGUFError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path("missing.gguf"))
            XCTAssertTrue(reason.contains("No such file"), reason)
        }
        XCTAssertThrowsError(try GGUFFile(path: scratch.path)) {
            XCTAssertEqual($0 as? GGUFError, .notARegularFile(path: self.scratch.path))
        }
        XCTAssertEqual(openError([]), .truncated(what: "magic", offset: 0, needed: 4, fileSize: 0))
        XCTAssertEqual(openError(Array("GG".utf8)), .truncated(what: "magic", offset: 0, needed: 4, fileSize: 2))
        XCTAssertEqual(openError(Array("GGUF\u{3}\0".utf8)), .truncated(what: "version", offset: 4, needed: 4, fileSize: 6))
        XCTAssertEqual(openError(Array("hello, world\n".utf8)), .badMagic(found: Array("hell".utf8)))
    }

    /// Every cut of a small file with every kind of field (so each read in the parser meets the end of the file)
    /// is rejected, and the file itself parses.
    func testEveryTruncationIsRejected() throws {
        var w = smallModelWriter()
        for (k, v) in RoundTripTests.everyValue where k != "a.string" { w.add(k, v) }  // (a.string is 500 bytes)
        let bytes = w.bytes()
        let dataOffset = try open(bytes).dataOffset
        var kinds = Set<String>()
        // Every cut inside the header; cuts in the tensor data every 17 bytes (they all fail the same way).
        for length in Array(0..<dataOffset) + Array(stride(from: dataOffset, to: bytes.count, by: 17)) {
            guard let e = openError(Array(bytes[0..<length])) else { return XCTFail("cut at \(length) accepted") }
            kinds.insert("\(e)".components(separatedBy: " ").prefix(4).joined(separator: " "))
        }
        XCTAssertGreaterThan(kinds.count, 5, "\(kinds)")  // the cuts fail in different places, not in one check
    }

    func testVersions() throws {
        for version: UInt32 in [0, 1, 4, 99, UInt32(3).byteSwapped] {
            let e = openError(try patched(smallModelWriter()) { b, _ in b.setLE(version, at: 4) })
            XCTAssertEqual(e, .unsupportedVersion(version))
        }
        XCTAssertEqual(GGUFError.unsupportedVersion(1).description,
                       "GGUF version 1 is not supported (only versions 2 and 3)")
        XCTAssertNoThrow(try open(smallModelWriter(version: 2).bytes()))
    }

    func testCountsCheckedBeforeReading() throws {
        let e = openError(try patched(smallModelWriter()) { b, _ in b.setLE(UInt64(1) << 62, at: 8) })
        guard case .implausibleCount(what: "tensor_count", count: 1 << 62, offset: 8, _, _)? = e else {
            return XCTFail("\(String(describing: e))")
        }
        let e2 = openError(try patched(smallModelWriter()) { b, _ in b.setLE(UInt64(100), at: 16) })
        guard case .implausibleCount(what: "kv_count", count: 100, offset: 16, _, _)? = e2 else {
            return XCTFail("\(String(describing: e2))")
        }
    }

    func testHugeArrayFailsWithoutAllocating() throws {
        let bytes = try patched(smallModelWriter()) { b, l in
            b.setLE(UInt64(1) << 60, at: l.kv("tokenizer.ggml.tokens")!.valueOffset + 4)
        }
        let start = Date()
        let e = openError(bytes)
        // Reading 2^60 strings (or reserving for them) would take far longer or abort; 0.5 s is generous for
        // reading a 400-byte header even on a loaded debug build.
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.5)
        guard case .lengthPastEnd(let what, 1 << 60, _, 8, _)? = e else { return XCTFail("\(String(describing: e))") }
        XCTAssertEqual(what, "element count of array 'tokenizer.ggml.tokens'")
    }

    func testStringLengthPastEnd() throws {
        let bytes = try patched(smallModelWriter()) { b, l in
            let kv = l.kv("general.architecture")!
            b.setLE(UInt64(b.count), at: kv.valueOffset)
        }
        guard case .lengthPastEnd(what: "length of value of 'general.architecture'", _, _, 1, _)? = openError(bytes)
        else { return XCTFail() }
    }

    func testNestingDepthLimit() throws {
        func nested(_ depth: Int) -> GGUFArray {
            depth == 1 ? .uint8([1]) : .array([nested(depth - 1)])
        }
        var ok = GGUFWriter()
        ok.add("deep", .array(nested(8)))
        XCTAssertEqual(try open(ok.bytes()).metadata["deep"], .array(nested(8)))
        var tooDeep = GGUFWriter()
        tooDeep.add("deep", .array(nested(9)))
        guard case .arrayTooDeep(key: "deep", depth: 8, _)? = openError(tooDeep.bytes()) else { return XCTFail() }
    }

    func testUnknownValueTypes() throws {
        let e = openError(try patched(smallModelWriter()) { b, l in
            b.setLE(UInt32(13), at: l.kv("llama.block_count")!.valueTypeOffset)
        })
        guard case .unknownValueType(key: "llama.block_count", type: 13, _)? = e else { return XCTFail() }
        let e2 = openError(try patched(smallModelWriter()) { b, l in
            b.setLE(UInt32(99), at: l.kv("tokenizer.ggml.tokens")!.valueOffset)
        })
        guard case .unknownValueType(key: "tokenizer.ggml.tokens", type: 99, _)? = e2 else { return XCTFail() }
    }

    func testInvalidBool() throws {
        let e = openError(try patched(smallModelWriter()) { b, l in
            b[l.kv("tokenizer.ggml.add_bos_token")!.valueOffset] = 2
        })
        guard case .invalidBool(key: "tokenizer.ggml.add_bos_token", byte: 2, _)? = e else { return XCTFail() }
    }

    func testDuplicateKeyAndTensor() throws {
        var w = smallModelWriter()
        w.add("llama.block_count", .uint32(3))
        guard case .duplicateKey("llama.block_count", _)? = openError(w.bytes()) else { return XCTFail() }
        var w2 = smallModelWriter()
        w2.addTensor("output_norm.weight", dims: [64], type: .f32)
        guard case .duplicateTensor(name: "output_norm.weight", _)? = openError(w2.bytes()) else { return XCTFail() }
    }

    func testAlignment() throws {
        for bad: GGUFValue in [.uint32(0), .uint32(3), .uint32(48), .uint64(32), .int32(32)] {
            var w = smallModelWriter()
            w.add("general.alignment", bad)
            XCTAssertEqual(openError(w.bytes()), .invalidAlignment(value: "\(bad.typeName) \(bad)"), "\(bad)")
        }
        var w = smallModelWriter()
        w.alignment = 16
        w.add("general.alignment", .uint32(16))
        let f = try open(w.bytes())
        XCTAssertEqual(f.alignment, 16)
        XCTAssertEqual(f.dataOffset % 16, 0)
    }

    func testTensorShapeChecks() throws {
        func error(_ edit: (inout [UInt8], GGUFLayout.TensorEntry) -> Void) throws -> GGUFError? {
            openError(try patched(smallModelWriter()) { b, l in edit(&b, l.tensor("token_embd.weight")!) })
        }
        XCTAssertEqual(try error { b, t in b.setLE(UInt32(0), at: t.nDimsOffset) },
                       .invalidDimensionCount(tensor: "token_embd.weight", nDims: 0))
        XCTAssertEqual(try error { b, t in b.setLE(UInt32(5), at: t.nDimsOffset) },
                       .invalidDimensionCount(tensor: "token_embd.weight", nDims: 5))
        XCTAssertEqual(try error { b, t in b.setLE(UInt64(0), at: t.dimsOffset + 8) },
                       .invalidDimension(tensor: "token_embd.weight", index: 1, value: 0))
        XCTAssertEqual(try error { b, t in b.setLE(UInt64(1) << 63, at: t.dimsOffset) },
                       .invalidDimension(tensor: "token_embd.weight", index: 0, value: 1 << 63))
        XCTAssertEqual(try error { b, t in b.setLE(UInt32(4), at: t.typeOffset) },
                       .unknownTensorType(tensor: "token_embd.weight", type: 4))
        XCTAssertEqual(try error { b, t in b.setLE(UInt64(48), at: t.dimsOffset) },
                       .rowNotMultipleOfBlock(tensor: "token_embd.weight", rowLength: 48, type: "Q8_0", blockSize: 32))
        XCTAssertEqual(try error { b, t in
            b.setLE(UInt64(1) << 32, at: t.dimsOffset); b.setLE(UInt64(1) << 32, at: t.dimsOffset + 8)
        }, .tensorSizeOverflow(tensor: "token_embd.weight", dims: [1 << 32, 1 << 32]))
        // 31 * 2^58 elements fit in Int, but 31 * 2^58 / 32 * 34 bytes do not.
        XCTAssertEqual(try error { b, t in
            b.setLE(UInt64(1) << 32, at: t.dimsOffset); b.setLE(UInt64(31) << 26, at: t.dimsOffset + 8)
        }, .tensorSizeOverflow(tensor: "token_embd.weight", dims: [1 << 32, 31 << 26]))
    }

    func testTensorPlacementChecks() throws {
        let w = smallModelWriter()
        let size = w.bytes().count
        func error(_ edit: (inout [UInt8], GGUFLayout) -> Void) throws -> GGUFError? {
            openError(try patched(w) { b, l in edit(&b, l) })
        }
        let norm = "output_norm.weight"
        XCTAssertEqual(try error { b, l in b.setLE(UInt64(33), at: l.tensor(norm)!.offsetOffset) },
                       .misalignedTensorOffset(tensor: norm, offset: 33, alignment: 32))
        let past = try error { b, l in b.setLE(UInt64(size), at: l.tensor(norm)!.offsetOffset) }
        guard case .tensorOutOfBounds(tensor: norm, _, _, fileSize: size)? = past else { return XCTFail("\(past!)") }
        let overflow = try error { b, l in b.setLE(UInt64(Int.max) - 31, at: l.tensor(norm)!.offsetOffset) }
        XCTAssertEqual(overflow, .tensorOutOfBounds(tensor: norm, start: Int.max, end: nil, fileSize: size))
        let overlap = try error { b, l in b.setLE(UInt64(0), at: l.tensor(norm)!.offsetOffset) }
        guard case .tensorsOverlap? = overlap else { return XCTFail("\(String(describing: overlap))") }
        // Cut the last byte of the last tensor.
        var bytes = w.bytes()
        bytes.removeLast()
        guard case .tensorOutOfBounds(tensor: norm, _, _, _)? = openError(bytes) else { return XCTFail() }
    }

    func testDataSectionPastEnd() throws {
        var w = GGUFWriter()
        w.add("general.alignment", .uint32(1 << 20))
        w.alignment = 1
        w.addTensor("output_norm.weight", dims: [4], type: .f32)
        var bytes = w.bytes()
        bytes.removeLast(16)   // the tensor's data: the file now ends at its header
        // The header is a few dozen bytes, so the data section would start at 1 MiB, beyond this small file.
        guard case .dataSectionPastEnd(dataOffset: 1 << 20, _)? = openError(bytes) else { return XCTFail() }
    }

    /// A file with no tensors has an empty data section: it may end at its header, unpadded (llama.cpp's vocab-only
    /// models/ggml-vocab-*.gguf files do).
    func testNoTensorsNeedNoPadding() throws {
        var w = GGUFWriter()
        w.add("general.alignment", .uint32(1 << 20))
        w.add("tokenizer.ggml.model", .string("gpt2"))
        w.alignment = 1
        let file = try open(w.bytes())
        XCTAssertEqual(file.dataOffset, file.fileSize)
        XCTAssertEqual(file.tensors.count, 0)
    }

    func testErrorDescriptionsNameThePosition() {
        XCTAssertEqual(GGUFError.tensorOutOfBounds(tensor: "blk.0.attn_q.weight", start: 1024, end: 4096,
                                                   fileSize: 3000).description,
                       "tensor 'blk.0.attn_q.weight' data [1024, 4096) ends past the end of the file (3000 bytes)")
        XCTAssertEqual(GGUFError.truncated(what: "kv_count", offset: 16, needed: 8, fileSize: 20).description,
                       "file ends while reading kv_count: 8 bytes needed at offset 16, file is 20 bytes")
    }
}
