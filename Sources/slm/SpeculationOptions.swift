import ArgumentParser
import SLMEngine

/// The speculative-decoding flags of `slm generate` (docs/INTERFACE.md): prompt-lookup drafts verified in one
/// forward pass; the output is the same with or without them.
struct SpeculationOptions: ParsableArguments {
    @Flag(name: .long, help: "Decode one token per forward pass (no prompt-lookup drafts); the output is the same.")
    var noSpeculate = false
    @Option(name: .long, help: ArgumentHelp("Most draft tokens verified per forward pass (1...32, default \(Speculation.defaultDraftMax)).",
                                            valueName: "N"))
    var draftMax: Int?

    func validate() throws {
        if let n = draftMax, !(1...32).contains(n) { throw ValidationError("--draft-max must be in 1...32, got \(n)") }
        if noSpeculate && draftMax != nil { throw ValidationError("--no-speculate and --draft-max exclude each other") }
    }

    var speculation: Speculation {
        noSpeculate ? .off : Speculation(draftMax: draftMax ?? Speculation.defaultDraftMax)
    }
}
