import Foundation

/// When a provider bills a prompt prefix at its cached-input price. A cache hit counts only from
/// `minPromptTokens` on, in steps of `incrementTokens` above it (OpenAI: 1024, then 128 at a time); writing the prefix
/// costs `writeUSDPerMTok` instead of the input price where the provider charges for writes (Anthropic: 1.25x input).
public struct CacheRules: Sendable, Equatable {
    public var minPromptTokens: Int
    public var incrementTokens: Int
    public var writeUSDPerMTok: Double?

    public init(minPromptTokens: Int = 0, incrementTokens: Int = 1, writeUSDPerMTok: Double? = nil) {
        self.minPromptTokens = minPromptTokens
        self.incrementTokens = max(incrementTokens, 1)
        self.writeUSDPerMTok = writeUSDPerMTok
    }

    /// Tokens of a prompt billed as a cache hit when its first `sharedPrefix` tokens are already in the provider's
    /// cache: 0 below the minimum, else the minimum plus whole increments, never more than the prompt.
    public func billableHit(sharedPrefix: Int, promptTokens: Int) -> Int {
        let p = min(max(sharedPrefix, 0), max(promptTokens, 0))
        guard p > 0, p >= minPromptTokens else { return 0 }
        return minPromptTokens + (p - minPromptTokens) / incrementTokens * incrementTokens
    }
}

/// One cloud model's list prices (USD per 1M tokens) with where they come from.
public struct CloudPrice: Sendable, Equatable {
    public var provider: String
    public var model: String
    public var inputUSDPerMTok: Double
    /// nil: no cached-input price known (every prompt token is billed as input).
    public var cachedInputUSDPerMTok: Double?
    public var outputUSDPerMTok: Double
    public var cacheRules: CacheRules
    public var source: String
    /// The date the source gives for the price ("2026-11", "2025-06-03").
    public var seen: String
    public var confidence: String?
    public var status: String?
    public var notes: String?

    public init(provider: String, model: String, input: Double, cachedInput: Double?, output: Double,
                cacheRules: CacheRules = CacheRules(), source: String = "", seen: String = "",
                confidence: String? = nil, status: String? = nil, notes: String? = nil) {
        self.provider = provider
        self.model = model
        inputUSDPerMTok = input
        cachedInputUSDPerMTok = cachedInput
        outputUSDPerMTok = output
        self.cacheRules = cacheRules
        self.source = source
        self.seen = seen
        self.confidence = confidence
        self.status = status
        self.notes = notes
    }

    public var name: String { "\(provider) \(model)" }
}

/// The dated table of cloud prices (`PriceTable.builtIn`, or a user's `--prices FILE`).
public struct PriceTable: Sendable, Equatable {
    /// "YYYY-MM-DD": when the table was put together.
    public var asOf: String
    public var rows: [CloudPrice]

    /// Prices above this (USD per 1M tokens) are refused as a typo rather than priced.
    public static let maxPrice = 1_000_000.0
    /// A table older than this many days gets a warning.
    public static let staleDays = 90

    public init(asOf: String, rows: [CloudPrice]) {
        self.asOf = asOf
        self.rows = rows
    }

    /// The table compiled into slm.
    public static let builtIn: PriceTable = {
        do { return try PriceTable.parse(builtInJSON) } catch { fatalError("the built-in price table does not load: \(error)") }
    }()

    /// The row for `name`: "model" or "provider model" or "provider/model", case-insensitive; the first match.
    public func row(named name: String) -> CloudPrice? {
        let n = name.lowercased()
        return rows.first { $0.model.lowercased() == n || $0.name.lowercased() == n || "\($0.provider)/\($0.model)".lowercased() == n }
    }

    /// Days from `asOf` to `now`, nil when `asOf` is not a date.
    public func ageDays(now: Date = Date()) -> Int? {
        guard let d = Self.day(asOf) else { return nil }
        return Int((now.timeIntervalSince(d) / 86_400).rounded(.down))
    }

    /// A one-line warning when the table is older than `staleDays`, else nil.
    public func staleWarning(now: Date = Date()) -> String? {
        guard let age = ageDays(now: now), age > Self.staleDays else { return nil }
        return "the price table is \(age) days old (as of \(asOf)); cloud prices change: check them, or give --prices FILE"
    }

    /// Midnight UTC of a `YYYY-MM-DD` day (nil for anything else or a day the calendar lacks). Plain arithmetic:
    /// a DateFormatter would page in megabytes of ICU data that a server otherwise never touches.
    static func day(_ s: String) -> Date? {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m) else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[m - 1]).contains(d) else { return nil }
        // Days from 1970-01-01 of a proleptic Gregorian date (years counted from March, so February ends a year).
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Date(timeIntervalSince1970: Double(days) * 86_400)
    }
}
