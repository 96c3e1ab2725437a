import ArgumentParser
import Foundation
import SLMEngine

/// The speculative-decoding flags of `slm generate` (docs/INTERFACE.md): prompt-lookup drafts verified in one
/// forward pass; the output is the same with or without them.
struct SpeculationOptions: ParsableArguments {
    @Flag(name: .long, help: "Decode one token per forward pass (no prompt-lookup drafts); the output is the same.")
    var noSpeculate = false
    @Option(name: .long, help: ArgumentHelp("Most draft tokens verified per forward pass (1...32, default \(Speculation.defaultDraftMax)).",
                                            valueName: "N"))
    var draftMax: Int?
    @Option(name: .long, help: ArgumentHelp("Fewest trailing tokens that must match earlier text to draft from it (1...8, default 3).",
                                            valueName: "N"))
    var draftMinMatch: Int?
    @Option(name: .long, help: ArgumentHelp(
        "A smaller model with the same tokenizer that drafts where prompt lookup finds nothing (a .gguf file or a model name).",
        valueName: "PATH|NAME"))
    var draftModel: String?

    func validate() throws {
        if let n = draftMax, !(1...32).contains(n) { throw ValidationError("--draft-max must be in 1...32, got \(n)") }
        if let n = draftMinMatch, !(1...8).contains(n) { throw ValidationError("--draft-min-match must be in 1...8, got \(n)") }
        if noSpeculate && (draftMax != nil || draftMinMatch != nil || draftModel != nil) {
            throw ValidationError("--no-speculate excludes --draft-max, --draft-min-match and --draft-model")
        }
    }

    var speculation: Speculation {
        noSpeculate ? .off : Speculation(draftMax: draftMax ?? Speculation.defaultDraftMax,
                                         minMatch: draftMinMatch ?? Speculation.defaultMinMatch)
    }

    /// The --draft-model engine, checked against `target`'s tokenizer; nil without the flag.
    func loadDraftModel(for target: Engine, quiet: Bool) throws -> DraftModel? {
        guard let name = draftModel else { return nil }
        let url = try resolveModel(name, quiet: quiet)
        do {
            let engine = try Engine(modelPath: url.path, threads: target.threads, maxBatch: 64)
            return try DraftModel(engine, for: target)
        } catch {
            throw CLIError.runtime("--draft-model '\(url.path)': \(error.description)")
        }
    }
}
