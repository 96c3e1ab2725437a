import ArgumentParser
import Foundation
import SLMEngine

/// `slm cache stats|list|clear`: inspect or empty the prefix cache's disk tier.
struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect or clear the prefix cache (KV of prompt prefixes kept on disk).",
        discussion: """
            The cache lives in $SLM_HOME/cache (default ~/.cache/slm/cache), one directory per model id (a \
            fingerprint of the model file and the kernels), named by the model file that last used it.
            """,
        subcommands: [CacheStats.self, CacheList.self, CacheClear.self])
}

struct CacheRoot: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Prefix-cache root directory (default: $SLM_HOME/cache).", valueName: "DIR"))
    var cacheDir: String?

    var path: String { cacheDir ?? defaultCacheRoot }
}

struct CacheStats: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Blocks, tokens and bytes per model.")
    @OptionGroup var root: CacheRoot

    func run() throws {
        let models = CacheDirectory.models(root: root.path)
        Stdio.out("cache: \(root.path)\n")
        var allBytes = 0
        for (model, files) in models {
            let blocks = files.filter { !$0.isTemp }
            let described = blocks.compactMap(CacheDirectory.describe)
            let tokens = described.reduce(0) { $0 + $1.tokens }
            let bytes = blocks.reduce(0) { $0 + $1.size }
            let temps = files.count - blocks.count
            allBytes += files.reduce(0) { $0 + $1.size }
            let perToken = tokens > 0 ? bytes / tokens : 0
            let label = CacheDirectory.label(root: root.path, model: model).map { Escapes.visible($0) } ?? "unnamed model"
            Stdio.out("\(label) (id \(model)): \(blocks.count) blocks, \(tokens) tokens, \(bytes) bytes (\(perToken) bytes/token)"
                + (temps > 0 ? ", \(temps) temporary files" : "")
                + (described.count < blocks.count ? ", \(blocks.count - described.count) unreadable" : "") + "\n")
        }
        Stdio.out("total: \(models.count) models, \(allBytes) bytes\n")
    }
}

struct CacheList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "One line per cached block: model, position, tokens, bytes, last use, hash.")
    @OptionGroup var root: CacheRoot

    func run() throws {
        let formatter = ISO8601DateFormatter()
        for (id, files) in CacheDirectory.models(root: root.path) {
            let model = CacheDirectory.label(root: root.path, model: id).map { Escapes.visible($0) } ?? id
            for f in files.sorted(by: { ($0.index, $0.path) < ($1.index, $1.path) }) {
                let when = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(f.mtime)))
                if let d = CacheDirectory.describe(f) {
                    let pos = d.index * d.tokens
                    Stdio.out("\(model)  positions \(pos)..<\(pos + d.tokens)  \(f.size) bytes  \(when)  \(d.hash)\n")
                } else {
                    Stdio.out("\(model)  \(f.isTemp ? "temporary" : "invalid")  \(f.size) bytes  \(when)  \((f.path as NSString).lastPathComponent)\n")
                }
            }
        }
    }
}

struct CacheClear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear", abstract: "Delete every cached block, and the model directories left empty.")
    @OptionGroup var root: CacheRoot

    func run() throws {
        let (files, bytes, directories) = CacheDirectory.clear(root: root.path)
        Stdio.info("removed \(files) files, \(bytes) bytes and \(directories) empty model directories from \(root.path)")
    }
}
