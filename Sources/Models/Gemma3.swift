import CKernels
import Foundation
import GGUF

/// The gemma3 architecture (Gemma-3-270M), per llama.cpp's src/models/gemma3.cpp:
/// - embeddings scaled by sqrt(n_embd); RMSNorm weights used as stored (the converter already added Gemma's +1);
/// - Q and K RMS-normalised per head (attn_q_norm / attn_k_norm) before RoPE with NEOX pairing (x[i], x[i+d/2]);
/// - queries scaled by 1/sqrt(key_length); post-attention and post-FFN norms before each residual add;
/// - GeGLU feed-forward: gelu(gate) * up, tanh approximation;
/// - sliding-window attention (`gemma3.attention.sliding_window`) on local layers, full attention where
///   il % pattern == pattern - 1 (pattern `gemma3.attention.sliding_window_pattern`, default 6); local layers use
///   rope base `gemma3.rope.freq_base_swa` (default 10,000), global layers `gemma3.rope.freq_base`;
/// - tied output (token_embd) unless `output.weight` exists; optional final logit soft-capping.
public final class Gemma3Model: LanguageModel, @unchecked Sendable {
    public let config: ModelConfig
    let file: GGUFFile
    let packed: PackedArena  // owns the packed copies of the matrices
    let normEps: Float
    let ropeBaseGlobal: Float
    let ropeBaseLocal: Float
    let attentionScale: Float
    let embeddingScale: Float
    let softcap: Float
    let tokenEmbedding: Weight
    let output: Weight
    let outputNorm: UnsafePointer<Float>
    let layers: ContiguousArray<Layer>

    struct Layer {
        let attnNorm, qNorm, kNorm, postAttnNorm, ffnNorm, postFFNNorm: UnsafePointer<Float>
        let wq, wk, wv, wo, gate, up, down: Weight
        let window: Int        // 0: global layer
        let ropeBase: Float
    }

