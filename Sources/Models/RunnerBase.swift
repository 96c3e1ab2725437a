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

    var threads: Int { pool.threads }

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
    }

    deinit { work.deallocate() }

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
            step(UnsafeBufferPointer(rebasing: tokens[chunk]), cache: cache,
                 outputRows: (rows.lowerBound - start)..<(rows.upperBound - start),
                 logits: logits + (rows.lowerBound - wanted.lowerBound) * vocab)
            cache.advance(n)
            start += n
        }
    }

    /// One batch of n <= maxBatch tokens at positions cache.count ..< cache.count + n (room already reserved).
    func step(_ tokens: UnsafeBufferPointer<Int32>, cache: KVCache, outputRows: Range<Int>,
              logits: UnsafeMutablePointer<Float>) {
        fatalError("subclass must implement step")
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

    /// Writes the K and V rows of token t (f32, kvDim each) into the cache as f16 at `pos`.
    @inline(__always)
    final func storeKV(_ cache: KVCache, layer l: Int, pos: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>) {
        slm_fp32_to_fp16_row(k, cache.keyRow(l, pos), Int64(cache.kvDim))
        slm_fp32_to_fp16_row(v, cache.valueRow(l, pos), Int64(cache.kvDim))
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
