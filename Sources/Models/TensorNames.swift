/// GGUF tensor names, spelled as on disk, in one place.
enum TensorName {
    static let tokenEmbedding = "token_embd.weight"
    static let outputNorm = "output_norm.weight"
    static let output = "output.weight"
    static let ropeFreqs = "rope_freqs.weight"
    static let ropeFactorsShort = "rope_factors_short.weight"
    static let ropeFactorsLong = "rope_factors_long.weight"

    static func attnNorm(_ l: Int) -> String { "blk.\(l).attn_norm.weight" }
    static func attnQ(_ l: Int) -> String { "blk.\(l).attn_q.weight" }
    static func attnK(_ l: Int) -> String { "blk.\(l).attn_k.weight" }
    static func attnV(_ l: Int) -> String { "blk.\(l).attn_v.weight" }
    static func attnOutput(_ l: Int) -> String { "blk.\(l).attn_output.weight" }
    static func attnQBias(_ l: Int) -> String { "blk.\(l).attn_q.bias" }
    static func attnKBias(_ l: Int) -> String { "blk.\(l).attn_k.bias" }
    static func attnVBias(_ l: Int) -> String { "blk.\(l).attn_v.bias" }
    static func attnQKV(_ l: Int) -> String { "blk.\(l).attn_qkv.weight" }
    static func attnQNorm(_ l: Int) -> String { "blk.\(l).attn_q_norm.weight" }
    static func attnKNorm(_ l: Int) -> String { "blk.\(l).attn_k_norm.weight" }
    static func postAttentionNorm(_ l: Int) -> String { "blk.\(l).post_attention_norm.weight" }
    static func ffnNorm(_ l: Int) -> String { "blk.\(l).ffn_norm.weight" }
    static func ffnGate(_ l: Int) -> String { "blk.\(l).ffn_gate.weight" }
    static func ffnUp(_ l: Int) -> String { "blk.\(l).ffn_up.weight" }
    static func ffnDown(_ l: Int) -> String { "blk.\(l).ffn_down.weight" }
    static func postFFNNorm(_ l: Int) -> String { "blk.\(l).post_ffw_norm.weight" }
}