    public init(file: GGUFFile) throws(ModelError) {
        self.file = file
        let arch = "gemma3"
        let nEmbd = try meta { () throws(GGUFError) in try file.int("\(arch).embedding_length") }
        let nLayer = try meta { () throws(GGUFError) in try file.int("\(arch).block_count") }
        let nHead = try meta { () throws(GGUFError) in try file.int("\(arch).attention.head_count") }
        let nHeadKV = try meta { () throws(GGUFError) in try file.optionalInt("\(arch).attention.head_count_kv") } ?? nHead
        let nFF = try meta { () throws(GGUFError) in try file.int("\(arch).feed_forward_length") }
        let nCtx = try meta { () throws(GGUFError) in try file.int("\(arch).context_length") }
        try Hyper.check("\(arch).embedding_length", nEmbd, 1...65_536)
        try Hyper.check("\(arch).block_count", nLayer, 1...1_024)
        try Hyper.check("\(arch).attention.head_count", nHead, 1...1_024)
        try Hyper.check("\(arch).attention.head_count_kv", nHeadKV, 1...nHead)
        try Hyper.check("\(arch).feed_forward_length", nFF, 1...1_048_576)
        try Hyper.check("\(arch).context_length", nCtx, 1...16_777_216)
        let headDim = try meta { () throws(GGUFError) in try file.optionalInt("\(arch).attention.key_length") } ?? nEmbd / nHead
        let valueDim = try meta { () throws(GGUFError) in try file.optionalInt("\(arch).attention.value_length") } ?? headDim
        try Hyper.check("\(arch).attention.key_length", headDim, 2...4_096)
        guard valueDim == headDim, headDim % 2 == 0, nHead % nHeadKV == 0 else {
            throw .invalidHyperparameter(key: "\(arch).attention.key_length", value: "\(headDim)",
                                         reason: "must be even, equal value_length (\(valueDim)), with head_count_kv dividing head_count")
        }
        normEps = try meta { () throws(GGUFError) in try file.float("\(arch).attention.layer_norm_rms_epsilon") }
        ropeBaseGlobal = try meta { () throws(GGUFError) in try file.optionalFloat("\(arch).rope.freq_base") } ?? 1_000_000
        ropeBaseLocal = try meta { () throws(GGUFError) in try file.optionalFloat("\(arch).rope.freq_base_swa") } ?? 10_000
        softcap = try meta { () throws(GGUFError) in try file.optionalFloat("\(arch).final_logit_softcapping") } ?? 0
        let window = try meta { () throws(GGUFError) in try file.optionalInt("\(arch).attention.sliding_window") } ?? 0
        let pattern = try meta { () throws(GGUFError) in try file.optionalInt("\(arch).attention.sliding_window_pattern") } ?? 6
        try Hyper.check("\(arch).attention.sliding_window", window, 0...16_777_216)
        try Hyper.check("\(arch).attention.sliding_window_pattern", pattern, 1...1_024)
        for (key, value) in [("layer_norm_rms_epsilon", normEps), ("rope.freq_base", ropeBaseGlobal),
                             ("rope.freq_base_swa", ropeBaseLocal)] where !(value.isFinite && value > 0) {
            throw .invalidHyperparameter(key: "\(arch).\(key)", value: "\(value)", reason: "must be finite and positive")
        }
        guard softcap.isFinite, softcap >= 0 else {
            throw .invalidHyperparameter(key: "\(arch).final_logit_softcapping", value: "\(softcap)", reason: "must be >= 0")
        }
        attentionScale = 1 / Float(headDim).squareRoot()
        embeddingScale = Float(nEmbd).squareRoot()

        let w = WeightLoader(file: file)
        packed = w.arena
        defer { w.arena.finishLoading() }
        guard let embInfo = file.tensor(named: TensorName.tokenEmbedding) else { throw .missingTensor(TensorName.tokenEmbedding) }
        let nVocab = embInfo.dims.count == 2 ? embInfo.dims[1] : 0
        try Hyper.check("vocabulary size (token_embd rows)", nVocab, 1...4_194_304)
        tokenEmbedding = try w.table(TensorName.tokenEmbedding, rowLength: nEmbd, rows: nVocab)
        output = try w.output(tiedTo: tokenEmbedding, rowLength: nEmbd, rows: nVocab)
        outputNorm = try w.vector(TensorName.outputNorm, length: nEmbd)
        let qDim = nHead * headDim, kvDim = nHeadKV * headDim
        var layers = ContiguousArray<Layer>()
        var windows: [Int] = []
        for l in 0..<nLayer {
            let local = window > 0 && l % pattern < pattern - 1
            windows.append(local ? window : 0)
            layers.append(Layer(
                attnNorm: try w.vector(TensorName.attnNorm(l), length: nEmbd),
                qNorm: try w.vector(TensorName.attnQNorm(l), length: headDim),
                kNorm: try w.vector(TensorName.attnKNorm(l), length: headDim),
                postAttnNorm: try w.vector(TensorName.postAttentionNorm(l), length: nEmbd),
                ffnNorm: try w.vector(TensorName.ffnNorm(l), length: nEmbd),
                postFFNNorm: try w.vector(TensorName.postFFNNorm(l), length: nEmbd),
                wq: try w.matrix(TensorName.attnQ(l), rowLength: nEmbd, rows: qDim),
                wk: try w.matrix(TensorName.attnK(l), rowLength: nEmbd, rows: kvDim),
                wv: try w.matrix(TensorName.attnV(l), rowLength: nEmbd, rows: kvDim),
                wo: try w.matrix(TensorName.attnOutput(l), rowLength: qDim, rows: nEmbd),
                gate: try w.matrix(TensorName.ffnGate(l), rowLength: nEmbd, rows: nFF),
                up: try w.matrix(TensorName.ffnUp(l), rowLength: nEmbd, rows: nFF),
                down: try w.matrix(TensorName.ffnDown(l), rowLength: nFF, rows: nEmbd),
                window: local ? window : 0,
                ropeBase: local ? ropeBaseLocal : ropeBaseGlobal))
        }
        self.layers = layers
        config = ModelConfig(
            architecture: arch, vocabularySize: nVocab, embeddingLength: nEmbd, layerCount: nLayer, headCount: nHead,
            headCountKV: nHeadKV, headDim: headDim, feedForwardLength: nFF, trainedContextLength: nCtx,
            slidingWindow: windows)
    }

