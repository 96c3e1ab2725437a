import SLMModels

/// The K and V rows of every layer for `blockTokens` consecutive positions of one token prefix: the unit the prefix
/// cache stores, shares and evicts. Immutable once filled; shared by reference (ARC counts the sequences and the index
/// that hold it), so a block evicted from the index stays valid for whoever is still restoring from it.
public final class KVBlock: @unchecked Sendable {
    public let layout: KVLayout
    /// Position of the block's first token / blockTokens.
    public let index: Int
    public let hash: Hash128
    public let parent: Hash128
    public let tokens: [Int32]
    /// [layer][K, V][blockTokens, kvDim] f16.
    let storage: UnsafeMutablePointer<UInt16>
    /// Last use, in the owning cache's clock (guarded by its lock).
    var lastUse: UInt64 = 0

    init(layout: KVLayout, index: Int, hash: Hash128, parent: Hash128, tokens: [Int32]) {
        precondition(tokens.count == layout.blockTokens)
        self.layout = layout
        self.index = index
        self.hash = hash
        self.parent = parent
        self.tokens = tokens
        storage = .allocate(capacity: layout.payloadBytes / 2)
    }

    deinit { storage.deallocate() }

    public var byteCount: Int { layout.payloadBytes }
    public var firstPosition: Int { index * layout.blockTokens }

    func keys(_ l: Int) -> UnsafeMutablePointer<UInt16> { storage + (2 * l) * layout.valuesPerLayerHalf }
    func values(_ l: Int) -> UnsafeMutablePointer<UInt16> { storage + (2 * l + 1) * layout.valuesPerLayerHalf }

    var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: storage, count: layout.payloadBytes)
    }

    /// Copies this block's positions out of `cache`, or returns nil when a sliding-window layer no longer holds them.
    static func capture(from cache: KVCache, layout: KVLayout, index: Int, hash: Hash128, parent: Hash128,
                        tokens: [Int32]) -> KVBlock? {
        let start = index * layout.blockTokens
        let positions = start..<(start + layout.blockTokens)
        guard cache.layerCount == layout.layerCount, cache.kvDim == layout.kvDim, positions.upperBound <= cache.count
        else { return nil }
        for l in 0..<layout.layerCount where cache.firstHeld(layer: l) > start { return nil }
        let block = KVBlock(layout: layout, index: index, hash: hash, parent: parent, tokens: tokens)
        for l in 0..<layout.layerCount {
            cache.copyRows(layer: l, positions: positions, keys: block.keys(l), values: block.values(l))
        }
        return block
    }
}

extension KVCache {
    /// Fills this empty cache with the first `count` positions held by `blocks` (consecutive blocks from index 0;
    /// count <= blocks.count * blockTokens).
    func restore(count: Int, from blocks: [KVBlock]) throws(ModelError) {
        guard let layout = blocks.first?.layout else { return }
        precondition(count <= blocks.count * layout.blockTokens)
        let bt = layout.blockTokens, d = kvDim
        try restore(count: count) { l, positions, k, v in
            var p = positions.lowerBound
            while p < positions.upperBound {
                let b = blocks[p / bt]
                let row = p - b.firstPosition
                let n = min(bt - row, positions.upperBound - p)
                let dst = (p - positions.lowerBound) * d
                (k + dst).update(from: b.keys(l) + row * d, count: n * d)
                (v + dst).update(from: b.values(l) + row * d, count: n * d)
                p += n
            }
        }
    }
}
