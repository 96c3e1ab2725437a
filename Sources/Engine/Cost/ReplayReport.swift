/// What one workload request did when replayed locally (local tokens), and how much of its prompt it shares with
/// the rest of the workload (what a provider's prompt cache could serve).
public struct ReplayOutcome: Sendable, Equatable {
    public var line: Int
    public var promptTokens: Int
    public var cachedTokens: Int
    public var generatedTokens: Int
    public var reasoningTokens: Int
    public var maxTokens: Int
    /// The longest prompt prefix this request shares with an earlier request / with any other request.
    public var sharedWithEarlier: Int
    public var sharedWithAny: Int
    /// The request's text (system and user contents): characters and local tokens; the reply's characters.
    public var inputCharacters: Int
    public var inputTextTokens: Int
    public var outputCharacters: Int
    /// The think budget ended the reasoning (not the model, not max_tokens).
    public var reasoningCappedByBudget: Bool

    public init(line: Int, promptTokens: Int, cachedTokens: Int, generatedTokens: Int, reasoningTokens: Int = 0,
                maxTokens: Int, sharedWithEarlier: Int = 0, sharedWithAny: Int = 0, inputCharacters: Int = 0,
                inputTextTokens: Int = 0, outputCharacters: Int = 0, reasoningCappedByBudget: Bool = false) {
        self.line = line
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
        self.generatedTokens = generatedTokens
        self.reasoningTokens = reasoningTokens
        self.maxTokens = maxTokens
        self.sharedWithEarlier = sharedWithEarlier
        self.sharedWithAny = sharedWithAny
        self.inputCharacters = inputCharacters
        self.inputTextTokens = inputTextTokens
        self.outputCharacters = outputCharacters
        self.reasoningCappedByBudget = reasoningCappedByBudget
    }
}

/// The workload priced at one cloud row's list prices (tokens converted to the cloud's by `CharsPerToken`).
public struct ReplayCloudRow: Sendable, Equatable {
    public var row: CloudPrice
    public var usage: CloudUsage
    public var usd: Double
    /// local USD / this USD; nil when this is free.
    public var ratio: Double?
    public var cheaper: CloudComparison.Side
}

/// `slm cost replay`'s result.
public struct ReplayReport: Sendable {
    public var requests: Int
    public var promptTokens = 0, cachedTokens = 0, generatedTokens = 0, reasoningTokens = 0
    public var wallSeconds: Double
    public var hardware: HardwareCost
    /// The machine's price for the wall time of the replay.
    public var localUSD: Double
    public var charsPerToken: CharsPerToken
    public var inputCharacters = 0, outputCharacters = 0
    /// Prompt tokens restored instead of computed, and what computing them would have cost at `prefillTokS`.
    public var prefixCacheSavedTokens: Int
    public var prefixCacheSavedUSD: Double
    /// Requests whose reasoning the think budget ended; an upper bound on the reasoning tokens it kept from being
    /// generated (without the budget, reasoning could have used all of max_tokens: max_tokens - reasoning tokens
    /// each) and their local cost at the replay's output rate.
    public var reasoningCappedRequests = 0
    public var reasoningAvoidedTokensAtMost = 0
    public var reasoningAvoidedUSDAtMost: Double
    public var cloud: [ReplayCloudRow]

    /// `prefillTokS`: the machine's measured prompt rate (prices the prefix cache's savings).
    public init(outcomes: [ReplayOutcome], wallSeconds: Double, hardware: HardwareCost, table: PriceTable,
                prefillTokS: Double, cloudCharsPerToken: Double = CharsPerToken.cloudDefault,
                cloudBasis: String = CharsPerToken.cloudDefaultBasis) {
        requests = outcomes.count
        self.wallSeconds = wallSeconds
        self.hardware = hardware
        var textTokens = 0
        for o in outcomes {
            promptTokens += o.promptTokens
            cachedTokens += o.cachedTokens
            generatedTokens += o.generatedTokens
            reasoningTokens += o.reasoningTokens
            inputCharacters += o.inputCharacters
            outputCharacters += o.outputCharacters
            textTokens += o.inputTextTokens + o.generatedTokens
            if o.reasoningCappedByBudget {
                reasoningCappedRequests += 1
                reasoningAvoidedTokensAtMost += max(o.maxTokens - o.reasoningTokens, 0)
            }
        }
        localUSD = wallSeconds * hardware.usdPerSecond
        let localCPT = textTokens > 0 ? Double(inputCharacters + outputCharacters) / Double(textTokens) : cloudCharsPerToken
        charsPerToken = CharsPerToken(local: localCPT, cloud: cloudCharsPerToken,
                                      localBasis: "the workload's text (request contents and replies) in this model's tokens",
                                      cloudBasis: cloudBasis)
        prefixCacheSavedTokens = cachedTokens
        prefixCacheSavedUSD = prefillTokS > 0 ? Double(cachedTokens) / prefillTokS * hardware.usdPerSecond : 0
        let outputRate = wallSeconds > 0 ? Double(generatedTokens) / wallSeconds : 0
        reasoningAvoidedUSDAtMost = outputRate > 0 ? Double(reasoningAvoidedTokensAtMost) / outputRate * hardware.usdPerSecond : 0
        let factor = charsPerToken.cloudTokensPerLocalToken
        func cloudTokens(_ n: Int) -> Int { Int((Double(n) * factor).rounded()) }
        let local = localUSD
        cloud = table.rows.map { row in
            let usage = outcomes.reduce(CloudUsage(promptTokens: 0, outputTokens: 0)) { sum, o in
                sum + row.usage(promptTokens: cloudTokens(o.promptTokens), sharedWithEarlier: cloudTokens(o.sharedWithEarlier),
                                sharedWithAny: cloudTokens(o.sharedWithAny), outputTokens: cloudTokens(o.generatedTokens))
            }
            let usd = row.usd(usage)
            return ReplayCloudRow(row: row, usage: usage, usd: usd, ratio: usd > 0 ? local / usd : nil,
                                  cheaper: local < usd ? .local : local > usd ? .cloud : .same)
        }
    }

    /// USD per 1M characters of the workload's text (requests and replies together), locally.
    public var localUSDPerMChar: Double? {
        let chars = inputCharacters + outputCharacters
        return chars > 0 ? localUSD / Double(chars) * 1e6 : nil
    }

    /// For each request, the longest prefix it shares with an earlier prompt and with any other prompt.
    public static func sharedPrefixes(_ prompts: [[Int32]]) -> [(earlier: Int, any: Int)] {
        var result = Array(repeating: (earlier: 0, any: 0), count: prompts.count)
        // Only prompts with the same first token can share anything: compare within those groups.
        var groups: [Int32: [Int]] = [:]
        for (i, p) in prompts.enumerated() { if let f = p.first { groups[f, default: []].append(i) } }
        for members in groups.values {
            for (a, i) in members.enumerated() {
                for j in members[(a + 1)...] {
                    let n = commonPrefix(prompts[i], prompts[j])
                    result[j].earlier = max(result[j].earlier, n)
                    result[i].any = max(result[i].any, n)
                    result[j].any = max(result[j].any, n)
                }
            }
        }
        return result
    }

    static func commonPrefix(_ a: [Int32], _ b: [Int32]) -> Int {
        var n = 0
        let m = min(a.count, b.count)
        while n < m, a[n] == b[n] { n += 1 }
        return n
    }
}
