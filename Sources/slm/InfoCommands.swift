import ArgumentParser
import Foundation
import GGUF
import SLMEngine
import SLMModels
import Tokenizers

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Architecture, hyperparameters, tokenizer, tensor types, file size and kernels of a model.",
        discussion: """
            Examples:
              slm info
              slm info -m gemma3-270m --json
              slm info -m ggml-vocab-qwen2.gguf   # vocab-only file: tokenizer only
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Flag(name: .long, help: "Print one JSON object instead of text.") var json = false

    func run() throws {
        let url = try resolveModel(modelOptions.model, quiet: modelOptions.quiet)
        let report: ModelReport
        if let file = try? GGUFFile(path: url.path), file.tensors.isEmpty {
            report = ModelReport(vocabOnly: file, tokenizer: try modelOptions.loadTokenizer())
        } else {
            report = ModelReport(try modelOptions.loadEngine(maxBatch: 1))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            Stdio.out(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n")
        } else {
            Stdio.out(report.text)
        }
    }
}

/// What `slm info` reports, as text and (the same fields) as JSON.
struct ModelReport: Encodable {
    struct Tokenizer: Encodable {
        var model: String?
        var pre: String?
        var vocabularySize: Int
        var addBos: Bool
        var bos: Int32?
        var eos: Int32?
    }
    struct Kernels: Encodable {
        var isa: String
        var cpuBest: String
        var avx512Vnni: Bool
        var packedWeights: Bool
        var openblas: Bool
        var wideRows: Bool
        var threads: Int
    }

    var file: String
    var fileSize: Int
    var ggufVersion: Int
    var name: String?
    var architecture: String
    /// A file with tokenizer metadata and no tensors (llama.cpp's models/ggml-vocab-*.gguf): the model's fields
    /// below are nil (absent from the JSON).
    var vocabOnly = false
    var contextLength: Int?
    var embeddingLength: Int?
    var layers: Int?
    var heads: Int?
    var headsKv: Int?
    var headDim: Int?
    var feedForwardLength: Int?
    /// Per layer; 0 = global attention.
    var slidingWindow: [Int]?
    var tokenizer: Tokenizer
    var chatTemplate: String?
    var tensorCount: Int
    var tensorTypes: [String: Int]
    var parameters: Int
    var kernels: Kernels?

    init(vocabOnly f: GGUFFile, tokenizer tok: any Tokenizers.Tokenizer) {
        func meta(_ key: String) -> String? { (try? f.optionalString(key)).flatMap { $0 } }
        file = f.path
        fileSize = f.fileSize
        ggufVersion = Int(f.version)
        name = meta("general.name")
        architecture = meta("general.architecture") ?? "-"
        vocabOnly = true
        tokenizer = Tokenizer(model: meta("tokenizer.ggml.model"), pre: meta("tokenizer.ggml.pre"),
                              vocabularySize: tok.vocabularySize, addBos: tok.addBOS, bos: tok.bosToken,
                              eos: tok.eosToken)
        chatTemplate = meta("tokenizer.chat_template").map { templateSummary($0, origin: "from the file") } ?? "none"
        tensorCount = 0
        tensorTypes = [:]
        parameters = 0
    }

    init(_ engine: Engine) {
        let f = engine.file, c = engine.config
        func meta(_ key: String) -> String? { (try? f.optionalString(key)).flatMap { $0 } }
        file = f.path
        fileSize = f.fileSize
        ggufVersion = Int(f.version)
        name = meta("general.name")
        architecture = c.architecture
        contextLength = c.trainedContextLength
        embeddingLength = c.embeddingLength
        layers = c.layerCount
        heads = c.headCount
        headsKv = c.headCountKV
        headDim = c.headDim
        feedForwardLength = c.feedForwardLength
        slidingWindow = c.slidingWindow
        tokenizer = Tokenizer(model: meta("tokenizer.ggml.model"), pre: meta("tokenizer.ggml.pre"),
                              vocabularySize: c.vocabularySize, addBos: engine.tokenizer.addBOS,
                              bos: engine.tokenizer.bosToken, eos: engine.tokenizer.eosToken)
        chatTemplate = chatTemplateSummary(engine)
        tensorCount = f.tensors.count
        var byType: [String: Int] = [:]
        for t in f.tensors { byType[t.type.description, default: 0] += 1 }
        tensorTypes = byType
        parameters = f.tensors.reduce(0) { $0 + $1.elementCount }
        let k = KernelPath.current
        kernels = Kernels(isa: k.isa, cpuBest: k.cpuBest, avx512Vnni: k.vnni, packedWeights: k.packed, openblas: k.blas,
                          wideRows: k.wideRows, threads: engine.threads)
    }

    var text: String {
        var lines: [String] = []
        func add(_ k: String, _ v: Any) {
            lines.append(k.padding(toLength: 22, withPad: " ", startingAt: 0) + Escapes.visible("\(v)"))
        }
        add("file", file)
        add("file size", "\(fileSize) bytes (\(String(format: "%.1f", Double(fileSize) / 1_048_576)) MiB)")
        add("gguf version", ggufVersion)
        add("name", name ?? "-")
        add("architecture", architecture)
        if vocabOnly {
            add("vocab only", "no tensors: tokenize and detokenize work; generation needs a file with the weights")
        }
        if let contextLength, let embeddingLength, let layers, let heads, let headsKv, let headDim,
           let feedForwardLength, let slidingWindow {
            add("context (trained)", contextLength)
            add("embedding length", embeddingLength)
            add("layers", layers)
            add("heads (q / kv)", "\(heads) / \(headsKv)")
            add("head dim", headDim)
            add("feed-forward length", feedForwardLength)
            let windowed = slidingWindow.filter { $0 > 0 }
            if !windowed.isEmpty {
                add("sliding window", "\(Set(windowed).sorted().map(String.init).joined(separator: ",")) on \(windowed.count) of \(layers) layers")
            }
        }
        add("vocabulary", tokenizer.vocabularySize)
        add("tokenizer", (tokenizer.model ?? "-") + " (pre: " + (tokenizer.pre ?? "-") + ")")
        add("add BOS", tokenizer.addBos)
        add("chat template", chatTemplate ?? "none")
        add("tensors", tensorCount == 0 ? "0" : "\(tensorCount): " + tensorTypes.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        add("parameters", "\(parameters) (\(String(format: "%.1f", Double(parameters) / 1e6))M)")
        guard let kernels else { return lines.joined(separator: "\n") + "\n" }
        let vnni = kernels.avx512Vnni ? " + VNNI" : ""
        add("kernels", "\(kernels.isa) (this CPU: \(kernels.cpuBest)\(vnni); SLM_ISA=ref forces the scalar ones), "
            + (kernels.packedWeights ? "packed weights" : "weights from the file mapping (SLM_PACK=0)")
            + (kernels.openblas ? ", OpenBLAS for several-token products over unpacked weights (SLM_MATMUL=blas)" : "")
            + (kernels.wideRows ? ", 16-row 512-bit kernels for several-token products (SLM_ZMM16=0 turns them off)" : "")
            + ", \(kernels.threads) threads")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// "none", or where the template comes from and its first line (a note when the file's own cannot be used).
func chatTemplateSummary(_ engine: Engine) -> String {
    guard let t = engine.chatTemplate else { return engine.chatTemplateNote.map { "none (\($0))" } ?? "none" }
    switch t.origin {
    case .modelFile: return templateSummary(t.source, origin: "from the file")
    case .builtin(let name): return "built-in \(name) (\(engine.chatTemplateNote ?? ""))"
    case .file(let path): return "from \(path)"
    }
}

/// "ORIGIN (N bytes), first line: ...": the first non-empty line, cut at 100 characters.
func templateSummary(_ source: String, origin: String) -> String {
    var line = source.split(separator: "\n").first { !$0.allSatisfy(\.isWhitespace) }.map(String.init) ?? ""
    if line.unicodeScalars.count > 100 { line = String(line.unicodeScalars.prefix(100)) + "..." }
    return "\(origin) (\(source.utf8.count) bytes), first line: \(line)"
}
