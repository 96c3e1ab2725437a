import CKernels
import Foundation

/// The keys and values of one sequence, per layer, stored as f16: position p of layer l at row (p - base[l]) of a
/// [rows, kvDim] buffer. Full-attention layers hold every position up to `capacity`; sliding-window layers hold only
/// the last `window + maxBatch` positions and slide their rows forward (amortised: once per maxBatch positions), which
/// keeps long contexts cheap. Attention is relative, so a layer's kernels see positions shifted by `base`.
///
/// One cache per sequence; the model weights are shared, so several sequences can run side by side.
public final class KVCache {
    public let capacity: Int
    public let layerCount: Int
    public let kvDim: Int
    public private(set) var count: Int = 0

    let window: [Int]
    let rowsPerLayer: [Int]
    private(set) var base: [Int]
    private let keys: [UnsafeMutablePointer<UInt16>]
    private let values: [UnsafeMutablePointer<UInt16>]
    private let regions: [(UnsafeMutableRawPointer, Int)]

    /// - Parameters: capacity: most positions this sequence may hold; maxBatch: the largest forward step.
    public init(config: ModelConfig, capacity: Int, maxBatch: Int) throws(ModelError) {
        self.capacity = capacity
        layerCount = config.layerCount
        kvDim = config.kvDim
        window = config.slidingWindow
        var rows: [Int] = []
        var ks: [UnsafeMutablePointer<UInt16>] = []
        var vs: [UnsafeMutablePointer<UInt16>] = []
        var regions: [(UnsafeMutableRawPointer, Int)] = []
        for l in 0..<config.layerCount {
            let w = config.slidingWindow[l]
            let r = w > 0 ? min(capacity, w + maxBatch) : capacity
            rows.append(r)
            let (bytes, o) = r.multipliedReportingOverflow(by: config.kvDim * 2 * 2)
            guard !o else { throw .outOfMemory(what: "KV cache layer \(l)", bytes: Int.max) }
            // Anonymous mapping: pages cost memory only once written, so a large --ctx costs what is used.
            let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let p, p != MAP_FAILED else { throw .outOfMemory(what: "KV cache layer \(l)", bytes: bytes) }
            regions.append((p, bytes))
            ks.append(p.assumingMemoryBound(to: UInt16.self))
            vs.append((p + bytes / 2).assumingMemoryBound(to: UInt16.self))
        }
        rowsPerLayer = rows
        base = Array(repeating: 0, count: config.layerCount)
        keys = ks
        values = vs
        self.regions = regions
    }

    deinit { for (p, n) in regions { munmap(p, n) } }

    /// Bytes of KV currently resident (positions held x layers x K and V x f16).
    public var residentBytes: Int {
        (0..<layerCount).reduce(0) { $0 + min(count - base[$1], rowsPerLayer[$1]) * kvDim * 4 }
    }

    /// Makes room for `n` more positions: checks capacity and slides sliding-window layers if needed.
    func reserve(_ n: Int) throws(ModelError) {
        guard count + n <= capacity else { throw .contextFull(needed: count + n, capacity: capacity) }
        for l in 0..<layerCount where window[l] > 0 {
            let end = count + n
            if end - base[l] <= rowsPerLayer[l] { continue }
            // Keep what the first new query still sees: positions >= count - window + 1.
            let keep = max(0, count - window[l] + 1)
            let shift = keep - base[l]
            let kept = count - keep
            if kept > 0 {
                memmove(keys[l], keys[l] + shift * kvDim, kept * kvDim * 2)
                memmove(values[l], values[l] + shift * kvDim, kept * kvDim * 2)
            }
            base[l] = keep
        }
    }

    /// Row pointers for writing position `pos` of layer `l` (after reserve).
    @inline(__always) func keyRow(_ l: Int, _ pos: Int) -> UnsafeMutablePointer<UInt16> { keys[l] + (pos - base[l]) * kvDim }
    @inline(__always) func valueRow(_ l: Int, _ pos: Int) -> UnsafeMutablePointer<UInt16> { values[l] + (pos - base[l]) * kvDim }
    @inline(__always) func keyBase(_ l: Int) -> UnsafeMutablePointer<UInt16> { keys[l] }
    @inline(__always) func valueBase(_ l: Int) -> UnsafeMutablePointer<UInt16> { values[l] }
    @inline(__always) func layerBase(_ l: Int) -> Int { base[l] }

    func advance(_ n: Int) { count += n }

    /// Oldest position layer `l` still holds (0 for full-attention layers; sliding-window layers drop old rows).
    public func firstHeld(layer l: Int) -> Int { base[l] }

    /// Sliding-window length of layer `l` (0: full attention).
    public func slidingWindow(layer l: Int) -> Int { window[l] }

    /// Copies the f16 K and V rows of `positions` in layer `l` (each row kvDim values) to `keys` / `values`.
    /// The positions must be held: `firstHeld(layer:) <= lowerBound`, `upperBound <= count`.
    public func copyRows(layer l: Int, positions: Range<Int>, keys k: UnsafeMutablePointer<UInt16>,
                         values v: UnsafeMutablePointer<UInt16>) {
        precondition(positions.lowerBound >= base[l] && positions.upperBound <= count, "KV rows not held")
        let n = positions.count * kvDim
        k.update(from: keyRow(l, positions.lowerBound), count: n)
        v.update(from: valueRow(l, positions.lowerBound), count: n)
    }

    /// The positions layer `l` needs to hold for the next query after a prefix of `count` positions: all of them
    /// for full attention, the last window - 1 for a sliding-window layer (as `reserve` keeps).
    public func neededPositions(layer l: Int, count: Int) -> Range<Int> {
        window[l] > 0 ? max(0, count - window[l] + 1)..<count : 0..<count
    }

    /// Makes an empty cache hold positions 0..<count whose rows come from elsewhere (the prefix cache): for each layer,
    /// `fill(layer, positions, keys, values)` writes the rows of `neededPositions(layer:count:)` to the two pointers
    /// ([positions.count, kvDim] f16 each). Attention reads only those rows, so the result equals having computed them.
    public func restore(count newCount: Int,
                        fill: (Int, Range<Int>, UnsafeMutablePointer<UInt16>, UnsafeMutablePointer<UInt16>) -> Void)
        throws(ModelError) {
        precondition(count == 0, "restore needs an empty cache")
        guard newCount >= 0, newCount <= capacity else { throw .contextFull(needed: newCount, capacity: capacity) }
        for l in 0..<layerCount {
            let held = neededPositions(layer: l, count: newCount)
            precondition(held.count <= rowsPerLayer[l])
            base[l] = held.lowerBound
            if !held.isEmpty { fill(l, held, keys[l], values[l]) }
        }
        count = newCount
    }

    /// Forgets every position, so the cache can serve a new sequence (its pages stay mapped: a server reuses a slot's
    /// memory instead of mapping it again).
    public func reset() {
        count = 0
        for l in 0..<layerCount { base[l] = 0 }
    }

    /// Forgets positions from `newCount` on (to reuse a shared prefix). Sliding-window layers can only rewind while
    /// they still hold what the next query needs.
    public func rewind(to newCount: Int) throws(ModelError) {
        guard newCount <= count else { return }
        for l in 0..<layerCount where window[l] > 0 {
            let need = max(0, newCount - window[l] + 1)
            if need < base[l] { throw .cannotRewind(to: newCount, oldestKept: base[l]) }
        }
        count = max(newCount, 0)
    }
}
