import Foundation
import Prometheus
import SLMEngine

/// The server's Prometheus metrics (GET /metrics), kept in a registry of its own so that several applications (tests)
/// can live in one process. Recording is thread-safe and cheap: the scheduler's thread records token timings.
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let promptTokens, cachedTokens, generatedTokens, reasoningTokens: Counter
    let draftedTokens, acceptedTokens: Counter
    let localUSD, cloudUSD: Counter
    let timeToFirstToken, interTokenLatency: DurationHistogram
    let queueDepth, runningSequences, kvBytes, prefixHitRatio: Gauge

    /// slm_<name>_<unit> with its help line.
    private static func d(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "slm", metricName: name, unitName: unit, helpText: help)
    }

    public init() {
        promptTokens = registry.makeCounter(descriptor: Self.d("prompt_tokens", "total", "Prompt tokens of finished requests."))
        cachedTokens = registry.makeCounter(descriptor: Self.d("cached_tokens", "total", "Prompt tokens restored from the prefix cache."))
        generatedTokens = registry.makeCounter(descriptor: Self.d("generated_tokens", "total", "Tokens generated (reasoning included)."))
        reasoningTokens = registry.makeCounter(descriptor: Self.d("reasoning_tokens", "total", "Tokens generated inside reasoning sections."))
        draftedTokens = registry.makeCounter(descriptor: Self.d("drafted_tokens", "total",
            "Prompt-lookup draft tokens verified (speculation while at most two requests decode)."))
        acceptedTokens = registry.makeCounter(descriptor: Self.d("accepted_tokens", "total",
            "Draft tokens accepted: each one a token generated without a step of its own."))
        localUSD = registry.makeCounter(descriptor: Self.d("local_cost", "usd",
            "What finished requests cost on this machine: their share of its time at the hardware's price per hour."))
        cloudUSD = registry.makeCounter(descriptor: Self.d("cloud_equivalent_cost", "usd",
            "What the same requests would cost at the reference cloud model's list prices."))
        let latencyBuckets: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50),
                                          .milliseconds(100), .milliseconds(200), .milliseconds(500), .seconds(1),
                                          .seconds(2), .seconds(5), .seconds(10), .seconds(30)]
        timeToFirstToken = registry.makeDurationHistogram(
            descriptor: Self.d("time_to_first_token", "seconds", "From request arrival to its first generated token."),
            buckets: latencyBuckets)
        interTokenLatency = registry.makeDurationHistogram(
            descriptor: Self.d("inter_token_latency", "seconds", "Between consecutive generated tokens of a request."),
            buckets: latencyBuckets)
        queueDepth = registry.makeGauge(descriptor: Self.d("queue", "depth", "Requests waiting for a sequence slot."))
        runningSequences = registry.makeGauge(descriptor: Self.d("running", "sequences", "Sequences being prefilled or decoded."))
        kvBytes = registry.makeGauge(descriptor: Self.d("kv_bytes", "in_use", "Bytes of KV cache the running sequences hold."))
        prefixHitRatio = registry.makeGauge(descriptor: Self.d("prefix_cache_hit", "ratio",
                                                               "Share of admitted prompt tokens restored from the prefix cache."))
    }

    func request(endpoint: String, status: Int) {
        registry.makeCounter(descriptor: Self.d("requests", "total", "HTTP requests by endpoint and status."),
                             labels: [("endpoint", endpoint), ("status", String(status))]).increment()
    }

    func finished(_ stats: GenerationStats, price: RequestPrice) {
        localUSD.increment(by: price.local.usd)
        if let c = price.cloudUSD { cloudUSD.increment(by: c) }
        promptTokens.increment(by: Int64(stats.promptTokens))
        cachedTokens.increment(by: Int64(stats.cachedTokens))
        generatedTokens.increment(by: Int64(stats.generatedTokens))
        reasoningTokens.increment(by: Int64(stats.reasoningTokens))
        draftedTokens.increment(by: Int64(stats.draftedTokens))
        acceptedTokens.increment(by: Int64(stats.acceptedTokens))
    }

    /// Prometheus text of every metric, the scheduler's gauges read now.
    func render(_ snapshot: SchedulerSnapshot) -> [UInt8] {
        queueDepth.set(Int64(snapshot.waiting))
        runningSequences.set(Int64(snapshot.running))
        kvBytes.set(Int64(snapshot.kvBytesInUse))
        prefixHitRatio.set(snapshot.promptTokens > 0 ? Double(snapshot.cachedTokens) / Double(snapshot.promptTokens) : 0)
        return registry.emitToBuffer()
    }
}

/// Times one request's tokens as they arrive on the scheduler's thread.
final class TokenTimer: @unchecked Sendable {
    private let lock = NSLock()
    private let start: ContinuousClock.Instant
    private var last: ContinuousClock.Instant?
    private let metrics: ServerMetrics
    private(set) var firstTokenMs: Double?

    init(metrics: ServerMetrics, start: ContinuousClock.Instant) {
        self.metrics = metrics
        self.start = start
    }

    /// A generated token (its text or logprob event) arrived now.
    func token() {
        let now = ContinuousClock.now
        lock.withLock {
            if let last {
                metrics.interTokenLatency.record(now - last)
            } else {
                metrics.timeToFirstToken.record(now - start)
                let (s, atto) = (now - start).components
                firstTokenMs = Double(s) * 1000 + Double(atto) / 1e15
            }
            last = now
        }
    }

    var ttftMs: Double? { lock.withLock { firstTokenMs } }
}
