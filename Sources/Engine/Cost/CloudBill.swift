/// A request's tokens as a cloud provider would bill them.
public struct CloudUsage: Sendable, Equatable {
    public var promptTokens: Int
    /// Prompt tokens billed at the cached-input price.
    public var cacheHitTokens: Int
    /// Prompt tokens billed at the cache-write price (those written to the provider's cache by this request).
    public var cacheWriteTokens: Int
    /// Generated tokens, reasoning included (providers bill hidden reasoning as output).
    public var outputTokens: Int

    public init(promptTokens: Int, cacheHitTokens: Int = 0, cacheWriteTokens: Int = 0, outputTokens: Int) {
        self.promptTokens = promptTokens
        self.cacheHitTokens = cacheHitTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.outputTokens = outputTokens
    }

    public static func + (a: CloudUsage, b: CloudUsage) -> CloudUsage {
        CloudUsage(promptTokens: a.promptTokens + b.promptTokens, cacheHitTokens: a.cacheHitTokens + b.cacheHitTokens,
                   cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens, outputTokens: a.outputTokens + b.outputTokens)
    }
}

extension CloudPrice {
    /// How this provider bills a prompt of `promptTokens` whose first `sharedWithEarlier` tokens an earlier request
    /// already sent, and whose first `sharedWithAny` tokens some request of the same traffic shares (the prefix a
    /// client would mark for caching). A hit needs a cached-input price and a shared prefix of at least the minimum;
    /// with no hit, a provider that charges writes bills the shareable prefix as a write when it reaches the minimum.
    public func usage(promptTokens: Int, sharedWithEarlier: Int, sharedWithAny: Int = 0, outputTokens: Int) -> CloudUsage {
        var u = CloudUsage(promptTokens: max(promptTokens, 0), outputTokens: max(outputTokens, 0))
        guard cachedInputUSDPerMTok != nil else { return u }
        u.cacheHitTokens = cacheRules.billableHit(sharedPrefix: sharedWithEarlier, promptTokens: promptTokens)
        if u.cacheHitTokens == 0, cacheRules.writeUSDPerMTok != nil {
            let shareable = min(max(sharedWithAny, 0), u.promptTokens)
            if shareable > 0, shareable >= cacheRules.minPromptTokens { u.cacheWriteTokens = shareable }
        }
        return u
    }

    /// USD for `usage` at list prices: uncached prompt tokens at the input price, hits at the cached-input price,
    /// writes at the write price, output at the output price.
    public func usd(_ usage: CloudUsage) -> Double {
        let hit = min(usage.cacheHitTokens, usage.promptTokens)
        let write = min(usage.cacheWriteTokens, usage.promptTokens - hit)
        let plain = usage.promptTokens - hit - write
        let microUSDPerM = Double(plain) * inputUSDPerMTok
            + Double(hit) * (cachedInputUSDPerMTok ?? inputUSDPerMTok)
            + Double(write) * (cacheRules.writeUSDPerMTok ?? inputUSDPerMTok)
            + Double(usage.outputTokens) * outputUSDPerMTok
        return microUSDPerM / 1e6
    }

    /// One request priced as a server sees it: `cachedTokens` of the prompt came from a cache (the provider's
    /// rules decide how many of them it would bill as hits; no write surcharge is assumed).
    public func usd(promptTokens: Int, cachedTokens: Int, outputTokens: Int) -> Double {
        usd(usage(promptTokens: promptTokens, sharedWithEarlier: cachedTokens, outputTokens: outputTokens))
    }
}

/// The local price of one request: the seconds of the machine it took, at the machine's price.
public struct LocalCost: Sendable, Equatable, Codable {
    public var usd: Double
    /// Seconds of the machine the request took.
    public var seconds: Double
    /// The hardware model that priced it ("aws-c7a.large").
    public var hardware: String
    public var usdPerHour: Double

    /// `seconds` of the machine (prefill + decode of one request running alone).
    public init(seconds: Double, hardware: HardwareCost) {
        self.seconds = max(seconds, 0)
        usd = self.seconds * hardware.usdPerSecond
        self.hardware = hardware.name
        usdPerHour = hardware.usdPerHour
    }

    /// A request's machine time: its prefill and decode (model load excluded).
    public init(stats: GenerationStats, hardware: HardwareCost) {
        self.init(seconds: (stats.prefillMs + stats.decodeMs) / 1000, hardware: hardware)
    }

    enum CodingKeys: String, CodingKey { case usd, seconds, hardware, usdPerHour = "usd_per_hour" }
}

extension PriceTable {
    /// The row a server compares against by default: OpenAI's gpt-4o-mini, a widely used small model with a
    /// first-party-confirmed price history, or the first row.
    public var defaultReference: CloudPrice { row(named: "gpt-4o-mini") ?? rows[0] }
}
