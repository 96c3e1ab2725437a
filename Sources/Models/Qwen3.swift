import GGUF

/// The qwen3 architecture (Qwen3 dense): LlamaFamilyModel with NEOX RoPE over the whole head, no biases, and Q and K
/// RMS-normalised per head (`attn_q_norm` / `attn_k_norm`, [head size]) before RoPE. The head size is
/// `qwen3.attention.key_length` (128 in Qwen3-0.6B, where embedding_length / head_count is 64).
enum Qwen3 {
    static func load(_ file: GGUFFile) throws(ModelError) -> LlamaFamilyModel {
        let hp = Hyperparameters(file: file)
        let nEmbd = try hp.int("qwen3.embedding_length", in: 1...65_536)
        let nHead = try hp.int("qwen3.attention.head_count", in: 1...1_024)
        let keyLength = try hp.optionalInt("qwen3.attention.key_length", in: 2...4_096)
        try hp.require(keyLength != nil || nEmbd % nHead == 0, "qwen3.attention.head_count", nHead,
                       "must divide embedding_length \(nEmbd)")
        let headDim = keyLength ?? nEmbd / nHead
        _ = try hp.int("qwen3.attention.value_length", in: headDim...headDim, default: headDim)
        let shape = LlamaFamilyModel.Shape(
            embedding: nEmbd,
            layers: try hp.int("qwen3.block_count", in: 1...1_024),
            heads: nHead,
            kvHeads: try hp.int("qwen3.attention.head_count_kv", in: 1...nHead, default: nHead),
            headDim: headDim,
            feedForward: try hp.int("qwen3.feed_forward_length", in: 1...1_048_576),
            context: try hp.int("qwen3.context_length", in: 1...16_777_216))
        let rope = LlamaFamilyModel.Rope(
            dims: try hp.int("qwen3.rope.dimension_count", in: headDim...headDim, default: headDim),
            base: try hp.float("qwen3.rope.freq_base", in: 1...1e12, default: 10_000),
            neox: true)
        return try LlamaFamilyModel(
            file: file, architecture: "qwen3", shape: shape,
            normEps: try hp.float("qwen3.attention.layer_norm_rms_epsilon", in: 1e-12...1), rope: rope
        ) { w, l, s throws(ModelError) in
            try .separate(w, l, s) { () throws(ModelError) in
                .init(qNorm: try w.vector(TensorName.attnQNorm(l), length: s.headDim),
                      kNorm: try w.vector(TensorName.attnKNorm(l), length: s.headDim))
            }
        }
    }
}
