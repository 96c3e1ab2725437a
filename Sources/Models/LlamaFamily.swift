import CKernels
import Foundation
import GGUF

/// The llama-shaped decoder that llama, qwen2, qwen3 and phi3 share: pre-norm blocks of grouped-query attention with
/// RoPE and a SwiGLU feed-forward, residual adds, a final RMSNorm and an output matrix (tied to token_embd when the file
/// has no `output.weight`). What differs between those architectures is data, set by each one's loader file:
/// RoPE pairing (llama: adjacent pairs, as llama.cpp's converter permutes Q/K; the others NEOX halves), optional Q/K/V
/// biases (qwen2), per-head RMSNorm of Q and K before RoPE (qwen3), RoPE frequency factors and scaling (llama 3's
/// rope_freqs, phi3's LongRoPE factors and attention factor). Fused tensors (phi3's attn_qkv and ffn_up) are split
/// into row ranges at load, so the runner sees separate matrices. Immutable after init; its pointers address the
/// read-only file mapping, which lives as long as `file`, hence @unchecked Sendable.
public final class LlamaFamilyModel: LanguageModel, @unchecked Sendable {
    public let config: ModelConfig
    let file: GGUFFile  // keeps the mapping alive
    let packed: PackedArena  // owns the packed copies of the matrices
    let normEps: Float
    let rope: Rope
    let attentionScale: Float
    let tokenEmbedding: Weight
    let output: Weight
    /// The table embedding lookups read (`Weight.rowSource`).
    let embeddingRows: Weight
    let outputNorm: UnsafePointer<Float>
    let layers: ContiguousArray<Layer>

    struct Layer {
        let attnNorm: UnsafePointer<Float>
        let wq, wk, wv, wo: Weight
        /// Added to Q [H*D], K and V [Hkv*D] after the products (qwen2; optional in llama).
        let bq, bk, bv: UnsafePointer<Float>?
        /// Per-head RMSNorm weights [D] of Q and K, applied before RoPE (qwen3).
        let qNorm, kNorm: UnsafePointer<Float>?
        let ffnNorm: UnsafePointer<Float>
        let gate, up, down: Weight

        /// An architecture's additions to the attention block: Q/K/V biases, per-head Q/K norms.
        struct Extras {
            var bq, bk, bv, qNorm, kNorm: UnsafePointer<Float>?
        }

        /// A block with separate Q, K, V, gate and up matrices (llama, qwen2, qwen3), its shapes checked; `extras`
        /// loads the architecture's additions after the attention matrices (so a file whose head size is wrong is
        /// reported on its Q matrix first).
        static func separate(_ w: WeightLoader, _ l: Int, _ s: Shape,
                             extras: () throws(ModelError) -> Extras = { Extras() }) throws(ModelError) -> Layer {
            let qDim = s.heads * s.headDim, kvDim = s.kvHeads * s.headDim
            let attnNorm = try w.vector(TensorName.attnNorm(l), length: s.embedding)
            let wq = try w.matrix(TensorName.attnQ(l), rowLength: s.embedding, rows: qDim)
            let wk = try w.matrix(TensorName.attnK(l), rowLength: s.embedding, rows: kvDim)
            let wv = try w.matrix(TensorName.attnV(l), rowLength: s.embedding, rows: kvDim)
            let wo = try w.matrix(TensorName.attnOutput(l), rowLength: qDim, rows: s.embedding)
            let x = try extras()
            return Layer(
                attnNorm: attnNorm, wq: wq, wk: wk, wv: wv, wo: wo,
                bq: x.bq, bk: x.bk, bv: x.bv, qNorm: x.qNorm, kNorm: x.kNorm,
                ffnNorm: try w.vector(TensorName.ffnNorm(l), length: s.embedding),
                gate: try w.matrix(TensorName.ffnGate(l), rowLength: s.embedding, rows: s.feedForward),
                up: try w.matrix(TensorName.ffnUp(l), rowLength: s.embedding, rows: s.feedForward),
                down: try w.matrix(TensorName.ffnDown(l), rowLength: s.feedForward, rows: s.embedding))
        }
    }

