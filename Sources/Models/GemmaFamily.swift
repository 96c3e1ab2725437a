import CKernels
import Foundation
import GGUF

/// The Gemma decoder that gemma2 and gemma3 share, per llama.cpp's src/models/gemma2.cpp and gemma3.cpp:
/// - embeddings scaled by sqrt(n_embd); RMSNorm weights used as stored (the converter already added Gemma's +1);
/// - Q and K RMS-normalised per head (attn_q_norm / attn_k_norm, gemma3 only) before RoPE with NEOX pairing;
/// - attention scores q.k * attentionScale, soft-capped as cap * tanh(s / cap) when attentionSoftcap > 0 (gemma2);
/// - post-attention and post-FFN norms before each residual add; GeGLU feed-forward (gelu tanh approximation);
/// - sliding-window attention on the local layers, each layer with its own RoPE base;
/// - final logit soft-capping when finalSoftcap > 0.
/// Each architecture's file reads its keys and builds the layers. Immutable after init; its pointers address the
/// read-only file mapping, which lives as long as `file`, hence @unchecked Sendable.
public final class GemmaFamilyModel: LanguageModel, @unchecked Sendable {
    public let config: ModelConfig
    let file: GGUFFile
    let packed: PackedArena  // owns the packed copies of the matrices
    let normEps: Float
    let attentionScale: Float
    let attentionSoftcap: Float
    let embeddingScale: Float
    let softcap: Float
    let tokenEmbedding: Weight
    let output: Weight
    /// The table embedding lookups read (`Weight.rowSource`).
    let embeddingRows: Weight
    let outputNorm: UnsafePointer<Float>
    let layers: ContiguousArray<Layer>

    struct Layer {
        let attnNorm, postAttnNorm, ffnNorm, postFFNNorm: UnsafePointer<Float>
        let qNorm, kNorm: UnsafePointer<Float>?
        let wq, wk, wv, wo, gate, up, down: Weight
        let window: Int        // 0: global layer
        let ropeBase: Float
    }

    struct Shape {
        var embedding, layers, heads, kvHeads, headDim, feedForward, context: Int
    }

    /// `layer(loader, l, shape)` builds layer l; `tiedOutput`: the output matrix is token_embd even when the file has
    /// an `output.weight` (gemma2, as llama.cpp reads it).
    init(file: GGUFFile, architecture arch: String, shape s: Shape, normEps: Float, attentionScale: Float,
         attentionSoftcap: Float, finalSoftcap: Float, tiedOutput: Bool,
         layer: (WeightLoader, Int, Shape) throws(ModelError) -> Layer) throws(ModelError) {
        self.file = file
        let hp = Hyperparameters(file: file)
        try hp.require(s.headDim % 2 == 0 && s.heads % s.kvHeads == 0, "\(arch).attention.key_length", s.headDim,
                       "must be even, with head_count_kv dividing head_count")
        self.normEps = normEps
        self.attentionScale = attentionScale
        self.attentionSoftcap = attentionSoftcap
        softcap = finalSoftcap
        embeddingScale = Float(s.embedding).squareRoot()
        let w = WeightLoader(file: file)
        packed = w.arena
        defer { w.arena.finishLoading() }
        let nVocab = try w.vocabularySize()
        tokenEmbedding = try w.table(TensorName.tokenEmbedding, rowLength: s.embedding, rows: nVocab)
        output = tiedOutput ? w.tiedOutput(tokenEmbedding) : try w.output(tiedTo: tokenEmbedding, rowLength: s.embedding, rows: nVocab)
        embeddingRows = tokenEmbedding.rowSource(tiedOutput: output)
        outputNorm = try w.vector(TensorName.outputNorm, length: s.embedding)
        var layers = ContiguousArray<Layer>()
        for l in 0..<s.layers { layers.append(try layer(w, l, s)) }
        self.layers = layers
        config = ModelConfig(
            architecture: arch, vocabularySize: nVocab, embeddingLength: s.embedding, layerCount: s.layers,
            headCount: s.heads, headCountKV: s.kvHeads, headDim: s.headDim, feedForwardLength: s.feedForward,
            trainedContextLength: s.context, slidingWindow: layers.map(\.window))
    }

    public func makeRunner(threads: Int, maxBatch: Int) throws(ModelError) -> any ModelRunner {
        try GemmaFamilyRunner(model: self, threads: threads, maxBatch: maxBatch)
    }

    var allWeights: [Weight] {
        [tokenEmbedding, output] + layers.flatMap { [$0.wq, $0.wk, $0.wv, $0.wo, $0.gate, $0.up, $0.down] }
    }
}

