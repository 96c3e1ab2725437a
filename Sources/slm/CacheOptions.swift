import ArgumentParser
import Foundation
import ModelStore
import SLMEngine

/// The prefix-cache flags of `slm generate` (docs/PREFIX_CACHE.md).
struct CacheOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Prefix-cache root directory (default: $SLM_HOME/cache).", valueName: "DIR"))
    var cacheDir: String?
    @Flag(name: .long, help: "Do not read or write the prefix cache.")
    var noCache = false
    @Option(name: .long, help: ArgumentHelp("Memory for cached prefix blocks: bytes, or with K/M/G (binary) suffix.",
                                            valueName: "BYTES|NNMB"))
    var cacheMem: String = "256MB"
    @Option(name: .long, help: ArgumentHelp("Disk space for this model's cached prefixes (LRU beyond it).",
                                            valueName: "BYTES|NNMB"))
    var cacheDiskMax: String = "2GB"

    func validate() throws {
        for (flag, value) in [("--cache-mem", cacheMem), ("--cache-disk-max", cacheDiskMax)] where parseByteSize(value) == nil {
            throw ValidationError("\(flag) must be a byte count such as 1048576, 512MB or 2GB, got '\(value)'")
        }
    }

    /// The cache for `engine`, or nil with --no-cache.
    func makeCache(for engine: Engine, quiet: Bool) -> PrefixCache? {
        guard !noCache else { return nil }
        var o = PrefixCacheOptions()
        o.memoryLimit = parseByteSize(cacheMem) ?? o.memoryLimit
        o.diskLimit = parseByteSize(cacheDiskMax) ?? o.diskLimit
        o.directory = cacheDir ?? defaultCacheRoot
        o.modelLabel = URL(fileURLWithPath: engine.file.path).lastPathComponent
        o.warn = { line in
            if !quiet { FileHandle.standardError.write(Data("warning: \(line)\n".utf8)) }
        }
        return PrefixCache(layout: KVLayout(engine: engine), options: o)
    }
}

/// The prefix cache's root when no --cache-dir is given: `cache/` in slm's home (`$SLM_HOME`, default ~/.cache/slm).
var defaultCacheRoot: String { ModelStore.defaultHome.appendingPathComponent("cache", isDirectory: true).path }

/// "1048576", "512K", "256MB", "2G", "1GiB" (K/M/G are powers of 1024), or nil.
func parseByteSize(_ text: String) -> Int? {
    var s = text.trimmingCharacters(in: .whitespaces).uppercased()
    for suffix in ["IB", "B"] where s.hasSuffix(suffix) && s.count > suffix.count {
        s.removeLast(suffix.count)
        break
    }
    var scale = 1
    if let last = s.last, let shift = ["K": 10, "M": 20, "G": 30, "T": 40][String(last)] {
        scale = 1 << shift
        s.removeLast()
    }
    guard let n = Int(s), n >= 0 else { return nil }
    let (v, overflow) = n.multipliedReportingOverflow(by: scale)
    return overflow ? nil : v
}
