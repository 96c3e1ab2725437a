import GGUF

/// The qwen2 architecture (Qwen2.5): LlamaFamilyModel with NEOX RoPE over the whole head and Q/K/V biases, which every
/// qwen2 file carries (a file without them is rejected, naming the missing tensor); output tied unless
/// `output.weight` exists.
enum Qwen2 {
    static func load(_ file: GGUFFile) throws(ModelError) -> LlamaFamilyModel {
        let hp = Hyperparameters(file: file)
        let nEmbd = try hp.int("qwen2.embedding_length", in: 1...65_536)
        let nHead = try hp.int("qwen2.attention.head_count", in: 1...1_024)
        try hp.require(nEmbd % nHead == 0, "qwen2.attention.head_count", nHead, "must divide embedding_length \(nEmbd)")
        let shape = LlamaFamilyModel.Shape(
            embedding: nEmbd,
            layers: try hp.int("qwen2.block_count", in: 1...1_024),
            heads: nHead,
            kvHeads: try hp.int("qwen2.attention.head_count_kv", in: 1...nHead, default: nHead),
            headDim: nEmbd / nHead,
            feedForward: try hp.int("qwen2.feed_forward_length", in: 1...1_048_576),
            context: try hp.int("qwen2.context_length", in: 1...16_777_216))
        let rope = LlamaFamilyModel.Rope(
            dims: try hp.int("qwen2.rope.dimension_count", in: shape.headDim...shape.headDim, default: shape.headDim),
            base: try hp.float("qwen2.rope.freq_base", in: 1...1e12, default: 10_000),
            neox: true)
        return try LlamaFamilyModel(
            file: file, architecture: "qwen2", shape: shape,
            normEps: try hp.float("qwen2.attention.layer_norm_rms_epsilon", in: 1e-12...1), rope: rope
        ) { w, l, s throws(ModelError) in
            let qDim = s.heads * s.headDim, kvDim = s.kvHeads * s.headDim
            return try .separate(w, l, s) { () throws(ModelError) in
                .init(bq: try w.vector(TensorName.attnQBias(l), length: qDim),
                      bk: try w.vector(TensorName.attnKBias(l), length: kvDim),
                      bv: try w.vector(TensorName.attnVBias(l), length: kvDim))
            }
        }
    }
}