/// Runs a GemmaFamilyModel; buffers shaped as in LlamaFamilyRunner, with q [B, H*Dk]. Trace names are llama.cpp's.
final class GemmaFamilyRunner: RunnerBase, ModelRunner {
    let model: GemmaFamilyModel
    /// One table per distinct rope base (local and global layers), and which one each layer uses.
    private let ropes: [RopeTable]
    private let ropeOfLayer: [Int]

    init(model: GemmaFamilyModel, threads: Int, maxBatch: Int) throws(ModelError) {
        self.model = model
        var ropes: [RopeTable] = []
        ropeOfLayer = model.layers.map { layer in
            if let i = ropes.firstIndex(where: { $0.base == layer.ropeBase }) { return i }
            ropes.append(RopeTable(nRot: model.config.headDim, base: layer.ropeBase, maxBatch: max(1, maxBatch)))
            return ropes.count - 1
        }
        self.ropes = ropes
        try super.init(config: model.config, threads: threads, maxBatch: maxBatch, weights: model.allWeights)
    }

    override func step(rows n: Int, logits: UnsafeMutablePointer<Float>) {
        let m = model, c = m.config
        let E = c.embeddingLength, D = c.headDim, QD = c.headCount * D, KV = c.kvDim, F = c.feedForwardLength
        let a = buffers
        let x = a.x.pointer, h = a.h.pointer, q = a.q.pointer, k = a.k.pointer, v = a.v.pointer
        let att = a.att.pointer, gate = a.gate.pointer, up = a.up.pointer, out = a.out.pointer
        let emb = m.embeddingRows
        for t in 0..<n { slm_get_row(emb.mmType, emb.mmData, Int64(E), Int64(rowTokens[t]), x + t * E) }
        slm_scale(x, m.embeddingScale, Int64(n * E))
        traced(-1, "inp_scaled", x, n * E)
        for r in ropes { r.fill(positions: rowPositions, count: n) }

        for l in 0..<c.layerCount {
            let L = m.layers[l], rope = ropes[ropeOfLayer[l]]
            for t in 0..<n { slm_rmsnorm(x + t * E, L.attnNorm, h + t * E, Int64(E), m.normEps) }
            traced(l, "attn_norm", h, n * E)
            mm3(h, n, L.wq, q, L.wk, k, L.wv, v)
            for t in 0..<n {
                if let qn = L.qNorm, let kn = L.kNorm {
                    for hd in 0..<c.headCount { let p = q + t * QD + hd * D; slm_rmsnorm(p, qn, p, Int64(D), m.normEps) }
                    for hd in 0..<c.headCountKV { let p = k + t * KV + hd * D; slm_rmsnorm(p, kn, p, Int64(D), m.normEps) }
                }
                rope.apply(q + t * QD, heads: c.headCount, headDim: D, row: t, neox: true)
                rope.apply(k + t * KV, heads: c.headCountKV, headDim: D, row: t, neox: true)
            }
            storeKV(layer: l, k: k, v: v)
            traced(l, "Qcur", q, n * QD); traced(l, "Kcur", k, n * KV); traced(l, "Vcur", v, n * KV)
            attention(layer: l, q: q, window: L.window, scale: m.attentionScale, softcap: m.attentionSoftcap, out: att)
            traced(l, "kqv_out", att, n * QD)
            mm(L.wo, att, n, out)
            for t in 0..<n { slm_rmsnorm(out + t * E, L.postAttnNorm, out + t * E, Int64(E), m.normEps) }
            traced(l, "attn_post_norm", out, n * E)
            slm_add(x, out, Int64(n * E))
            traced(l, "sa_out", x, n * E)
            for t in 0..<n { slm_rmsnorm(x + t * E, L.ffnNorm, h + t * E, Int64(E), m.normEps) }
            traced(l, "ffn_norm", h, n * E)
            mm3(h, n, L.gate, gate, L.up, up)
            slm_geglu(gate, up, gate, Int64(n * F))
            mm(L.down, gate, n, out)
            traced(l, "ffn_out", out, n * E)
            for t in 0..<n { slm_rmsnorm(out + t * E, L.postFFNNorm, out + t * E, Int64(E), m.normEps) }
            traced(l, "ffn_post_norm", out, n * E)
            slm_add(x, out, Int64(n * E))
            traced(l, "l_out", x, n * E)
        }
        let rows = outputLogits(x: x, norm: m.outputNorm, eps: m.normEps, output: m.output, h: h, logits: logits)
        if m.softcap > 0 {
            let total = rows * c.vocabularySize
            for i in 0..<total { logits[i] = m.softcap * tanhf(logits[i] / m.softcap) }
        }
        traced(-1, "result_output", logits, rows * c.vocabularySize)
    }
}
