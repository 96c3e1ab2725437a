import Foundation
import GGUF
import SLMModels
import TestSupport
import XCTest

/// Loading each architecture from a tiny synthetic file (embedding 64, 2 heads of 32, 1 kv head, feed-forward 128,
/// 2 layers, 8 tokens): the complete file loads, and a file missing a required tensor, with a tensor of the wrong
/// shape or with an out-of-range hyperparameter is rejected with the ModelError that names it.
final class ArchitectureLoadTests: XCTestCase {
    static let E = 64, D = 32, H = 2, HKV = 1, F = 128, L = 2, V = 8

    /// A complete file of `arch`; `edit` may change tensors (name -> dims, or nil to drop) and keys before writing.
    func file(_ arch: String, tensors edit: [String: [Int]?] = [:], keys: [String: GGUFValue] = [:]) throws -> GGUFFile {
        let E = Self.E, D = Self.D, H = Self.H, HKV = Self.HKV, F = Self.F
        var meta: [(String, GGUFValue)] = [
            ("general.architecture", .string(arch)),
            ("\(arch).context_length", .uint32(256)), ("\(arch).embedding_length", .uint32(UInt32(E))),
            ("\(arch).block_count", .uint32(UInt32(Self.L))), ("\(arch).feed_forward_length", .uint32(UInt32(F))),
            ("\(arch).attention.head_count", .uint32(UInt32(H))), ("\(arch).attention.head_count_kv", .uint32(UInt32(HKV))),
            ("\(arch).attention.layer_norm_rms_epsilon", .float32(1e-5)), ("\(arch).rope.freq_base", .float32(10_000)),
        ]
        if arch == "gemma2" { meta.append(("gemma2.attention.sliding_window", .uint32(16))) }
        for (k, v) in keys {
            if let i = meta.firstIndex(where: { $0.0 == k }) { meta[i].1 = v } else { meta.append((k, v)) }
        }
        var list: [(String, [Int])] = [("token_embd.weight", [E, Self.V]), ("output_norm.weight", [E])]
        if arch == "llama" { list += [("rope_freqs.weight", [D / 2]), ("output.weight", [E, Self.V])] }
        if arch == "phi3" { list += [("rope_factors_short.weight", [D / 2]), ("rope_factors_long.weight", [D / 2])] }
        for l in 0..<Self.L {
            let p = "blk.\(l)."
            list.append((p + "attn_norm.weight", [E]))
            if arch == "phi3" {
                list.append((p + "attn_qkv.weight", [E, H * D + 2 * HKV * D]))
            } else {
                list += [(p + "attn_q.weight", [E, H * D]), (p + "attn_k.weight", [E, HKV * D]), (p + "attn_v.weight", [E, HKV * D])]
            }
            if arch == "qwen2" {
                list += [(p + "attn_q.bias", [H * D]), (p + "attn_k.bias", [HKV * D]), (p + "attn_v.bias", [HKV * D])]
            }
            if arch == "qwen3" { list += [(p + "attn_q_norm.weight", [D]), (p + "attn_k_norm.weight", [D])] }
            list.append((p + "attn_output.weight", [H * D, E]))
            if arch == "gemma2" { list.append((p + "post_attention_norm.weight", [E])) }
            list.append((p + "ffn_norm.weight", [E]))
            if arch == "phi3" {
                list.append((p + "ffn_up.weight", [E, 2 * F]))
            } else {
                list += [(p + "ffn_gate.weight", [E, F]), (p + "ffn_up.weight", [E, F])]
            }
            list.append((p + "ffn_down.weight", [F, E]))
            if arch == "gemma2" { list.append((p + "post_ffw_norm.weight", [E])) }
        }
        for (name, dims) in edit.sorted(by: { $0.key < $1.key }) where !list.contains(where: { $0.0 == name }) {
            if let dims { list.append((name, dims)) }
        }
        var w = GGUFWriter()
        for (k, v) in meta { w.add(k, v) }
        for (name, dims) in list {
            let d: [Int]
            if let e = edit[name] {
                guard let e else { continue }
                d = e
            } else {
                d = dims
            }
            // Vectors F32 (norms of 1, biases and factors of 1); matrices Q8_0 with filler bytes.
            if d.count == 1 {
                w.addTensor(name, dims: d, type: .f32, data: [Float](repeating: 1, count: d[0]).withUnsafeBytes { Array($0) })
            } else {
                w.addTensor(name, dims: d, type: .q8_0)
            }
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("slm-arch-\(UUID().uuidString).gguf")
        try Data(w.bytes()).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return try GGUFFile(path: url.path)
    }

    func rejected(_ f: GGUFFile, _ expected: ModelError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ModelRegistry.load(f), file: file, line: line) { error in
            XCTAssertEqual(error as? ModelError, expected, file: file, line: line)
        }
    }

