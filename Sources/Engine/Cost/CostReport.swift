/// Throughput measured on this machine (tokens per second).
public struct MeasuredThroughput: Sendable, Equatable {
    /// Prompt tokens computed per second (one prompt in batches).
    public var prefillTokS: Double
    /// Tokens generated per second by one sequence alone.
    public var decodeTokS: Double
    /// Concurrency -> tokens per second of all sequences together (batched decode).
    public var decodeBatched: [Int: Double]
    /// Prompt tokens restored from the prefix cache per second.
    public var cacheRestoreTokS: Double

    public init(prefillTokS: Double, decodeTokS: Double, decodeBatched: [Int: Double] = [:], cacheRestoreTokS: Double) {
        self.prefillTokS = prefillTokS
        self.decodeTokS = decodeTokS
        self.decodeBatched = decodeBatched
        self.cacheRestoreTokS = cacheRestoreTokS
    }

    /// The highest batched decode rate and its concurrency; single-stream when none was measured.
    public var bestDecode: (concurrency: Int, tokS: Double) {
        decodeBatched.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }
            .map { ($0.key, $0.value) } ?? (1, decodeTokS)
    }
}

/// Characters per token: measured for the local model, assumed for the cloud (its tokenizers are not ours).
public struct CharsPerToken: Sendable, Equatable {
    public var local: Double
    public var cloud: Double
    /// How `local` was measured ("the sample workload's text", "a reference text").
    public var localBasis: String
    /// Where `cloud` comes from.
    public var cloudBasis: String

    /// OpenAI's rule of thumb for English: a token is about 4 characters.
    public static let cloudDefault = 4.0
    public static let cloudDefaultBasis = "4.0 characters per token for every cloud model (OpenAI's rule of thumb for English text)"

    public init(local: Double, cloud: Double = cloudDefault, localBasis: String, cloudBasis: String = cloudDefaultBasis) {
        self.local = local
        self.cloud = cloud
        self.localBasis = localBasis
        self.cloudBasis = cloudBasis
    }

    /// Cloud tokens for the text of one local token.
    public var cloudTokensPerLocalToken: Double { cloud > 0 ? local / cloud : 1 }
}

/// What the local machine charges per 1M tokens, from its hourly cost and measured throughput.
public struct LocalPrices: Sendable, Equatable {
    public var usdPerMTokInput: Double?
    public var usdPerMTokCachedInput: Double?
    /// Single-stream decode.
    public var usdPerMTokOutput: Double?
    /// Concurrency -> USD per 1M output tokens when that many sequences decode together.
    public var usdPerMTokOutputBatched: [Int: Double]

    public init(hardware: HardwareCost, measured: MeasuredThroughput) {
        usdPerMTokInput = hardware.usdPerMTok(tokensPerSecond: measured.prefillTokS)
        usdPerMTokCachedInput = hardware.usdPerMTok(tokensPerSecond: measured.cacheRestoreTokS)
        usdPerMTokOutput = hardware.usdPerMTok(tokensPerSecond: measured.decodeTokS)
        usdPerMTokOutputBatched = measured.decodeBatched.compactMapValues { hardware.usdPerMTok(tokensPerSecond: $0) }
    }
}

/// Local against one cloud row. Comparisons are per character of text (USD per 1M characters), so that the
/// tokenizers' different token counts for the same text do not tilt them.
public struct CloudComparison: Sendable, Equatable {
    public enum Side: String, Sendable { case local, cloud, same }

    public var row: CloudPrice
    public var cloudInputPerMChar: Double
    public var cloudOutputPerMChar: Double
    /// local / cloud cost of the same characters; nil when either side is unknown or the cloud side is free.
    public var ratioInput: Double?
    public var ratioOutput: Double?
    public var cheaperInput: Side?
    public var cheaperOutput: Side?
    /// Owned device only: millions of local tokens per month at which owning costs what the cloud bills, for
    /// input-only and output-only volume; nil when never (the electricity per token alone exceeds the cloud price)
    /// or for a rented machine.
    public var breakEvenInputMTokPerMonth: Double?
    public var breakEvenOutputMTokPerMonth: Double?

