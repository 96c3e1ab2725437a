import CKernels

/// What every architecture's runner shares: the thread pool, matmul scratch, activation buffers, the trace hook, and
/// `forward`, which splits a call into batches of at most maxBatch positions. Subclasses implement `step`.
class RunnerBase {
    let pool: ThreadPool
    let maxBatch: Int
    let config: ModelConfig
    let buffers: ActivationBuffers
    var vocabularySize: Int { config.vocabularySize }
    var trace: ((Int, String, UnsafeBufferPointer<Float>) -> Void)?
    private let work: UnsafeMutableRawPointer
    /// The current step's rows: token and position of each (maxBatch of each), and the sequences they belong to.
    let rowTokens: UnsafeMutablePointer<Int32>
    let rowPositions: UnsafeMutablePointer<Int>
    var segments: ContiguousArray<Segment> = []
    /// slm_attention_seqs's per-segment arguments, one per segment (at most maxBatch).
    private let attnSeqs: UnsafeMutablePointer<slm_attn_seq>

    /// One sequence's rows in the current step: rows row ..< row + count, at positions pos0 ..< pos0 + count of
    /// `cache`; `outputs` (relative to row) produce logits.
    struct Segment {
        let cache: KVCache
        let row: Int
        let count: Int
        let pos0: Int
        let outputs: Range<Int>
    }

    var threads: Int { pool.threads }

    func setComputeNice(_ nice: Int) -> Bool { pool.setNice(nice) }

    init(config: ModelConfig, threads: Int, maxBatch: Int, weights: [Weight]) throws(ModelError) {
        pool = try ThreadPool(threads: threads)
        self.maxBatch = max(1, maxBatch)
        self.config = config
        buffers = ActivationBuffers(config, maxBatch: self.maxBatch)
        var workBytes = 64
        for w in weights {
            workBytes = max(workBytes, slm_matmul_work_size(w.mmType, Int64(w.rowLength), Int64(self.maxBatch), Int32(pool.threads)))
        }
        workBytes *= 3  // mm3: up to three activation formats at once
        work = UnsafeMutableRawPointer.allocate(byteCount: workBytes, alignment: 64)
        rowTokens = .allocate(capacity: self.maxBatch)
        rowPositions = .allocate(capacity: self.maxBatch)
        attnSeqs = .allocate(capacity: self.maxBatch)
        segments.reserveCapacity(self.maxBatch)
    }

    deinit {
        work.deallocate()
        rowTokens.deallocate()
        rowPositions.deallocate()
        attnSeqs.deallocate()
    }

    /// Validates the call, then runs `step` on consecutive batches; each batch writes the logits of the requested rows
    /// that fall inside it (ModelRunner.forward).
    func forward(tokens: UnsafeBufferPointer<Int32>, cache: KVCache, outputs: OutputRows,
                          logits: UnsafeMutablePointer<Float>) throws(ModelError) {
        let vocab = vocabularySize
        for t in tokens where t < 0 || Int(t) >= vocab { throw .tokenOutOfRange(token: t, vocabularySize: vocab) }
        guard !tokens.isEmpty else { return }
        guard cache.count + tokens.count <= cache.capacity else {
            throw .contextFull(needed: cache.count + tokens.count, capacity: cache.capacity)
        }
        let wanted = outputs.range(count: tokens.count)
        var start = 0
        while start < tokens.count {
            let n = min(maxBatch, tokens.count - start)
            let chunk = start..<(start + n)
            let rows = chunk.clamped(to: wanted)
            try cache.reserve(n)
            for i in 0..<n {
                rowTokens[i] = tokens[start + i]
                rowPositions[i] = cache.count + i
            }
            segments.removeAll(keepingCapacity: true)
            segments.append(Segment(cache: cache, row: 0, count: n, pos0: cache.count,
                                    outputs: (rows.lowerBound - start)..<(rows.upperBound - start)))
            step(rows: n, logits: logits + (rows.lowerBound - wanted.lowerBound) * vocab)
            cache.advance(n)
            start += n
        }
    }

