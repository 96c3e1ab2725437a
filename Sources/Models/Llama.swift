import CKernels
import Foundation
import GGUF

/// The llama architecture (SmolLM2): pre-norm blocks of grouped-query attention with RoPE on adjacent pairs (llama.cpp's
/// converter permutes Q/K so that pairing holds) and a SwiGLU feed-forward; output tied to token_embd when
/// `output.weight` is absent. Immutable after init; its pointers address the read-only file mapping, which lives as
/// long as `file`, hence @unchecked Sendable.
public final class LlamaModel: LanguageModel, @unchecked Sendable {
    public let config: ModelConfig
    let file: GGUFFile  // keeps the mapping alive
    let packed: PackedArena  // owns the packed copies of the matrices
    let ropeBase: Float
    let ropeDims: Int
    let normEps: Float
    let tokenEmbedding: Weight
    let output: Weight
    let outputNorm: UnsafePointer<Float>
    let layers: ContiguousArray<Layer>

    struct Layer {
        let attnNorm: UnsafePointer<Float>
        let wq, wk, wv, wo: Weight
        let ffnNorm: UnsafePointer<Float>
        let gate, up, down: Weight
    }

    public init(file: GGUFFile) throws(ModelError) {
        self.file = file
        let arch = "llama"
        let nEmbd = try meta { () throws(GGUFError) in try file.int("\(arch).embedding_length") }
        let nLayer = try meta { () throws(GGUFError) in try file.int("\(arch).block_count") }
        let nHead = try meta { () throws(GGUFError) in try file.int("\(arch).attention.head_count") }
        let nHeadKV = try meta { () throws(GGUFError) in try file.optionalInt("\(arch).attention.head_count_kv") } ?? nHead
        let nFF = try meta { () throws(GGUFError) in try file.int("\(arch).feed_forward_length") }
        let nCtx = try meta { () throws(GGUFError) in try file.int("\(arch).context_length") }
        normEps = try meta { () throws(GGUFError) in try file.optionalFloat("\(arch).attention.layer_norm_rms_epsilon") } ?? 1e-5
        ropeBase = try meta { () throws(GGUFError) in try file.optionalFloat("\(arch).rope.freq_base") } ?? 10_000
        try Hyper.check("\(arch).embedding_length", nEmbd, 1...65_536)
        try Hyper.check("\(arch).block_count", nLayer, 1...1_024)
        try Hyper.check("\(arch).attention.head_count", nHead, 1...1_024)
        try Hyper.check("\(arch).attention.head_count_kv", nHeadKV, 1...nHead)
        try Hyper.check("\(arch).feed_forward_length", nFF, 1...1_048_576)
        try Hyper.check("\(arch).context_length", nCtx, 1...16_777_216)
        guard nHead % nHeadKV == 0 else {
            throw .invalidHyperparameter(key: "\(arch).attention.head_count_kv", value: "\(nHeadKV)",
                                         reason: "must divide head_count \(nHead)")
        }
        guard nEmbd % nHead == 0 else {
            throw .invalidHyperparameter(key: "\(arch).attention.head_count", value: "\(nHead)",
                                         reason: "must divide embedding_length \(nEmbd)")
        }
        let headDim = nEmbd / nHead
        ropeDims = try meta { () throws(GGUFError) in try file.optionalInt("\(arch).rope.dimension_count") } ?? headDim
        try Hyper.check("\(arch).rope.dimension_count", ropeDims, 2...headDim)
        guard ropeDims % 2 == 0 else {
            throw .invalidHyperparameter(key: "\(arch).rope.dimension_count", value: "\(ropeDims)", reason: "must be even")
        }
        guard normEps.isFinite, normEps > 0, ropeBase.isFinite, ropeBase > 1 else {
            throw .invalidHyperparameter(key: "\(arch).rope.freq_base / layer_norm_rms_epsilon",
                                         value: "\(ropeBase) / \(normEps)", reason: "must be finite and positive")
        }

        let w = WeightLoader(file: file)
        packed = w.arena
        defer { w.arena.finishLoading() }
        guard let embInfo = file.tensor(named: TensorName.tokenEmbedding) else { throw .missingTensor(TensorName.tokenEmbedding) }
        let nVocab = embInfo.dims.count == 2 ? embInfo.dims[1] : 0
        try Hyper.check("vocabulary size (token_embd rows)", nVocab, 1...4_194_304)
        if let declared = try meta({ () throws(GGUFError) in try file.optionalInt("\(arch).vocab_size") }), declared != nVocab {
            throw .tensorShape(name: TensorName.tokenEmbedding, expected: [nEmbd, declared], actual: embInfo.dims)
        }
        tokenEmbedding = try w.table(TensorName.tokenEmbedding, rowLength: nEmbd, rows: nVocab)
        output = try w.output(tiedTo: tokenEmbedding, rowLength: nEmbd, rows: nVocab)
        outputNorm = try w.vector(TensorName.outputNorm, length: nEmbd)
        let qDim = nHead * headDim, kvDim = nHeadKV * headDim
        var layers = ContiguousArray<Layer>()
        for l in 0..<nLayer {
            layers.append(Layer(
                attnNorm: try w.vector(TensorName.attnNorm(l), length: nEmbd),
                wq: try w.matrix(TensorName.attnQ(l), rowLength: nEmbd, rows: qDim),
                wk: try w.matrix(TensorName.attnK(l), rowLength: nEmbd, rows: kvDim),
                wv: try w.matrix(TensorName.attnV(l), rowLength: nEmbd, rows: kvDim),
                wo: try w.matrix(TensorName.attnOutput(l), rowLength: qDim, rows: nEmbd),
                ffnNorm: try w.vector(TensorName.ffnNorm(l), length: nEmbd),
                gate: try w.matrix(TensorName.ffnGate(l), rowLength: nEmbd, rows: nFF),
                up: try w.matrix(TensorName.ffnUp(l), rowLength: nEmbd, rows: nFF),
                down: try w.matrix(TensorName.ffnDown(l), rowLength: nFF, rows: nEmbd)))
        }
        self.layers = layers
        config = ModelConfig(
            architecture: arch, vocabularySize: nVocab, embeddingLength: nEmbd, layerCount: nLayer, headCount: nHead,
            headCountKV: nHeadKV, headDim: headDim, feedForwardLength: nFF, trainedContextLength: nCtx,
            slidingWindow: Array(repeating: 0, count: nLayer))
    }

