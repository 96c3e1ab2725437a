import ArgumentParser
import SLMEngine

/// The sampler's flags, shared by `slm generate` and `slm chat`.
struct SamplingOptions: ParsableArguments {
    @Option(name: .long, help: "Sampling temperature; 0 = greedy.") var temperature: Float = 0.7
    @Option(name: .long, help: "Keep the K most likely tokens (0 = all).") var topK: Int = 40
    @Option(name: .long, help: "Nucleus sampling threshold (1 = off).") var topP: Float = 0.95
    @Option(name: .long, help: "Minimum probability relative to the best token (0 = off).") var minP: Float = 0.05
    @Option(name: .long, help: "Penalty for tokens among the last 64 (1 = off).") var repeatPenalty: Float = 1.0
    @Option(name: .long, help: "Random seed: same seed, options and machine give the same text.") var seed: UInt64 = 0xC0FFEE

    func validate() throws {
        guard temperature.isFinite, temperature >= 0, temperature <= 100 else { throw ValidationError("--temperature must be in 0...100") }
        guard topK >= 0 else { throw ValidationError("--top-k must be >= 0") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw ValidationError("--min-p must be in [0, 1]") }
        guard repeatPenalty.isFinite, repeatPenalty > 0, repeatPenalty <= 100 else { throw ValidationError("--repeat-penalty must be in (0, 100]") }
    }

    var parameters: SamplingParameters {
        var p = SamplingParameters()
        p.temperature = temperature
        p.topK = topK
        p.topP = topP
        p.minP = minP
        p.repeatPenalty = repeatPenalty
        p.seed = seed
        return p
    }
}
