import Foundation

/// Where and how much the prefix cache may keep.
public struct PrefixCacheOptions: Sendable {
    /// Bytes of blocks the in-memory index may hold (blocks still used by a sequence live on outside it).
    public var memoryLimit = 256 << 20
    /// Root of the disk tier (this model's files go in `<directory>/<model id>/`); nil: memory only.
    public var directory: String?
    /// Bytes this model's directory may hold.
    public var diskLimit = 2 << 30
    /// Names the model in `slm cache stats` (written once to `<directory>/<model id>/model`), e.g. its file name.
    public var modelLabel: String?
    /// Receives one line per problem (a skipped file, a failed write); the cache never fails a request.
    public var warn: @Sendable (String) -> Void = { _ in }

    public init() {}
}

/// The prefix cache: KV blocks of token prefixes, content-addressed by chained block hashes, shared by reference,
/// kept in memory under an LRU budget and on disk under a size cap (docs/PREFIX_CACHE.md).
///
/// Thread-safe: the index is guarded by a lock; disk reads and writes run outside it.
public final class PrefixCache: @unchecked Sendable {
    public let layout: KVLayout
    public let options: PrefixCacheOptions
    let disk: DiskTier?

    private let lock = NSLock()
    private var index: [Hash128: KVBlock] = [:]
    private var clock: UInt64 = 0
    private var bytes = 0
    private var diskWritable = true

    public init(layout: KVLayout, options: PrefixCacheOptions) {
        self.layout = layout
        self.options = options
        var disk: DiskTier? = nil
        if let root = options.directory {
            do { disk = try DiskTier(root: root, layout: layout, limit: options.diskLimit, label: options.modelLabel) } catch {
                options.warn("prefix cache: cannot use directory '\(root)' (\(error)); using memory only")
            }
        }
        self.disk = disk
    }

    /// Bytes of blocks in the in-memory index (always <= options.memoryLimit).
    public var memoryBytes: Int { lock.withLock { bytes } }
    public var memoryBlockCount: Int { lock.withLock { index.count } }

    /// The longest run of cached blocks that begins `tokens`: consecutive complete blocks from position 0, found in
    /// memory or read lazily from disk (a file that fails validation is reported, deleted and ends the run).
    public func lookup(_ tokens: [Int32]) -> [KVBlock] {
        let bt = layout.blockTokens
        var found: [KVBlock] = []
        var parent = layout.root
        for i in 0..<(tokens.count / bt) {
            let slice = tokens[(i * bt)..<((i + 1) * bt)]
            let hash = layout.chain(parent, slice)
            var block = lock.withLock { index[hash] }
            if let b = block, !(b.parent == parent && b.tokens.elementsEqual(slice)) { block = nil }
            if block == nil, let disk {
                switch disk.read(index: i, hash: hash, parent: parent, tokens: slice) {
                case nil: break
                case .success(let b):
                    block = b
                    insert([b])
                case .failure(let problem):
                    options.warn("prefix cache: skipping \(disk.path(index: i, hash: hash)): \(problem); recomputing it")
                    disk.remove(index: i, hash: hash)
                }
            }
            guard let b = block else { break }
            found.append(b)
            parent = hash
        }
        // Deepest first, so that by access time a prefix's parents are never older than its children.
        for b in found.reversed() { disk?.touch(index: b.index, hash: b.hash) }
        lock.withLock {
            clock += 1
            for b in found { b.lastUse = clock }
        }
        return found
    }

    /// Adds a prompt's blocks (those restored and those newly computed, in order) to memory and to disk (files that
    /// exist already are only touched), then evicts down to both caps. Deepest first, so that by access time a
    /// prefix's parents are never older than its children.
    public func store(_ blocks: [KVBlock]) {
        guard !blocks.isEmpty else { return }
        insert(blocks)
        guard let disk, lock.withLock({ diskWritable }) else { return }
        for b in blocks.reversed() {
            if let err = disk.write(b) {
                // Still cleared away after DiskTier's attempts: other processes are clearing the cache right now,
                // which is no reason to stop saving for the rest of the run; the next store tries again.
                if err == ENOENT { break }
                lock.withLock { diskWritable = false }
                options.warn("prefix cache: cannot write to \(disk.directory) (\(String(cString: strerror(err)))); not saving prefixes this run")
                break
            }
        }
        disk.enforceLimit()
    }

    /// Adds blocks to the in-memory index only, so that other sequences find them at once; `store` later writes them
    /// to disk as well.
    public func publish(_ blocks: [KVBlock]) {
        guard !blocks.isEmpty else { return }
        insert(blocks)
    }

    /// Empties the in-memory index (the disk tier is untouched).
    public func clearMemory() {
        lock.withLock {
            index.removeAll()
            bytes = 0
        }
    }

    private func insert(_ blocks: [KVBlock]) {
        lock.withLock {
            clock += 1
            for b in blocks where b.layout == layout {
                b.lastUse = clock
                if index[b.hash] == nil {
                    index[b.hash] = b
                    bytes += b.byteCount
                }
            }
            evictLocked()
        }
    }

    /// Least recently used first; among equals, deeper blocks first, so a prefix's parents outlive its children.
    private func evictLocked() {
        guard bytes > options.memoryLimit else { return }
        let order = index.values.sorted { ($0.lastUse, -$0.index) < ($1.lastUse, -$1.index) }
        for b in order where bytes > options.memoryLimit {
            index[b.hash] = nil
            bytes -= b.byteCount
        }
    }
}