    /// "local" or "cloud" when input and output agree, else "mixed (input: X, output: Y)".
    public var cheaper: String {
        switch (cheaperInput, cheaperOutput) {
        case let (i?, o?) where i == o: return i.rawValue
        case let (i?, o?): return "mixed (input: \(i.rawValue), output: \(o.rawValue))"
        case let (i?, nil): return i.rawValue
        case let (nil, o?): return o.rawValue
        default: return "unknown"
        }
    }
}

/// `slm cost`'s result: the hardware's hourly price, the measured throughput, local prices per 1M tokens and
/// characters, and one comparison per cloud row.
public struct CostReport: Sendable {
    public var hardware: HardwareCost
    public var measured: MeasuredThroughput
    public var local: LocalPrices
    public var charsPerToken: CharsPerToken
    public var cloud: [CloudComparison]
    /// The output rate the comparisons use: single-stream (`decodeTokS`) unless `compareBatched`.
    public var outputBasis: (concurrency: Int, tokS: Double)

    /// `compareBatched`: compare output prices at the best batched decode rate measured (a server with that many
    /// requests in flight) instead of one stream.
    public init(hardware: HardwareCost, measured: MeasuredThroughput, charsPerToken: CharsPerToken, table: PriceTable,
                compareBatched: Bool = false) {
        self.hardware = hardware
        self.measured = measured
        self.charsPerToken = charsPerToken
        local = LocalPrices(hardware: hardware, measured: measured)
        outputBasis = compareBatched ? measured.bestDecode : (1, measured.decodeTokS)
        let localOut = hardware.usdPerMTok(tokensPerSecond: outputBasis.tokS)
        let localIn = local.usdPerMTokInput
        let cpt = charsPerToken
        let basis = outputBasis
        cloud = table.rows.map { row in
            let cin = row.inputUSDPerMTok / cpt.cloud
            let cout = row.outputUSDPerMTok / cpt.cloud
            let lin = localIn.map { $0 / cpt.local }
            let lout = localOut.map { $0 / cpt.local }
            var c = CloudComparison(row: row, cloudInputPerMChar: cin, cloudOutputPerMChar: cout)
            c.ratioInput = Self.ratio(lin, cin)
            c.ratioOutput = Self.ratio(lout, cout)
            c.cheaperInput = Self.side(lin, cin)
            c.cheaperOutput = Self.side(lout, cout)
            if let device = hardware.owned {
                let perLocalToken = cpt.cloudTokensPerLocalToken / 1e6
                c.breakEvenInputMTokPerMonth = Self.breakEven(device: device, tokS: measured.prefillTokS,
                                                              cloudUSDPerLocalToken: row.inputUSDPerMTok * perLocalToken)
                c.breakEvenOutputMTokPerMonth = Self.breakEven(device: device, tokS: basis.tokS,
                                                               cloudUSDPerLocalToken: row.outputUSDPerMTok * perLocalToken)
            }
            return c
        }
    }

    public var localInputPerMChar: Double? { local.usdPerMTokInput.map { $0 / charsPerToken.local } }
    public var localOutputPerMChar: Double? { hardware.usdPerMTok(tokensPerSecond: outputBasis.tokS).map { $0 / charsPerToken.local } }

    static func ratio(_ local: Double?, _ cloud: Double) -> Double? {
        guard let local, cloud > 0 else { return nil }
        return local / cloud
    }

    static func side(_ local: Double?, _ cloud: Double) -> CloudComparison.Side? {
        guard let local else { return nil }
        return local < cloud ? .local : local > cloud ? .cloud : .same
    }

    /// Monthly volume V (millions of local tokens) where device.fixedUSDPerMonth + energy(V) = cloud(V):
    /// V = fixed / (cloud per token - energy per token). nil when the cloud is as cheap as the electricity alone.
    public static func breakEven(device: OwnedDevice, tokS: Double, cloudUSDPerLocalToken: Double) -> Double? {
        guard tokS > 0, tokS.isFinite else { return nil }
        let energyPerToken = device.energyUSDPerHour / 3600 / tokS
        let margin = cloudUSDPerLocalToken - energyPerToken
        guard margin > 0 else { return nil }
        return device.fixedUSDPerMonth / margin / 1e6
    }

    /// Millions of tokens a month the device can produce at `tokS` if busy all the time.
    public static func capacityMTokPerMonth(tokS: Double) -> Double { tokS * 3600 * OwnedDevice.hoursPerMonth / 1e6 }
}