    /// ModelRunner.forward(batch:): checks every entry before any work, then one `step` over all rows.
    func forward(batch: [BatchEntry], logits: UnsafeMutablePointer<Float>) throws(ModelError) {
        let vocab = vocabularySize
        var total = 0
        for (i, e) in batch.enumerated() {
            for t in e.tokens where t < 0 || Int(t) >= vocab { throw .tokenOutOfRange(token: t, vocabularySize: vocab) }
            guard e.cache.count + e.tokens.count <= e.cache.capacity else {
                throw .contextFull(needed: e.cache.count + e.tokens.count, capacity: e.cache.capacity)
            }
            guard e.cache.layerCount == config.layerCount, e.cache.kvDim == config.kvDim else {
                throw .invalidBatch("entry \(i): KV cache shaped for another model")
            }
            for j in 0..<i where batch[j].cache === e.cache { throw .invalidBatch("entries \(j) and \(i) share a KV cache") }
            total += e.tokens.count
        }
        guard total <= maxBatch else { throw .invalidBatch("\(total) rows exceed the runner's batch of \(maxBatch)") }
        guard total > 0 else { return }
        segments.removeAll(keepingCapacity: true)
        var row = 0
        for e in batch where !e.tokens.isEmpty {
            let n = e.tokens.count
            try e.cache.reserve(n)
            for i in 0..<n {
                rowTokens[row + i] = e.tokens[i]
                rowPositions[row + i] = e.cache.count + i
            }
            segments.append(Segment(cache: e.cache, row: row, count: n, pos0: e.cache.count,
                                    outputs: e.outputs.range(count: n)))
            row += n
        }
        step(rows: total, logits: logits)
        for s in segments { s.cache.advance(s.count) }
    }

    /// One step over `rows` <= maxBatch rows: rowTokens / rowPositions hold each row's token and position, `segments`
    /// the sequences they belong to (room already reserved in each cache). Writes the logits of every segment's
    /// output rows to `logits`, segment after segment.
    func step(rows n: Int, logits: UnsafeMutablePointer<Float>) {
        fatalError("subclass must implement step")
    }

    /// Writes the K and V rows of every row (f32, kvDim each, row-major) into its sequence's cache at its position,
    /// as f16.
    @inline(__always)
    final func storeKV(layer l: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>) {
        for s in segments {
            for t in s.row..<(s.row + s.count) {
                let pos = s.pos0 + t - s.row
                slm_fp32_to_fp16_row(k + t * s.cache.kvDim, s.cache.keyRow(l, pos), Int64(s.cache.kvDim))
                slm_fp32_to_fp16_row(v + t * s.cache.kvDim, s.cache.valueRow(l, pos), Int64(s.cache.kvDim))
            }
        }
    }

    /// Causal attention of every segment's queries (q: [rows, H*D]) over its own cache for layer l -> att [rows, H*D].
    /// Several segments (a batched decode) share one pool run (slm_attention_seqs); each result is bit-identical to
    /// the segment alone.
    @inline(__always)
    /// softcap > 0: scores become softcap * tanh(score / softcap) before the softmax (gemma2).
    final func attention(layer l: Int, q: UnsafePointer<Float>, window: Int, scale: Float, softcap: Float = 0,
                         out att: UnsafeMutablePointer<Float>) {
        let c = config, QD = c.headCount * c.headDim
        if segments.count == 1, let s = segments.first {
            if softcap > 0 {
                slm_attention_softcap(pool.pool, q + s.row * QD, s.cache.keyBase(l), s.cache.valueBase(l),
                                      Int64(c.kvDim), Int64(s.count), Int64(s.pos0 - s.cache.layerBase(l)),
                                      Int64(c.headCount), Int64(c.headCountKV), Int64(c.headDim), Int64(window), scale,
                                      softcap, att + s.row * QD)
                return
            }
            slm_attention(pool.pool, q + s.row * QD, s.cache.keyBase(l), s.cache.valueBase(l), Int64(c.kvDim),
                          Int64(s.count), Int64(s.pos0 - s.cache.layerBase(l)), Int64(c.headCount),
                          Int64(c.headCountKV), Int64(c.headDim), Int64(window), scale, att + s.row * QD)
            return
        }
        for (i, s) in segments.enumerated() {
            attnSeqs[i] = slm_attn_seq(q: q + s.row * QD, k: s.cache.keyBase(l), v: s.cache.valueBase(l),
                                       n_tokens: Int64(s.count), pos0: Int64(s.pos0 - s.cache.layerBase(l)),
                                       out: att + s.row * QD)
        }
        slm_attention_seqs_softcap(pool.pool, attnSeqs, Int64(segments.count), Int64(c.kvDim), Int64(c.headCount),
                                   Int64(c.headCountKV), Int64(c.headDim), Int64(window), scale, softcap)
    }

