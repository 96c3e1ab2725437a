import CKernels
import GGUF

/// What the engine needs to know of a model to size caches and buffers, whatever its architecture.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: String
    public var vocabularySize: Int
    public var embeddingLength: Int
    public var layerCount: Int
    public var headCount: Int
    public var headCountKV: Int
    public var headDim: Int
    public var feedForwardLength: Int
    public var trainedContextLength: Int
    /// Sliding-window length per layer; 0 = the layer attends to the whole context.
    public var slidingWindow: [Int]

    /// Floats per position of K (and of V) in one layer.
    public var kvDim: Int { headCountKV * headDim }
}

/// Which positions of a forward call produce logits.
public enum OutputRows: Sendable, Equatable {
    case last
    case all
    /// Positions `index..<count` of this call (perplexity scores only the second half of each chunk).
    case from(Int)

    /// No logits (a prefill chunk that does not end its prompt).
    public static let noRows = OutputRows.from(.max)

    func range(count: Int) -> Range<Int> {
        switch self {
        case .last: return (count - 1)..<count
        case .all: return 0..<count
        case .from(let i): return min(max(i, 0), count)..<count
        }
    }
}

/// An architecture's immutable weights. Shared by every sequence and runner.
public protocol LanguageModel: AnyObject, Sendable {
    var config: ModelConfig { get }
    /// Scratch buffers and a thread pool for running up to `maxBatch` positions per step.
    func makeRunner(threads: Int, maxBatch: Int) throws(ModelError) -> any ModelRunner
}

/// One sequence's part of a batched forward step: its next tokens (one for a decoding sequence, a chunk for one that
/// is prefilling), evaluated at positions `cache.count ..< cache.count + tokens.count` and appended to its cache.
public struct BatchEntry {
    public var cache: KVCache
    public var tokens: [Int32]
    /// Which of this entry's rows produce logits.
    public var outputs: OutputRows

    public init(cache: KVCache, tokens: [Int32], outputs: OutputRows) {
        self.cache = cache
        self.tokens = tokens
        self.outputs = outputs
    }
}

/// Runs forward passes. Holds mutable scratch: one runner is used by one thread at a time.
public protocol ModelRunner: AnyObject {
    var config: ModelConfig { get }
    var threads: Int { get }
    /// Most rows (positions, summed over sequences) one step evaluates.
    var maxBatch: Int { get }
    /// Evaluates `tokens` at positions `cache.count ..< cache.count + tokens.count`, appending their K/V to `cache`,
    /// and writes the logits of `outputs` rows to `logits` ([rows, vocabularySize], row-major). Splits the tokens into
    /// batches of at most maxBatch; the result does not depend on that split (the matmul kernels are per-row exact).
    func forward(tokens: UnsafeBufferPointer<Int32>, cache: KVCache, outputs: OutputRows,
                 logits: UnsafeMutablePointer<Float>) throws(ModelError)
    /// Evaluates several sequences in one step (at most maxBatch rows in all, each cache once): the projections and
    /// the feed-forward run as one product over every row, so the weights are read once for the whole batch, and
    /// attention runs per sequence over its own cache. Writes the logits of each entry's `outputs` rows to `logits`,
    /// entry after entry ([rows, vocabularySize]). A row's logits are bit-identical to those of the same sequence run
    /// alone: every kernel's result for a row depends on that row and its own cache only.
    func forward(batch: [BatchEntry], logits: UnsafeMutablePointer<Float>) throws(ModelError)
    /// Runs the pool's workers and the calling thread (the pool's caller) `nice` levels nicer than the calling thread
    /// is now (Linux: niceness is per thread; at most 19); false when the system refused.
    func setComputeNice(_ nice: Int) -> Bool
    /// Optional per-op trace for bisecting a mismatch: (layer or -1, op name, values). Nil costs nothing.
    var trace: ((Int, String, UnsafeBufferPointer<Float>) -> Void)? { get set }
}

/// A 64-byte-aligned float buffer owned by a runner; never reallocated after creation.
final class FloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ count: Int) {
        self.count = max(count, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: self.count * 4, alignment: 64)
        raw.initializeMemory(as: Float.self, repeating: 0, count: self.count)
        pointer = raw.assumingMemoryBound(to: Float.self)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}

/// A thread pool owned by a runner.
final class ThreadPool {
    let pool: OpaquePointer
    let threads: Int

    init(threads: Int) throws(ModelError) {
        slm_kernels_init()
        guard let p = slm_threadpool_create(Int32(threads)) else { throw .threadPool(threads) }
        pool = p
        self.threads = Int(slm_threadpool_n_threads(p))
    }

    deinit { slm_threadpool_destroy(pool) }

    /// See ModelRunner.setComputeNice.
    func setNice(_ nice: Int) -> Bool {
        let target = Int32(min(19, Int(slm_thread_nice()) + max(0, min(nice, 39))))
        let caller = slm_thread_set_nice(target) == 0
        return slm_threadpool_set_nice(pool, target) == 0 && caller
    }
}
