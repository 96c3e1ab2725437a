import GGUF

/// The gemma2 architecture (Gemma-2-2B), per llama.cpp's src/models/gemma2.cpp: GemmaFamilyModel without Q/K norms,
/// with attention-score soft-capping (`gemma2.attn_logit_softcapping`, default 50) and final logit soft-capping
/// (`gemma2.final_logit_softcapping`, default 30), both always on as in llama.cpp; sliding window
/// `gemma2.attention.sliding_window` (default 4096) on the layers where il % pattern < pattern - 1 (pattern
/// `gemma2.attention.sliding_window_pattern`, default 2: the even layers); one RoPE base (`gemma2.rope.freq_base`, the
/// local layers `gemma2.rope.freq_base_swa` when set); queries scaled by 1/sqrt(key_length), 1/sqrt(n_embd / n_head)
/// in the 46-layer 27B; the output matrix is always token_embd.
enum Gemma2 {
    static func load(_ file: GGUFFile) throws(ModelError) -> GemmaFamilyModel {
        let hp = Hyperparameters(file: file)
        let nEmbd = try hp.int("gemma2.embedding_length", in: 1...65_536)
        let nHead = try hp.int("gemma2.attention.head_count", in: 1...1_024)
        let headDim = try hp.int("gemma2.attention.key_length", in: 2...4_096, default: nEmbd / nHead)
        _ = try hp.int("gemma2.attention.value_length", in: headDim...headDim, default: headDim)
        let nLayer = try hp.int("gemma2.block_count", in: 1...1_024)
        let shape = GemmaFamilyModel.Shape(
            embedding: nEmbd,
            layers: nLayer,
            heads: nHead,
            kvHeads: try hp.int("gemma2.attention.head_count_kv", in: 1...nHead, default: nHead),
            headDim: headDim,
            feedForward: try hp.int("gemma2.feed_forward_length", in: 1...1_048_576),
            context: try hp.int("gemma2.context_length", in: 1...16_777_216))
        let ropeBase = try hp.float("gemma2.rope.freq_base", in: 1...1e12, default: 10_000)
        let ropeBaseLocal = try hp.float("gemma2.rope.freq_base_swa", in: 1...1e12, default: ropeBase)
        let window = try hp.int("gemma2.attention.sliding_window", in: 0...16_777_216, default: 4_096)
        let pattern = try hp.int("gemma2.attention.sliding_window_pattern", in: 1...1_024, default: 2)
        let queryScale = nLayer == 46 ? Float(nEmbd / nHead) : Float(headDim)
        return try GemmaFamilyModel(
            file: file, architecture: "gemma2", shape: shape,
            normEps: try hp.float("gemma2.attention.layer_norm_rms_epsilon", in: 1e-12...1),
            attentionScale: 1 / queryScale.squareRoot(),
            attentionSoftcap: try hp.float("gemma2.attn_logit_softcapping", in: 0.001...1e6, default: 50),
            finalSoftcap: try hp.float("gemma2.final_logit_softcapping", in: 0.001...1e6, default: 30), tiedOutput: true
        ) { w, l, s throws(ModelError) in
            let local = window > 0 && l % pattern < pattern - 1
            return try GemmaLayers.layer(w, l, s, qkNorm: false, window: local ? window : 0,
                                         ropeBase: local ? ropeBaseLocal : ropeBase)
        }
    }
}
