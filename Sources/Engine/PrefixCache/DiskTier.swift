import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The on-disk tier of one model's prefix cache: one file per block, `<root>/<model id>/b<index>-<hash>.kvb`.
///
/// Safe for several processes at once without locks: files are only ever created by rename of a finished, fsynced
/// temporary file, so a reader sees a whole file or none; two writers of one block write the same bytes; a reader
/// whose file is evicted under it keeps its open descriptor or sees a miss. Access time is the file's mtime (touched
/// on every hit), which eviction sorts by.
final class DiskTier: @unchecked Sendable {
    let directory: String
    let limit: Int
    private let layout: KVLayout
    private let lock = NSLock()
    private var tempCounter = 0

    /// Temporary files older than this are left over from a killed process and may be deleted.
    static let staleTempSeconds = 600

    /// Creates `<root>/<model id>/` (a failure is thrown as the errno text naming the directory) and, when the
    /// model's label file is missing or says something else, writes `label` there for `slm cache stats`.
    init(root: String, layout: KVLayout, limit: Int, label: String? = nil) throws {
        directory = (root as NSString).appendingPathComponent(layout.modelID.description)
        self.layout = layout
        self.limit = limit
        if let failure = CacheDirectory.makeDirectories(directory) { throw failure }
        if let label, CacheDirectory.label(ofModelDirectory: directory) != label {
            let temp = directory + "/.tmp-label-\(getpid())"
            if FileManager.default.createFile(atPath: temp, contents: Data((label + "\n").utf8)) {
                if rename(temp, directory + "/" + CacheDirectory.labelFile) != 0 { unlink(temp) }
            }
        }
    }

    func path(index: Int, hash: Hash128) -> String {
        directory + "/" + DiskTier.fileName(index: index, hash: hash)
    }

    static func fileName(index: Int, hash: Hash128) -> String {
        let i = String(index)
        return "b" + String(repeating: "0", count: max(0, 6 - i.count)) + i + "-" + hash.description + ".kvb"
    }

    /// nil: no such file (a plain miss).
    func read(index: Int, hash: Hash128, parent: Hash128, tokens: ArraySlice<Int32>) -> Result<KVBlock, BlockFileProblem>? {
        BlockFile.read(path: path(index: index, hash: hash), layout: layout, index: index, hash: hash, parent: parent, tokens: tokens)
    }

    func touch(index: Int, hash: Hash128) { touch(path(index: index, hash: hash)) }

    private func touch(_ p: String) { _ = utimensat(AT_FDCWD, p, nil, 0) }

    /// Deletes a file found invalid, so the recomputed block replaces it.
    func remove(index: Int, hash: Hash128) { unlink(path(index: index, hash: hash)) }

    /// Writes `block` unless a file for it exists already (then only touches it). Returns errno on failure.
    func write(_ block: KVBlock) -> Int32? {
        let p = path(index: block.index, hash: block.hash)
        if access(p, F_OK) == 0 { touch(p); return nil }
        let n = lock.withLock { tempCounter += 1; return tempCounter }
        let temp = directory + "/.tmp-\(getpid())-\(n)-\(UInt32.random(in: 0...UInt32.max))-" + DiskTier.fileName(index: block.index, hash: block.hash)
        var err = BlockFile.write(block, to: p, tempPath: temp)
        // Another process may have cleared the directory away (`slm cache clear`), even between our making it again
        // and writing: make it again, a bounded number of times.
        for _ in 0..<DiskTier.recreateAttempts {
            guard err == ENOENT, CacheDirectory.makeDirectories(directory) == nil else { return err }
            err = BlockFile.write(block, to: p, tempPath: temp)
        }
        return err
    }

    /// How often one write makes its cleared directory again before it gives up.
    static let recreateAttempts = 4

    /// Deletes least recently used block files until the directory holds at most `limit` bytes, and temporary files
    /// that a killed process left behind.
    func enforceLimit() {
        let files = CacheDirectory.files(in: directory)
        var total = 0
        var blocks: [CacheDirectory.File] = []
        let now = Int(Date().timeIntervalSince1970)
        for f in files {
            if f.isTemp {
                if now - f.mtime > DiskTier.staleTempSeconds { unlink(f.path) } else { total += f.size }
            } else {
                total += f.size
                blocks.append(f)
            }
        }
        guard total > limit else { return }
        // Oldest first (store and lookup touch a prefix's blocks deepest first, so parents outlive their children);
        // on a file system with coarse timestamps, deeper blocks first among equals.
        blocks.sort { ($0.mtimeNanos, -$0.index) < ($1.mtimeNanos, -$1.index) }
        for f in blocks where total > limit {
            unlink(f.path)
            total -= f.size
        }
    }
}