    /// The final norm of every segment's output rows of x, gathered into h ([outputs, E]), then the output matrix
    /// into logits. Returns the number of rows written.
    @inline(__always)
    final func outputLogits(x: UnsafePointer<Float>, norm: UnsafePointer<Float>, eps: Float, output: Weight,
                            h: UnsafeMutablePointer<Float>, logits: UnsafeMutablePointer<Float>) -> Int {
        let E = config.embeddingLength
        var i = 0
        for s in segments {
            for r in s.outputs {
                slm_rmsnorm(x + (s.row + r) * E, norm, h + i * E, Int64(E), eps)
                i += 1
            }
        }
        if i > 0 { mm(output, h, i, logits) }
        return i
    }

    /// Y[n, w.rows] = X[n, w.rowLength] * W^T; one row goes through matvec, several through matmul (same per-row result).
    @inline(__always)
    final func mm(_ w: Weight, _ input: UnsafePointer<Float>, _ n: Int, _ output: UnsafeMutablePointer<Float>) {
        if n == 1 {
            slm_matvec(pool.pool, w.mmType, w.mmData, Int64(w.rows), Int64(w.rowLength), input, output, work)
        } else {
            slm_matmul(pool.pool, w.mmType, w.mmData, Int64(w.rows), Int64(w.rowLength), input, Int64(n), output, work)
        }
    }

    /// Two or three products of one input in one pool run, the input quantized once (Q/K/V; gate/up); each output is
    /// bit-identical to `mm` of that weight alone.
    @inline(__always)
    final func mm3(_ input: UnsafePointer<Float>, _ n: Int, _ w0: Weight, _ y0: UnsafeMutablePointer<Float>,
                   _ w1: Weight, _ y1: UnsafeMutablePointer<Float>,
                   _ w2: Weight? = nil, _ y2: UnsafeMutablePointer<Float>? = nil) {
        var jobs = (slm_matmul_job(wtype: w0.mmType, W: w0.mmData, n_out: Int64(w0.rows), Y: y0),
                    slm_matmul_job(wtype: w1.mmType, W: w1.mmData, n_out: Int64(w1.rows), Y: y1),
                    slm_matmul_job(wtype: w2?.mmType ?? w0.mmType, W: w2?.mmData, n_out: Int64(w2?.rows ?? 0), Y: y2))
        let count: Int32 = w2 == nil ? 2 : 3
        withUnsafePointer(to: &jobs) { p in
            p.withMemoryRebound(to: slm_matmul_job.self, capacity: 3) { j in
                slm_matmul_multi(pool.pool, j, count, Int64(w0.rowLength), input, Int64(n), work)
            }
        }
    }

    @inline(__always)
    final func traced(_ layer: Int, _ name: String, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        if let trace { trace(layer, name, UnsafeBufferPointer(start: p, count: count)) }
    }
}

/// The per-step activations of a transformer runner, sized for maxBatch positions B: x [B, E] residual stream,
/// h [B, E] normed input, q and att [B, H*D], k and v [B, Hkv*D], gate and up [B, F], out [B, E].
final class ActivationBuffers {
    let x, h, q, k, v, att, gate, up, out: FloatBuffer

    init(_ c: ModelConfig, maxBatch b: Int) {
        x = FloatBuffer(b * c.embeddingLength); h = FloatBuffer(b * c.embeddingLength)
        q = FloatBuffer(b * c.headCount * c.headDim); att = FloatBuffer(b * c.headCount * c.headDim)
        k = FloatBuffer(b * c.kvDim); v = FloatBuffer(b * c.kvDim)
        gate = FloatBuffer(b * c.feedForwardLength); up = FloatBuffer(b * c.feedForwardLength)
        out = FloatBuffer(b * c.embeddingLength)
    }
}
