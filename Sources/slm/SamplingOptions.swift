import ArgumentParser
import SLMEngine

/// The sampler's flags, shared by `slm generate` and `slm chat`; defaults from `SamplingParameters()`.
struct SamplingOptions: ParsableArguments {
    @Option(name: [.long, .customLong("temp")], help: "Sampling temperature; 0 = greedy.")
    var temperature: Float = SamplingParameters().temperature
    @Option(name: .long, help: "Keep the K most likely tokens (0 = all).") var topK: Int = SamplingParameters().topK
    @Option(name: .long, help: "Nucleus sampling threshold (1 = off).") var topP: Float = SamplingParameters().topP
    @Option(name: .long, help: "Minimum probability relative to the best token (0 = off).") var minP: Float = SamplingParameters().minP
    @Option(name: .long, help: "Penalty for tokens among the last \(SamplingParameters().repeatWindow) (1 = off).")
    var repeatPenalty: Float = SamplingParameters().repeatPenalty
    @Option(name: [.customShort("s"), .long], parsing: .unconditional, help: ArgumentHelp(
        "Random seed; absent or -1: a random one. The seed used is in the summary and --stats-file.", valueName: "N"))
    var seed: SeedArgument?

    func validate() throws {
        guard temperature.isFinite, temperature >= 0, temperature <= 100 else { throw ValidationError("--temperature must be in 0...100") }
        guard topK >= 0 else { throw ValidationError("--top-k must be >= 0") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw ValidationError("--min-p must be in [0, 1]") }
        guard repeatPenalty.isFinite, repeatPenalty > 0, repeatPenalty <= 100 else { throw ValidationError("--repeat-penalty must be in (0, 100]") }
    }

    /// The parameters, a random seed drawn when none was given.
    var parameters: SamplingParameters {
        var p = SamplingParameters()
        p.temperature = temperature
        p.topK = topK
        p.topP = topP
        p.minP = minP
        p.repeatPenalty = repeatPenalty
        p.seed = seed?.value ?? UInt64(UInt32.random(in: 0...UInt32.max))
        return p
    }
}

/// `--seed`: a number, or -1 for a random one.
struct SeedArgument: ExpressibleByArgument {
    /// nil: draw a random seed.
    var value: UInt64?

    init?(argument: String) {
        if argument == "-1" {
            value = nil
        } else if let v = UInt64(argument) {
            value = v
        } else {
            return nil
        }
    }
}
