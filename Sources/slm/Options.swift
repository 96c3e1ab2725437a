import ArgumentParser
import Foundation
import ModelStore
import SLMEngine

/// --model, --threads, --quiet: shared by every command that runs a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A .gguf file, or a model name from Models/ (smollm2-135m, gemma3-270m); fetched when not in the store.",
        valueName: "PATH|NAME"))
    var model: String = "smollm2-135m"

    @Option(name: .long, help: "Threads for compute (default: the number of cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .long, help: "Silence stderr except errors.")
    var quiet = false

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1...256, got \(threads)") }
    }

    /// Resolves the model (fetching a named one if needed) and loads it.
    func loadEngine(maxBatch: Int = 256) throws -> Engine {
        Stdio.quiet = quiet
        let store = ModelStore()
        let url: URL
        do { url = try store.resolve(model, progress: StderrProgress(quiet: quiet)) } catch {
            // A name that is neither a file nor a known model is a bad --model value (usage, exit 2, as `slm pull`
            // of an unknown name); a missing or unreadable path is a runtime error (exit 1).
            if case .unknownModel = error { throw CLIError.usage(error.description) }
            throw CLIError.runtime(error.description)
        }
        do { return try Engine(modelPath: url.path, threads: threads, maxBatch: maxBatch) } catch {
            throw CLIError.runtime(error.description)
        }
    }
}

/// Wraps engine errors as runtime failures (exit 1).
func runtime<T>(_ body: () throws(EngineError) -> T) throws -> T {
    do { return try body() } catch { throw CLIError.runtime(error.description) }
}

/// The prompt argument, or stdin when absent or "-".
func promptText(_ arg: String?) throws -> String {
    if let a = arg, a != "-" { return a }
    return try Stdio.readStdinText(what: "the prompt from stdin")
}