    /// Rotary embedding: the first `dims` of each head rotated by theta_i = pos * base^(-2i/dims) * freqScale /
    /// factors[i], cos and sin multiplied by `attnFactor`; `neox` pairs (x[i], x[i + dims/2]), else (x[2i], x[2i+1]).
    struct Rope {
        var dims: Int
        var base: Float
        var neox: Bool
        var factors: [Float]? = nil
        var freqScale: Float = 1
        var attnFactor: Float = 1
    }

    /// The sizes every loader reads from its own keys.
    struct Shape {
        var embedding, layers, heads, kvHeads, headDim, feedForward, context: Int
    }

    /// Checks the shape's relations, loads the shared tensors and builds each layer with `layer(loader, l, shape)`.
    /// `ropeFactors`: the name of an optional F32 tensor [rope dims / 2] of RoPE frequency factors. `vocabulary`: the
    /// architecture's declared vocabulary size, when its file has one (token_embd must agree).
    init(file: GGUFFile, architecture arch: String, shape s: Shape, normEps: Float, rope: Rope,
         attentionScale: Float? = nil, ropeFactors: String? = nil, vocabulary declared: Int? = nil,
         layer: (WeightLoader, Int, Shape) throws(ModelError) -> Layer) throws(ModelError) {
        self.file = file
        let hp = Hyperparameters(file: file)
        try hp.require(s.kvHeads <= s.heads && s.heads % s.kvHeads == 0, "\(arch).attention.head_count_kv", s.kvHeads,
                       "must divide head_count \(s.heads)")
        try hp.require(s.headDim % 2 == 0, "\(arch).attention.key_length", s.headDim, "head size must be even")
        try hp.require(rope.dims % 2 == 0 && rope.dims <= s.headDim, "\(arch).rope.dimension_count", rope.dims,
                       "must be even and at most the head size \(s.headDim)")
        self.normEps = normEps
        self.attentionScale = attentionScale ?? 1 / Float(s.headDim).squareRoot()

        let w = WeightLoader(file: file)
        packed = w.arena
        defer { w.arena.finishLoading() }
        var rope = rope
        if let ropeFactors, let f = try w.optionalVector(ropeFactors, length: rope.dims / 2) {
            let factors = Array(UnsafeBufferPointer(start: f, count: rope.dims / 2))
            for (i, v) in factors.enumerated() where !(v.isFinite && v > 0) {
                throw .invalidHyperparameter(key: "\(ropeFactors)[\(i)]", value: "\(v)", reason: "must be finite and > 0")
            }
            rope.factors = factors
        }
        self.rope = rope
        let nVocab = try w.vocabularySize(declared: declared)
        tokenEmbedding = try w.table(TensorName.tokenEmbedding, rowLength: s.embedding, rows: nVocab)
        output = try w.output(tiedTo: tokenEmbedding, rowLength: s.embedding, rows: nVocab)
        embeddingRows = tokenEmbedding.rowSource(tiedOutput: output)
        outputNorm = try w.vector(TensorName.outputNorm, length: s.embedding)
        var layers = ContiguousArray<Layer>()
        for l in 0..<s.layers { layers.append(try layer(w, l, s)) }
        self.layers = layers
        config = ModelConfig(
            architecture: arch, vocabularySize: nVocab, embeddingLength: s.embedding, layerCount: s.layers,
            headCount: s.heads, headCountKV: s.kvHeads, headDim: s.headDim, feedForwardLength: s.feedForward,
            trainedContextLength: s.context, slidingWindow: Array(repeating: 0, count: s.layers))
    }

    public func makeRunner(threads: Int, maxBatch: Int) throws(ModelError) -> any ModelRunner {
        try LlamaFamilyRunner(model: self, threads: threads, maxBatch: maxBatch)
    }

    var allWeights: [Weight] {
        [tokenEmbedding, output] + layers.flatMap { [$0.wq, $0.wk, $0.wv, $0.wo, $0.gate, $0.up, $0.down] }
    }
}

