import XCTest
import GGUF
import TestSupport

/// The malformed corpus built from the real SmolLM2 file: every variant marked `rejectedByGGUF` must make
/// GGUFFile(path:) throw (never crash) within a second; the others are valid GGUF that the model loader rejects.
final class MalformedCorpusTests: GGUFTestCase {
    /// The variants the brief requires by name, besides the truncations.
    static let required = [
        "tensor-count-huge", "tensor-count-past-end", "kv-count-huge", "kv-count-past-end", "key-length-huge",
        "string-length-huge", "string-length-past-end", "array-count-huge", "array-count-past-end",
        "value-type-unknown", "tensor-type-unknown", "tensor-offset-past-end", "tensor-offset-misaligned",
        "tensors-overlap", "dim-zero", "dims-product-overflows", "n-dims-zero", "n-dims-five", "alignment-zero",
        "alignment-three", "duplicate-key", "version-1", "version-99", "missing-block-count", "missing-tokens",
        "embedding-length-as-string", "attn-q-shape-mismatch", "missing-tensor-blk-0-attn_q-weight",
        "truncated-in-magic", "truncated-in-version", "truncated-in-tensor-count", "truncated-in-kv-count",
        "truncated-in-key", "truncated-in-string-length", "truncated-in-u32-value", "truncated-in-array-elements",
        "truncated-in-tensor-dims", "truncated-in-data-section",
    ]