/// Read-only views and clearing of a cache root, for `slm cache` and the tests.
public enum CacheDirectory {
    public struct File: Sendable {
        public var path: String
        public var model: String
        public var index: Int
        public var size: Int
        /// Last access (mtime), seconds since the epoch.
        public var mtime: Int { mtimeNanos / 1_000_000_000 }
        /// Last access in nanoseconds since the epoch.
        public var mtimeNanos: Int
        public var isTemp: Bool
    }

    /// Block and temporary files directly in one model directory.
    static func files(in directory: String) -> [File] {
        let model = (directory as NSString).lastPathComponent
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.compactMap { name in
            let isTemp = name.hasPrefix(".tmp-")
            guard name.hasSuffix(".kvb") else { return nil }
            let path = directory + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            let base = isTemp ? String(name.split(separator: "-").last(where: { $0.hasSuffix(".kvb") }) ?? "") : name
            let index = base.hasPrefix("b") ? Int(base.dropFirst().prefix(6)) ?? 0 : 0
            return File(path: path, model: model, index: index, size: Int(st.st_size), mtimeNanos: modificationNanos(st),
                        isTemp: isTemp)
        }
    }

    /// Every model directory under `root` (named by a 32-digit model id) and its files.
    public static func models(root: String) -> [(model: String, files: [File])] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        return names.sorted().compactMap { name in
            guard Hash128(hex: Substring(name)) != nil else { return nil }
            return (name, files(in: root + "/" + name))
        }
    }

    /// Deletes every block file under `root`, and temporary files old enough to be a killed writer's (a fresh one may
    /// be another process's write in progress), then each model directory left with nothing but its label. A process
    /// writing at that moment makes its directory again (`DiskTier.write`). Returns the files and bytes removed and
    /// the directories removed.
    @discardableResult
    public static func clear(root: String) -> (files: Int, bytes: Int, directories: Int) {
        var n = 0, bytes = 0, dirs = 0
        for (model, files) in models(root: root) {
            let now = Int(Date().timeIntervalSince1970)
            for f in files where !f.isTemp || now - f.mtime > DiskTier.staleTempSeconds {
                if unlink(f.path) == 0 { n += 1; bytes += f.size }
            }
            let dir = root + "/" + model
            let rest = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            if rest.allSatisfy({ $0 == labelFile }) {
                unlink(dir + "/" + labelFile)
                if rmdir(dir) == 0 { dirs += 1 }
            }
        }
        return (n, bytes, dirs)
    }

    /// The file in a model directory that names the model (`PrefixCacheOptions.modelLabel`).
    public static let labelFile = "model"

    /// The label of the model directory `<root>/<model>`, nil when it has none.
    public static func label(root: String, model: String) -> String? {
        label(ofModelDirectory: root + "/" + model)
    }

    static func label(ofModelDirectory directory: String) -> String? {
        guard let data = FileManager.default.contents(atPath: directory + "/" + labelFile), data.count <= 4096 else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// mkdir -p; nil, or an error naming the directory that could not be made and why (errno's text).
    static func makeDirectories(_ path: String) -> CacheDirectoryError? {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                return CacheDirectoryError(path: prefix, reason: String(cString: strerror(errno)))
            }
            var st = stat()
            if stat(prefix, &st) != 0 || (st.st_mode & S_IFMT) != S_IFDIR {
                return CacheDirectoryError(path: prefix, reason: String(cString: strerror(ENOTDIR)))
            }
        }
        return nil
    }

    /// The header fields of a block file, for listings: (block index, token count, payload bytes), or nil if invalid.
    public static func describe(_ file: File) -> (index: Int, tokens: Int, hash: String)? {
        guard !file.isTemp, let h = BlockFile.readHeader(path: file.path) else { return nil }
        return (Int(clamping: h.blockIndex), Int(h.blockTokens), h.hash.description)
    }
}

/// A cache directory that cannot be made: "'/dev/null/x': Not a directory".
struct CacheDirectoryError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "'\(path)': \(reason)" }
}

private func modificationNanos(_ st: stat) -> Int {
    #if canImport(Darwin)
    let t = st.st_mtimespec
    #else
    let t = st.st_mtim
    #endif
    return Int(t.tv_sec) &* 1_000_000_000 &+ Int(t.tv_nsec)
}
