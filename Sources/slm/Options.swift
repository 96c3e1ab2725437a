import ArgumentParser
import Foundation
import ModelStore
import GGUF
import SLMEngine
import Tokenizers

/// --model/-m, --threads/-t, --quiet: shared by every command that runs a model.
struct ModelOptions: ParsableArguments {
    @Option(name: [.customShort("m"), .long], help: ArgumentHelp(
        "A .gguf file, a model in the store (see `slm models`), or a name from Models/; fetched when not in the store.",
        valueName: "PATH|NAME"))
    var model: String = "smollm2-135m"

    @Option(name: [.customShort("t"), .long], help: ArgumentHelp(
        "Threads for compute (default: the number of cores).", valueName: "N"))
    var threads: Int?

    @Flag(name: .long, help: "Silence stderr except errors.")
    var quiet = false

    func validate() throws {
        if let t = threads, !(1...256).contains(t) { throw ValidationError("--threads must be in 1...256, got \(t)") }
    }

    var threadCount: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    /// Resolves the model (fetching a named one if needed) and loads it.
    func loadEngine(maxBatch: Int = 256) throws -> Engine {
        try loadEngineTimed(maxBatch: maxBatch).engine
    }

    /// Only the model file's tokenizer (`tokenizer.ggml.*`): enough for tokenize / detokenize, and all a vocab-only
    /// file (no tensors, as llama.cpp's models/ggml-vocab-*.gguf) holds.
    func loadTokenizer() throws -> any Tokenizers.Tokenizer {
        Stdio.quiet = quiet
        let url = try resolveModel(model, quiet: quiet)
        do {
            return try makeTokenizer(from: GGUFFile(path: url.path))
        } catch let error as GGUFError {
            throw CLIError.runtime(error.description.contains(url.path) ? error.description : "model file '\(url.path)': \(error.description)")
        } catch {
            throw CLIError.runtime("model file '\(url.path)': \(error)")
        }
    }

    /// `loadEngine`, with the milliseconds the load itself took (a download before it not included).
    func loadEngineTimed(maxBatch: Int = 256) throws -> (engine: Engine, milliseconds: Double) {
        Stdio.quiet = quiet
        let url = try resolveModel(model, quiet: quiet)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let engine = try Engine(modelPath: url.path, threads: threadCount, maxBatch: maxBatch)
            return (engine, milliseconds(clock.now - start))
        } catch {
            // Name the file: "not a GGUF file" alone does not say which of the user's files it was.
            let text = error.description
            throw CLIError.runtime(text.contains(url.path) ? text : "model file '\(url.path)': \(text)")
        }
    }
}

/// The file a --model value names (store lookups, fetching a known or Hugging Face model first).
/// A name that is neither a file nor a known model is a bad --model value (usage, exit 2, as `slm pull` of an
/// unknown name); a missing or unreadable path is a runtime error (exit 1).
func resolveModel(_ model: String, quiet: Bool) throws -> URL {
    try storeCall { () throws(ModelStoreError) in try ModelStore().resolve(model, progress: StderrProgress(quiet: quiet)) }
}

/// Wraps engine errors as runtime failures (exit 1); a setting the model cannot honour is a usage error (exit 2).
func runtime<T>(_ body: () throws(EngineError) -> T) throws -> T {
    do { return try body() } catch {
        if case .unsupported(let s) = error { throw CLIError.usage(s) }
        throw CLIError.runtime(error.description)
    }
}

/// The prompt argument, or stdin when absent or "-" (with a hint on stderr when stdin is a terminal, where a
/// command waiting for input would otherwise look hung).
func promptText(_ arg: String?, quiet: Bool) throws -> String {
    if let a = arg, a != "-" { return a }
    return try Stdio.readStdinText(what: "the prompt from stdin", hint: quiet ? nil : "the prompt")
}

func milliseconds(_ d: Duration) -> Double {
    let (s, atto) = d.components
    return Double(s) * 1000 + Double(atto) / 1e15
}
