import GGUF

/// The phi3 architecture (Phi-3.5-mini), per llama.cpp's src/models/phi3.cpp: LlamaFamilyModel with NEOX RoPE, a
/// fused QKV matrix (`attn_qkv`, rows Q then K then V; separate attn_q/k/v accepted too) and a fused gate/up matrix
/// (`ffn_up`, [embedding, 2 * feed_forward]: gate rows first, then up), split into row ranges at load.
/// LongRoPE: with `rope_factors_short.weight` (frequency factors for contexts up to
/// `phi3.rope.scaling.original_context_length`) the model's context is capped at that original length, where those
/// factors are the ones llama.cpp uses too (the long factors serve longer contexts, which slm does not run); cos/sin
/// scale by `phi3.rope.scaling.attn_factor`. `phi3.attention.sliding_window` is ignored, as llama.cpp ignores it.
enum Phi3 {
    static func load(_ file: GGUFFile) throws(ModelError) -> LlamaFamilyModel {
        let hp = Hyperparameters(file: file)
        let nEmbd = try hp.int("phi3.embedding_length", in: 1...65_536)
        let nHead = try hp.int("phi3.attention.head_count", in: 1...1_024)
        try hp.require(nEmbd % nHead == 0, "phi3.attention.head_count", nHead, "must divide embedding_length \(nEmbd)")
        let headDim = nEmbd / nHead
        var context = try hp.int("phi3.context_length", in: 1...16_777_216)
        if file.tensor(named: TensorName.ropeFactorsShort) != nil {
            context = min(context, try hp.int("phi3.rope.scaling.original_context_length", in: 1...context,
                                              default: context))
        }
        let shape = LlamaFamilyModel.Shape(
            embedding: nEmbd,
            layers: try hp.int("phi3.block_count", in: 1...1_024),
            heads: nHead,
            kvHeads: try hp.int("phi3.attention.head_count_kv", in: 1...nHead, default: nHead),
            headDim: headDim,
            feedForward: try hp.int("phi3.feed_forward_length", in: 1...1_048_576),
            context: context)
        let rope = LlamaFamilyModel.Rope(
            dims: try hp.int("phi3.rope.dimension_count", in: 2...headDim, default: headDim),
            base: try hp.float("phi3.rope.freq_base", in: 1...1e12, default: 10_000),
            neox: true,
            attnFactor: try hp.float("phi3.rope.scaling.attn_factor", in: 0.01...100, default: 1))
        return try LlamaFamilyModel(
            file: file, architecture: "phi3", shape: shape,
            normEps: try hp.float("phi3.attention.layer_norm_rms_epsilon", in: 1e-12...1), rope: rope,
            ropeFactors: TensorName.ropeFactorsShort
        ) { w, l, s throws(ModelError) in
            let E = s.embedding, qDim = s.heads * s.headDim, kvDim = s.kvHeads * s.headDim, F = s.feedForward
            let wq, wk, wv: Weight
            if w.file.tensor(named: TensorName.attnQKV(l)) != nil {
                let name = TensorName.attnQKV(l), rows = qDim + 2 * kvDim
                wq = try w.matrix(name, rowLength: E, rows: rows, slice: 0..<qDim)
                wk = try w.matrix(name, rowLength: E, rows: rows, slice: qDim..<(qDim + kvDim))
                wv = try w.matrix(name, rowLength: E, rows: rows, slice: (qDim + kvDim)..<rows)
            } else {
                wq = try w.matrix(TensorName.attnQ(l), rowLength: E, rows: qDim)
                wk = try w.matrix(TensorName.attnK(l), rowLength: E, rows: kvDim)
                wv = try w.matrix(TensorName.attnV(l), rowLength: E, rows: kvDim)
            }
            return .init(
                attnNorm: try w.vector(TensorName.attnNorm(l), length: E),
                wq: wq, wk: wk, wv: wv,
                wo: try w.matrix(TensorName.attnOutput(l), rowLength: qDim, rows: E),
                bq: nil, bk: nil, bv: nil, qNorm: nil, kNorm: nil,
                ffnNorm: try w.vector(TensorName.ffnNorm(l), length: E),
                gate: try w.matrix(TensorName.ffnUp(l), rowLength: E, rows: 2 * F, slice: 0..<F),
                up: try w.matrix(TensorName.ffnUp(l), rowLength: E, rows: 2 * F, slice: F..<(2 * F)),
                down: try w.matrix(TensorName.ffnDown(l), rowLength: F, rows: E))
        }
    }
}