    func testCompleteFilesLoad() throws {
        for arch in TestPaths.testArchitectures {
            let model = try ModelRegistry.load(try file(arch))
            XCTAssertEqual(model.config.architecture, arch)
            XCTAssertEqual(model.config.layerCount, Self.L)
            XCTAssertEqual(model.config.headDim, Self.D)
            XCTAssertTrue(ModelRegistry.architectures.contains(arch))
        }
        // gemma2's even layers slide (pattern 2); phi3's context is capped at the original one its short factors serve.
        XCTAssertEqual(try ModelRegistry.load(try file("gemma2")).config.slidingWindow, [16, 0])
        let phi3 = try file("phi3", keys: ["phi3.rope.scaling.original_context_length": .uint32(128)])
        XCTAssertEqual(try ModelRegistry.load(phi3).config.trainedContextLength, 128)
    }

    func testQwen2RequiresItsBiases() throws {
        rejected(try file("qwen2", tensors: ["blk.1.attn_k.bias": nil]), .missingTensor("blk.1.attn_k.bias"))
        rejected(try file("qwen2", tensors: ["blk.0.attn_v.bias": [Self.HKV * Self.D + 1]]),
                 .tensorShape(name: "blk.0.attn_v.bias", expected: [Self.HKV * Self.D], actual: [Self.HKV * Self.D + 1]))
    }

    func testQwen3RequiresHeadSizedQKNorms() throws {
        rejected(try file("qwen3", tensors: ["blk.0.attn_q_norm.weight": [Self.E]]),
                 .tensorShape(name: "blk.0.attn_q_norm.weight", expected: [Self.D], actual: [Self.E]))
        rejected(try file("qwen3", tensors: ["blk.1.attn_k_norm.weight": nil]), .missingTensor("blk.1.attn_k_norm.weight"))
        // key_length sets the head size: 16 makes every Q row count wrong.
        rejected(try file("qwen3", keys: ["qwen3.attention.key_length": .uint32(16), "qwen3.attention.value_length": .uint32(16)]),
                 .tensorShape(name: "blk.0.attn_q.weight", expected: [Self.E, 32], actual: [Self.E, 64]))
    }

    func testLlamaRopeFactorsOutputAndBiases() throws {
        rejected(try file("llama", tensors: ["rope_freqs.weight": [Self.D]]),
                 .tensorShape(name: "rope_freqs.weight", expected: [Self.D / 2], actual: [Self.D]))
        rejected(try file("llama", tensors: ["output.weight": [Self.E, Self.V - 1]]),
                 .tensorShape(name: "output.weight", expected: [Self.E, Self.V], actual: [Self.E, Self.V - 1]))
        // Biases are optional in llama, but all three or none.
        let partial = try file("llama", tensors: ["blk.0.attn_q.bias": [Self.H * Self.D]])
        rejected(partial, .missingTensor("blk.0.attn_k.bias"))
        rejected(try file("llama", keys: ["llama.rope.scaling.type": .string("yarn")]),
                 .invalidHyperparameter(key: "llama.rope.scaling.type", value: "yarn", reason: "slm runs none or linear"))
    }

    func testPhi3FusedMatrixShapes() throws {
        let qkv = Self.H * Self.D + 2 * Self.HKV * Self.D
        rejected(try file("phi3", tensors: ["blk.0.attn_qkv.weight": [Self.E, qkv - 32]]),
                 .tensorShape(name: "blk.0.attn_qkv.weight", expected: [Self.E, qkv], actual: [Self.E, qkv - 32]))
        rejected(try file("phi3", tensors: ["blk.1.ffn_up.weight": [Self.E, Self.F]]),
                 .tensorShape(name: "blk.1.ffn_up.weight", expected: [Self.E, 2 * Self.F], actual: [Self.E, Self.F]))
        rejected(try file("phi3", tensors: ["blk.0.attn_qkv.weight": nil]), .missingTensor("blk.0.attn_q.weight"))
    }

    func testGemma2PostNormsAndSoftcaps() throws {
        rejected(try file("gemma2", tensors: ["blk.1.post_ffw_norm.weight": nil]), .missingTensor("blk.1.post_ffw_norm.weight"))
        rejected(try file("gemma2", keys: ["gemma2.attn_logit_softcapping": .float32(0)]),
                 .invalidHyperparameter(key: "gemma2.attn_logit_softcapping", value: "0.0", reason: "must be in 0.001...1000000.0"))
    }

    /// The hyperparameter reader names the literal key and the range.
    func testOutOfRangeHyperparametersNameTheirKey() throws {
        rejected(try file("qwen2", keys: ["qwen2.block_count": .uint32(0)]),
                 .invalidHyperparameter(key: "qwen2.block_count", value: "0", reason: "must be in 1...1024"))
        rejected(try file("qwen3", keys: ["qwen3.attention.head_count_kv": .uint32(3)]),
                 .invalidHyperparameter(key: "qwen3.attention.head_count_kv", value: "3", reason: "must be in 1...2"))
        rejected(try file("phi3", keys: ["phi3.attention.layer_norm_rms_epsilon": .float32(.nan)]),
                 .invalidHyperparameter(key: "phi3.attention.layer_norm_rms_epsilon", value: "nan", reason: "must be in 1e-12...1.0"))
    }
}
