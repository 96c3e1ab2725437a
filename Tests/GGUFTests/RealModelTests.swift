import XCTest
import GGUF
import TestSupport

func requireModel(_ file: String) throws -> String {
    if let path = TestPaths.model(file) { return path }
    if TestPaths.isCI { XCTFail("reference model \(file) missing under CI") }
    throw XCTSkip("reference model \(file) not in \(TestPaths.modelStore.path); run tools/fetch-models")
}

final class RealModelTests: XCTestCase {
    func testSmolLM2Header() throws {
        let f = try GGUFFile(path: try requireModel(TestPaths.smollmFile))
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.fileSize, 98_362_432)
        XCTAssertEqual(f.alignment, 32)
        XCTAssertEqual(f.dataOffset, 1_785_664)  // gguf-py's GGUFReader.data_offset for this file
        XCTAssertEqual(try f.string("general.architecture"), "llama")
        XCTAssertEqual(f.metadataKeys.count, 33)
        XCTAssertEqual(f.metadataKeys.first, "general.architecture")
        XCTAssertEqual(f.metadataKeys.last, "general.quantization_version")
        XCTAssertEqual(Set(f.metadataKeys).count, f.metadata.count)
        XCTAssertEqual(try f.int("llama.block_count"), 30)
        XCTAssertEqual(try f.int("llama.embedding_length"), 576)
        XCTAssertEqual(try f.int("llama.attention.head_count_kv"), 3)
        XCTAssertEqual(try f.float("llama.rope.freq_base"), 100_000)
        XCTAssertEqual(try f.float("llama.attention.layer_norm_rms_epsilon"), 1e-5)
        XCTAssertEqual(try f.bool("tokenizer.ggml.add_bos_token"), false)
        XCTAssertEqual(try f.string("tokenizer.ggml.model"), "gpt2")

        let tokens = try f.stringArray("tokenizer.ggml.tokens")
        XCTAssertEqual(tokens.count, 49152)
        XCTAssertEqual(tokens[0], "<|endoftext|>")
        XCTAssertEqual(try f.intArray("tokenizer.ggml.token_type").count, 49152)
        XCTAssertEqual(try f.stringArray("tokenizer.ggml.merges").count, 48900)

        XCTAssertEqual(f.tensors.count, 272)
        let byType = Dictionary(grouping: f.tensors, by: \.type).mapValues(\.count)
        XCTAssertEqual(byType, [.q4_1: 210, .f32: 61, .q8_0: 1])

        let embd = try XCTUnwrap(f.tensor(named: "token_embd.weight"))
        XCTAssertEqual(embd.dims, [576, 49152])
        XCTAssertEqual(embd.type, .q8_0)
        XCTAssertEqual(embd.elementCount, 576 * 49152)
        XCTAssertEqual(embd.byteCount, 576 * 49152 / 32 * 34)
        XCTAssertEqual(embd.offset, 0)
        XCTAssertEqual(f.data(of: embd), f.baseAddress + 1_785_664)

        let q = try XCTUnwrap(f.tensor(named: "blk.0.attn_q.weight"))
        XCTAssertEqual(q.dims, [576, 576])
        XCTAssertEqual(q.type, .q4_1)
        XCTAssertEqual(q.byteCount, 576 * 576 / 32 * 20)
        XCTAssertEqual(f.data(of: q), f.baseAddress + f.dataOffset + q.offset)

        // The first Q4_1 block of blk.0.attn_q.weight read through the mapping equals the bytes read with FileHandle.
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: f.path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(f.dataOffset + q.offset))
        let expected = try XCTUnwrap(handle.read(upToCount: 20))
        XCTAssertEqual(Array(UnsafeRawBufferPointer(start: f.data(of: q), count: 20)), Array(expected))

        let norm = try XCTUnwrap(f.tensor(named: "blk.0.attn_norm.weight"))
        XCTAssertEqual(norm.dims, [576])
        XCTAssertEqual(norm.byteCount, 2304)
        XCTAssertNil(f.tensor(named: "no.such.tensor"))
    }

    func testGemma3Header() throws {
        let f = try GGUFFile(path: try requireModel(TestPaths.gemmaFile))
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.fileSize, 253_113_024)
        XCTAssertEqual(f.dataOffset, 6_525_120)  // gguf-py's GGUFReader.data_offset for this file
        XCTAssertEqual(try f.string("general.architecture"), "gemma3")
        XCTAssertEqual(f.metadataKeys.count, 33)
        XCTAssertEqual(try f.int("gemma3.block_count"), 18)
        XCTAssertEqual(try f.int("gemma3.attention.sliding_window"), 512)
        XCTAssertEqual(try f.int("gemma3.attention.key_length"), 256)
        XCTAssertEqual(try f.float("gemma3.rope.freq_base"), 1_000_000)
        XCTAssertEqual(try f.string("tokenizer.ggml.model"), "llama")
        XCTAssertEqual(try f.bool("tokenizer.ggml.add_bos_token"), true)
        XCTAssertEqual(try f.stringArray("tokenizer.ggml.tokens").count, 262_144)
        XCTAssertEqual(try f.floatArray("tokenizer.ggml.scores").count, 262_144)
        XCTAssertEqual(try f.intArray("tokenizer.ggml.token_type").count, 262_144)

        XCTAssertEqual(f.tensors.count, 236)
        let byType = Dictionary(grouping: f.tensors, by: \.type).mapValues(\.count)
        XCTAssertEqual(byType, [.f32: 109, .q5_0: 81, .q4_K: 27, .q8_0: 10, .q6_K: 9])
        XCTAssertEqual(f.tensors.first?.name, "output_norm.weight")

        let embd = try XCTUnwrap(f.tensor(named: "token_embd.weight"))
        XCTAssertEqual(embd.dims, [640, 262_144])
        XCTAssertEqual(embd.byteCount, 178_257_920)
        XCTAssertEqual(f.dataOffset + embd.offset, 6_527_680)  // gguf-py's data_offset of this tensor
        XCTAssertEqual(f.data(of: embd), f.baseAddress + 6_527_680)
        // llama.cpp writes tensors back to back, each padded to the alignment: check the table tiles that way.
        let sorted = f.tensors.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            XCTAssertEqual(b.offset, (a.offset + a.byteCount + f.alignment - 1) / f.alignment * f.alignment, b.name)
        }
        XCTAssertLessThanOrEqual(f.dataOffset + sorted.last!.offset + sorted.last!.byteCount, f.fileSize)
    }
}