    func testCorpusShape() throws {
        let variants = try malformedVariants(of: try requireModel(TestPaths.smollmFile))
        let names = variants.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "variant names are unique")
        XCTAssertGreaterThanOrEqual(variants.filter(\.rejectedByGGUF).count, 45)
        XCTAssertGreaterThanOrEqual(variants.filter { !$0.rejectedByGGUF }.count, 5)
        for name in Self.required { XCTAssertTrue(names.contains(name), name) }
        XCTAssertGreaterThanOrEqual(names.filter { $0.hasPrefix("truncated-") }.count, 18)
    }

    func testGGUFRejectsOrParsesEveryVariant() throws {
        // GGUF_CORPUS_MODEL=<file in the model store> runs the corpus of another model (gemma's takes ~20 s).
        let file = ProcessInfo.processInfo.environment["GGUF_CORPUS_MODEL"] ?? TestPaths.smollmFile
        let model = try requireModel(file)
        let original = try GGUFFile(path: model)
        let arch = try original.string("general.architecture")
        let variants = try malformedVariants(of: model)
        var slowest = (name: "", seconds: 0.0)
        for v in variants {
            let path = try v.write(into: scratch)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let start = Date()
            let result = Result { () throws(GGUFError) -> GGUFFile in try GGUFFile(path: path) }
            let seconds = Date().timeIntervalSince(start)
            if seconds > slowest.seconds { slowest = (v.name, seconds) }
            // Parsing the whole 1.8 MB header of this model takes well under 0.1 s; a second allows for a loaded
            // machine and a debug build while still catching work proportional to a claimed (huge) count.
            XCTAssertLessThan(seconds, 1.0, v.name)
            switch (result, v.rejectedByGGUF) {
            case (.failure(let error), true):
                XCTAssertFalse(error.description.isEmpty, v.name)
                XCTAssertTrue(v.ggufErrorCases.contains(caseName(error)), "\(v.name): rejected for another reason: \(error)")
                if ProcessInfo.processInfo.environment["GGUF_PRINT_CORPUS"] != nil { print("\(v.name): \(error)") }
            case (.success, true):
                XCTFail("\(v.name): GGUFFile accepted a malformed file (\(v.why))")
            case (.failure(let error), false):
                XCTFail("\(v.name): valid GGUF rejected: \(error)")
            case (.success(let f), false):
                try checkModelLevelVariant(v, f, original: original, arch: arch)
            }
        }
        print("malformed corpus: \(variants.count) variants, slowest \(slowest.name) \(slowest.seconds) s")
    }

    func caseName(_ error: GGUFError) -> String {
        Mirror(reflecting: error).children.first?.label ?? "\(error)"
    }

    /// The model-level variants parse, and the defect the loader must catch is visible through the GGUF API.
    func checkModelLevelVariant(_ v: MalformedGGUF, _ f: GGUFFile, original: GGUFFile, arch: String) throws {
        let q = "blk.0.attn_q.weight"
        switch v.name {
        case "missing-block-count":
            XCTAssertThrowsError(try f.int("\(arch).block_count")) {
                XCTAssertEqual($0 as? GGUFError, .missingKey("\(arch).block_count"))
            }
        case "block-count-as-float":
            XCTAssertThrowsError(try f.int("\(arch).block_count")) {
                XCTAssertEqual($0 as? GGUFError, .wrongType(key: "\(arch).block_count", expected: "integer", actual: "f32"))
            }
        case "missing-tokens":
            XCTAssertNil(try f.optionalStringArray("tokenizer.ggml.tokens"))
        case "missing-architecture":
            XCTAssertNil(try f.optionalString("general.architecture"))
        case "embedding-length-as-string":
            let n = try original.int("\(arch).embedding_length")
            XCTAssertEqual(f.metadata["\(arch).embedding_length"], .string(String(n)))
            XCTAssertThrowsError(try f.int("\(arch).embedding_length"))
        case "attn-q-shape-mismatch":
            let dims = try XCTUnwrap(original.tensor(named: q)?.dims)
            XCTAssertEqual(f.tensor(named: q)?.dims, [dims[0], dims[1] - 1])
            if arch == "llama" { XCTAssertEqual(f.tensor(named: q)?.dims, [576, 575]) }
        case "missing-tensor-blk-0-attn_q-weight":
            XCTAssertNil(f.tensor(named: q))
            XCTAssertEqual(f.tensors.count, original.tensors.count - 1)
        case "missing-tensor-output_norm-weight":
            XCTAssertNil(f.tensor(named: "output_norm.weight"))
        case "no-tensors":
            XCTAssertTrue(f.tensors.isEmpty)
        default:
            XCTFail("no check for model-level variant \(v.name)")
        }
        XCTAssertEqual(f.metadataKeys.count, f.metadata.count, v.name)
    }

    /// A variant whose header changed size, written with the real tensor data: its tensors still point at the
    /// same bytes as in the original file.
    func testCopiedVariantKeepsTensorData() throws {
        let model = try requireModel(TestPaths.smollmFile)
        let original = try GGUFFile(path: model)
        let v = try XCTUnwrap(malformedVariants(of: model).first { $0.name == "missing-block-count" })
        let path = try v.write(into: scratch, tensorData: .copied)
        let f = try GGUFFile(path: path)
        XCTAssertNotEqual(f.dataOffset, original.dataOffset)  // the header shrank and was realigned
        XCTAssertEqual(f.tensors, original.tensors)
        for name in ["token_embd.weight", "blk.29.ffn_down.weight", "output_norm.weight"] {
            let a = try XCTUnwrap(original.tensor(named: name)), b = try XCTUnwrap(f.tensor(named: name))
            XCTAssertEqual(Array(original.bytes(of: a).prefix(4096)), Array(f.bytes(of: b).prefix(4096)), name)
            XCTAssertEqual(Array(original.bytes(of: a).suffix(256)), Array(f.bytes(of: b).suffix(256)), name)
        }
    }

    /// The same corpus builds from the gemma3 file (whose layout differs: first tensor 1-D, no bool-free keys).
    func testGemmaCorpusBuilds() throws {
        let variants = try malformedVariants(of: try requireModel(TestPaths.gemmaFile))
        XCTAssertGreaterThanOrEqual(variants.filter(\.rejectedByGGUF).count, 45)
        let names = Set(variants.map(\.name))
        for name in ["missing-block-count", "missing-tokens", "attn-q-shape-mismatch", "embedding-length-as-string"] {
            XCTAssertTrue(names.contains(name), name)
        }
    }
}