    public func makeRunner(threads: Int, maxBatch: Int) throws(ModelError) -> any ModelRunner {
        try Gemma3Runner(model: self, threads: threads, maxBatch: maxBatch)
    }

    var allWeights: [Weight] {
        [tokenEmbedding, output] + layers.flatMap { [$0.wq, $0.wk, $0.wv, $0.wo, $0.gate, $0.up, $0.down] }
    }
}

/// Scratch for running a Gemma3Model; shapes as in LlamaRunner, with q [B, H*Dk].
final class Gemma3Runner: RunnerBase, ModelRunner {
    let model: Gemma3Model
    /// One table per distinct rope base (local and global layers), and which one each layer uses.
    private let ropes: [RopeTable]
    private let ropeOfLayer: [Int]

    init(model: Gemma3Model, threads: Int, maxBatch: Int) throws(ModelError) {
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
        let emb = m.tokenEmbedding
        for t in 0..<n { slm_get_row(emb.type, emb.data, Int64(E), Int64(rowTokens[t]), x + t * E) }
        slm_scale(x, m.embeddingScale, Int64(n * E))
        traced(-1, "inp_scaled", x, n * E)
        for r in ropes { r.fill(positions: rowPositions, count: n) }

        for l in 0..<c.layerCount {
            let L = m.layers[l], rope = ropes[ropeOfLayer[l]]
            for t in 0..<n { slm_rmsnorm(x + t * E, L.attnNorm, h + t * E, Int64(E), m.normEps) }
            traced(l, "attn_norm", h, n * E)
            mm3(h, n, L.wq, q, L.wk, k, L.wv, v)
            for t in 0..<n {
                for hd in 0..<c.headCount { let p = q + t * QD + hd * D; slm_rmsnorm(p, L.qNorm, p, Int64(D), m.normEps) }
                for hd in 0..<c.headCountKV { let p = k + t * KV + hd * D; slm_rmsnorm(p, L.kNorm, p, Int64(D), m.normEps) }
                rope.apply(q + t * QD, heads: c.headCount, headDim: D, row: t, neox: true)
                rope.apply(k + t * KV, heads: c.headCountKV, headDim: D, row: t, neox: true)
            }
            storeKV(layer: l, k: k, v: v)
            traced(l, "Qcur", q, n * QD); traced(l, "Kcur", k, n * KV)
            attention(layer: l, q: q, window: L.window, scale: m.attentionScale, out: att)
            traced(l, "attn", att, n * QD)
            mm(L.wo, att, n, out)
            for t in 0..<n { slm_rmsnorm(out + t * E, L.postAttnNorm, out + t * E, Int64(E), m.normEps) }
            slm_add(x, out, Int64(n * E))  // sa_out
            for t in 0..<n { slm_rmsnorm(x + t * E, L.ffnNorm, h + t * E, Int64(E), m.normEps) }
            mm3(h, n, L.gate, gate, L.up, up)
            slm_geglu(gate, up, gate, Int64(n * F))
            mm(L.down, gate, n, out)
            for t in 0..<n { slm_rmsnorm(out + t * E, L.postFFNNorm, out + t * E, Int64(E), m.normEps) }
            slm_add(x, out, Int64(n * E))
            traced(l, "l_out", x, n * E)
        }
        let rows = outputLogits(x: x, norm: m.outputNorm, eps: m.normEps, output: m.output, h: h, logits: logits)
        if m.softcap > 0 {
            let total = rows * c.vocabularySize
            for i in 0..<total { logits[i] = m.softcap * tanhf(logits[i] / m.softcap) }
        }
    }
}
