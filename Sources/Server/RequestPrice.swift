import SLMEngine

/// One finished request priced two ways: its share of the machine's time at the hardware's price (what it cost
/// here), and its text at the reference cloud model's list prices (what it would have cost there).
struct RequestPrice {
    let local: LocalCost
    /// nil when no reference model is configured.
    let cloudUSD: Double?

    init(stats: GenerationStats, options: ServerOptions) {
        let seconds = stats.machineMs.map { $0 / 1000 } ?? (stats.prefillMs + stats.decodeMs) / 1000
        local = LocalCost(seconds: seconds, hardware: options.hardware)
        // The cloud model would see the same text as a different number of tokens.
        let f = options.cloudTokensPerLocalToken
        func cloud(_ n: Int) -> Int { Int((Double(n) * f).rounded()) }
        cloudUSD = options.costReference.map {
            $0.usd(promptTokens: cloud(stats.promptTokens), cachedTokens: cloud(stats.cachedTokens),
                   outputTokens: cloud(stats.generatedTokens))
        }
    }
}
