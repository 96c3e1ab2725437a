import Foundation
import Prometheus
import SLMEngine

/// The server's Prometheus metrics (GET /metrics), kept in a registry of its own so that several applications (tests)
/// can live in one process. Recording is thread-safe and cheap: the scheduler's thread records token timings.
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let promptTokens, cachedTokens, generatedTokens, reasoningTokens: Counter
    let timeToFirstToken, interTokenLatency: DurationHistogram
    let queueDepth, runningSequences, kvBytes, prefixHitRatio: Gauge

    public init() {
        promptTokens = registry.makeCounter(name: "slm_prompt_tokens_total", help: "Prompt tokens of finished requests.")
        cachedTokens = registry.makeCounter(name: "slm_cached_tokens_total", help: "Prompt tokens restored from the prefix cache.")
        generatedTokens = registry.makeCounter(name: "slm_generated_tokens_total", help: "Tokens generated (reasoning included).")
        reasoningTokens = registry.makeCounter(name: "slm_reasoning_tokens_total", help: "Tokens generated inside reasoning sections.")
        let latencyBuckets: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50),
                                          .milliseconds(100), .milliseconds(200), .milliseconds(500), .seconds(1),
                                          .seconds(2), .seconds(5), .seconds(10), .seconds(30)]
        timeToFirstToken = registry.makeDurationHistogram(name: "slm_time_to_first_token_seconds", buckets: latencyBuckets,
                                                          help: "From request arrival to its first generated token.")
        interTokenLatency = registry.makeDurationHistogram(name: "slm_inter_token_latency_seconds", buckets: latencyBuckets,
                                                           help: "Between consecutive generated tokens of a request.")
        queueDepth = registry.makeGauge(name: "slm_queue_depth", help: "Requests waiting for a sequence slot.")
        runningSequences = registry.makeGauge(name: "slm_running_sequences", help: "Sequences being prefilled or decoded.")
        kvBytes = registry.makeGauge(name: "slm_kv_bytes_in_use", help: "Bytes of KV cache the running sequences hold.")
        prefixHitRatio = registry.makeGauge(name: "slm_prefix_cache_hit_ratio",
                                            help: "Share of admitted prompt tokens restored from the prefix cache.")
    }

    func request(endpoint: String, status: Int) {
        registry.makeCounter(name: "slm_requests_total", labels: [("endpoint", endpoint), ("status", String(status))],
                             help: "HTTP requests by endpoint and status.").increment()
    }

    func finished(_ stats: GenerationStats) {
        promptTokens.increment(by: Int64(stats.promptTokens))
        cachedTokens.increment(by: Int64(stats.cachedTokens))
        generatedTokens.increment(by: Int64(stats.generatedTokens))
        reasoningTokens.increment(by: Int64(stats.reasoningTokens))
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
