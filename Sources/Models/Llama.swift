import GGUF

/// The llama architecture (SmolLM2, Llama 3.x): LlamaFamilyModel with RoPE on adjacent pairs (llama.cpp's converter
/// permutes Q/K rows so that pairing holds), optional Q/K/V biases, Llama 3's RoPE frequency factors
/// (`rope_freqs.weight`, [rope dims / 2]) or linear scaling (`llama.rope.scaling.type` "linear" with
/// `llama.rope.scaling.factor`), and an untied `output.weight` when the file has one.
enum Llama {
    static func load(_ file: GGUFFile) throws(ModelError) -> LlamaFamilyModel {
        let hp = Hyperparameters(file: file)
        let nEmbd = try hp.int("llama.embedding_length", in: 1...65_536)
        let nHead = try hp.int("llama.attention.head_count", in: 1...1_024)
        let keyLength = try hp.optionalInt("llama.attention.key_length", in: 2...4_096)
        try hp.require(keyLength != nil || nEmbd % nHead == 0, "llama.attention.head_count", nHead,
                       "must divide embedding_length \(nEmbd)")
        let shape = LlamaFamilyModel.Shape(
            embedding: nEmbd,
            layers: try hp.int("llama.block_count", in: 1...1_024),
            heads: nHead,
            kvHeads: try hp.int("llama.attention.head_count_kv", in: 1...nHead, default: nHead),
            headDim: keyLength ?? nEmbd / nHead,
            feedForward: try hp.int("llama.feed_forward_length", in: 1...1_048_576),
            context: try hp.int("llama.context_length", in: 1...16_777_216))
        var rope = LlamaFamilyModel.Rope(
            dims: try hp.int("llama.rope.dimension_count", in: 2...shape.headDim, default: shape.headDim),
            base: try hp.float("llama.rope.freq_base", in: 1...1e12, default: 10_000),
            neox: false)
        switch try hp.optionalString("llama.rope.scaling.type") ?? "none" {
        case "none": break
        case "linear":
            rope.freqScale = 1 / (try hp.float("llama.rope.scaling.factor", in: 1...1_024, default: 1))
        case let other:
            throw .invalidHyperparameter(key: "llama.rope.scaling.type", value: other, reason: "slm runs none or linear")
        }
        return try LlamaFamilyModel(
            file: file, architecture: "llama", shape: shape,
            normEps: try hp.float("llama.attention.layer_norm_rms_epsilon", in: 1e-12...1, default: 1e-5), rope: rope,
            ropeFactors: TensorName.ropeFreqs,
            vocabulary: try hp.optionalInt("llama.vocab_size", in: 1...4_194_304)) { w, l, s throws(ModelError) in
            let qDim = s.heads * s.headDim, kvDim = s.kvHeads * s.headDim
            let bq = try w.optionalVector(TensorName.attnQBias(l), length: qDim)
            let bk = try w.optionalVector(TensorName.attnKBias(l), length: kvDim)
            let bv = try w.optionalVector(TensorName.attnVBias(l), length: kvDim)
            if bq != nil || bk != nil || bv != nil {  // all three or none
                for (b, name) in [(bq, TensorName.attnQBias(l)), (bk, TensorName.attnKBias(l)), (bv, TensorName.attnVBias(l))]
                where b == nil { throw .missingTensor(name) }
            }
            return try .separate(w, l, s) { .init(bq: bq, bk: bk, bv: bv) }
        }
    }
}