/// Runs a LlamaFamilyModel over ActivationBuffers (x [B, E] residual stream, h normed input, q [B, H*D],
/// k/v [B, Hkv*D], att [B, H*D], gate/up [B, F], out [B, E]). Trace names are llama.cpp's (`cb` in src/models).
final class LlamaFamilyRunner: RunnerBase, ModelRunner {
    let model: LlamaFamilyModel
    private let rope: RopeTable

    init(model: LlamaFamilyModel, threads: Int, maxBatch: Int) throws(ModelError) {
        self.model = model
        let r = model.rope
        rope = RopeTable(nRot: r.dims, base: r.base, maxBatch: max(1, maxBatch), factors: r.factors,
                         freqScale: r.freqScale, attnFactor: r.attnFactor)
        try super.init(config: model.config, threads: threads, maxBatch: maxBatch, weights: model.allWeights)
    }

    override func step(rows n: Int, logits: UnsafeMutablePointer<Float>) {
        let m = model, c = m.config, neox = m.rope.neox
        let E = c.embeddingLength, D = c.headDim, QD = c.headCount * D, KV = c.kvDim, F = c.feedForwardLength
        let a = buffers
        let x = a.x.pointer, h = a.h.pointer, q = a.q.pointer, k = a.k.pointer, v = a.v.pointer
        let att = a.att.pointer, gate = a.gate.pointer, up = a.up.pointer, out = a.out.pointer
        let emb = m.embeddingRows
        for t in 0..<n { slm_get_row(emb.mmType, emb.mmData, Int64(E), Int64(rowTokens[t]), x + t * E) }
        traced(-1, "inp_embd", x, n * E)
        rope.fill(positions: rowPositions, count: n)

        for l in 0..<c.layerCount {
            let L = m.layers[l]
            for t in 0..<n { slm_rmsnorm(x + t * E, L.attnNorm, h + t * E, Int64(E), m.normEps) }
            traced(l, "attn_norm", h, n * E)
            mm3(h, n, L.wq, q, L.wk, k, L.wv, v)
            if let bq = L.bq, let bk = L.bk, let bv = L.bv {
                for t in 0..<n {
                    slm_add(q + t * QD, bq, Int64(QD)); slm_add(k + t * KV, bk, Int64(KV)); slm_add(v + t * KV, bv, Int64(KV))
                }
            }
            for t in 0..<n {
                if let qn = L.qNorm, let kn = L.kNorm {
                    for hd in 0..<c.headCount { let p = q + t * QD + hd * D; slm_rmsnorm(p, qn, p, Int64(D), m.normEps) }
                    for hd in 0..<c.headCountKV { let p = k + t * KV + hd * D; slm_rmsnorm(p, kn, p, Int64(D), m.normEps) }
                }
                rope.apply(q + t * QD, heads: c.headCount, headDim: D, row: t, neox: neox)
                rope.apply(k + t * KV, heads: c.headCountKV, headDim: D, row: t, neox: neox)
            }
            storeKV(layer: l, k: k, v: v)
            traced(l, "Qcur", q, n * QD); traced(l, "Kcur", k, n * KV); traced(l, "Vcur", v, n * KV)
            attention(layer: l, q: q, window: 0, scale: m.attentionScale, out: att)
            traced(l, "kqv_out", att, n * QD)
            mm(L.wo, att, n, out)
            slm_add(x, out, Int64(n * E))
            traced(l, "ffn_inp", x, n * E)
            for t in 0..<n { slm_rmsnorm(x + t * E, L.ffnNorm, h + t * E, Int64(E), m.normEps) }
            traced(l, "ffn_norm", h, n * E)
            mm3(h, n, L.gate, gate, L.up, up)
            slm_swiglu(gate, up, gate, Int64(n * F))
            mm(L.down, gate, n, out)
            traced(l, "ffn_out", out, n * E)
            slm_add(x, out, Int64(n * E))
            traced(l, "l_out", x, n * E)
        }
        let rows = outputLogits(x: x, norm: m.outputNorm, eps: m.normEps, output: m.output, h: h, logits: logits)
        traced(-1, "result_output", logits, rows * c.vocabularySize)
    }
}