    public func makeRunner(threads: Int, maxBatch: Int) throws(ModelError) -> any ModelRunner {
        try LlamaRunner(model: self, threads: threads, maxBatch: maxBatch)
    }

    var allWeights: [Weight] {
        [tokenEmbedding, output] + layers.flatMap { [$0.wq, $0.wk, $0.wv, $0.wo, $0.gate, $0.up, $0.down] }
    }
}

/// Runs a LlamaModel over ActivationBuffers (x [B, E] residual stream, h normed input, q [B, H*D],
/// k/v [B, Hkv*D], att [B, H*D], gate/up [B, F], out [B, E]).
final class LlamaRunner: RunnerBase, ModelRunner {
    let model: LlamaModel
    private let rope: RopeTable

    init(model: LlamaModel, threads: Int, maxBatch: Int) throws(ModelError) {
        self.model = model
        rope = RopeTable(nRot: model.ropeDims, base: model.ropeBase, maxBatch: max(1, maxBatch))
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
        traced(-1, "embd", x, n * E)
        let scale = 1 / Float(D).squareRoot()
        rope.fill(positions: rowPositions, count: n)

        for l in 0..<c.layerCount {
            let L = m.layers[l]
            for t in 0..<n { slm_rmsnorm(x + t * E, L.attnNorm, h + t * E, Int64(E), m.normEps) }
            traced(l, "attn_norm", h, n * E)
            mm3(h, n, L.wq, q, L.wk, k, L.wv, v)
            for t in 0..<n {
                rope.apply(q + t * QD, heads: c.headCount, headDim: D, row: t, neox: false)
                rope.apply(k + t * KV, heads: c.headCountKV, headDim: D, row: t, neox: false)
            }
            storeKV(layer: l, k: k, v: v)
            traced(l, "Qcur", q, n * QD); traced(l, "Kcur", k, n * KV)
            attention(layer: l, q: q, window: 0, scale: scale, out: att)
            traced(l, "attn", att, n * QD)
            mm(L.wo, att, n, out)
            slm_add(x, out, Int64(n * E))
            for t in 0..<n { slm_rmsnorm(x + t * E, L.ffnNorm, h + t * E, Int64(E), m.normEps) }
            mm3(h, n, L.gate, gate, L.up, up)
            slm_swiglu(gate, up, gate, Int64(n * F))
            mm(L.down, gate, n, out)
            slm_add(x, out, Int64(n * E))
            traced(l, "l_out", x, n * E)
        }
        _ = outputLogits(x: x, norm: m.outputNorm, eps: m.normEps, output: m.output, h: h, logits: logits)
    }
}

/// Range checks for hyperparameters read from a file.
enum Hyper {
    static func check(_ key: String, _ value: Int, _ range: ClosedRange<Int>) throws(ModelError) {
        guard range.contains(value) else {
            throw .invalidHyperparameter(key: key, value: "\(value)", reason: "must be in \(range.lowerBound)...\(range.upperBound)")
        }
    }
}
