import GGUF

/// The gemma3 architecture (Gemma-3-270M), per llama.cpp's src/models/gemma3.cpp: GemmaFamilyModel with per-head Q/K
/// norms; sliding-window attention (`gemma3.attention.sliding_window`) on local layers, full attention where
/// il % pattern == pattern - 1 (pattern `gemma3.attention.sliding_window_pattern`, default 6); local layers use rope
/// base `gemma3.rope.freq_base_swa` (default 10,000), global layers `gemma3.rope.freq_base`; queries scaled by
/// 1/sqrt(key_length); tied output unless `output.weight` exists; optional final logit soft-capping.
enum Gemma3 {
    static func load(_ file: GGUFFile) throws(ModelError) -> GemmaFamilyModel {
        let hp = Hyperparameters(file: file)
        let nEmbd = try hp.int("gemma3.embedding_length", in: 1...65_536)
        let nHead = try hp.int("gemma3.attention.head_count", in: 1...1_024)
        let headDim = try hp.int("gemma3.attention.key_length", in: 2...4_096, default: nEmbd / nHead)
        _ = try hp.int("gemma3.attention.value_length", in: headDim...headDim, default: headDim)
        let shape = GemmaFamilyModel.Shape(
            embedding: nEmbd,
            layers: try hp.int("gemma3.block_count", in: 1...1_024),
            heads: nHead,
            kvHeads: try hp.int("gemma3.attention.head_count_kv", in: 1...nHead, default: nHead),
            headDim: headDim,
            feedForward: try hp.int("gemma3.feed_forward_length", in: 1...1_048_576),
            context: try hp.int("gemma3.context_length", in: 1...16_777_216))
        let ropeBaseGlobal = try hp.float("gemma3.rope.freq_base", in: 1...1e12, default: 1_000_000)
        let ropeBaseLocal = try hp.float("gemma3.rope.freq_base_swa", in: 1...1e12, default: 10_000)
        let window = try hp.int("gemma3.attention.sliding_window", in: 0...16_777_216, default: 0)
        let pattern = try hp.int("gemma3.attention.sliding_window_pattern", in: 1...1_024, default: 6)
        return try GemmaFamilyModel(
            file: file, architecture: "gemma3", shape: shape,
            normEps: try hp.float("gemma3.attention.layer_norm_rms_epsilon", in: 1e-12...1),
            attentionScale: 1 / Float(headDim).squareRoot(), attentionSoftcap: 0,
            finalSoftcap: try hp.float("gemma3.final_logit_softcapping", in: 0...1e6, default: 0), tiedOutput: false
        ) { w, l, s throws(ModelError) in
            let local = window > 0 && l % pattern < pattern - 1
            return try GemmaLayers.layer(w, l, s, qkNorm: true, window: local ? window : 0,
                                         ropeBase: local ? ropeBaseLocal : ropeBaseGlobal)
        }
    }
}

/// The tensors of one Gemma layer, with or without per-head Q/K norms.
enum GemmaLayers {
    static func layer(_ w: WeightLoader, _ l: Int, _ s: GemmaFamilyModel.Shape, qkNorm: Bool, window: Int,
                      ropeBase: Float) throws(ModelError) -> GemmaFamilyModel.Layer {
        let E = s.embedding, qDim = s.heads * s.headDim, kvDim = s.kvHeads * s.headDim
        return GemmaFamilyModel.Layer(
            attnNorm: try w.vector(TensorName.attnNorm(l), length: E),
            postAttnNorm: try w.vector(TensorName.postAttentionNorm(l), length: E),
            ffnNorm: try w.vector(TensorName.ffnNorm(l), length: E),
            postFFNNorm: try w.vector(TensorName.postFFNNorm(l), length: E),
            qNorm: qkNorm ? try w.vector(TensorName.attnQNorm(l), length: s.headDim) : nil,
            kNorm: qkNorm ? try w.vector(TensorName.attnKNorm(l), length: s.headDim) : nil,
            wq: try w.matrix(TensorName.attnQ(l), rowLength: E, rows: qDim),
            wk: try w.matrix(TensorName.attnK(l), rowLength: E, rows: kvDim),
            wv: try w.matrix(TensorName.attnV(l), rowLength: E, rows: kvDim),
            wo: try w.matrix(TensorName.attnOutput(l), rowLength: qDim, rows: E),
            gate: try w.matrix(TensorName.ffnGate(l), rowLength: E, rows: s.feedForward),
            up: try w.matrix(TensorName.ffnUp(l), rowLength: E, rows: s.feedForward),
            down: try w.matrix(TensorName.ffnDown(l), rowLength: s.feedForward, rows: E),
            window: window, ropeBase: ropeBase)
    }
}
