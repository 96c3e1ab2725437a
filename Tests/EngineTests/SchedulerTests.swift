import Foundation
@testable import SLMEngine
import TestSupport
import XCTest

/// Collects one request's events from the scheduler's thread; `wait` blocks until the last one.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private let end = DispatchSemaphore(value: 0)
    private(set) var events: [SequenceEvent] = []

    var handler: @Sendable (SequenceEvent) -> Void {
        { [self] e in
            lock.withLock { events.append(e) }
            switch e {
            case .finished, .failed: end.signal()
            default: break
            }
        }
    }

    @discardableResult
    func wait(seconds: Double = 120) -> Bool { end.wait(timeout: .now() + seconds) == .success }

    var all: [SequenceEvent] { lock.withLock { events } }
    func text(_ channel: TextChannel = .content) -> String {
        all.compactMap { if case .text(let t, let c) = $0, c == channel { return t } else { return nil } }.joined()
    }
    var stats: GenerationStats? { all.compactMap { if case .finished(let s) = $0 { return s } else { return nil } }.first }
    var error: EngineError? { all.compactMap { if case .failed(let e) = $0 { return e } else { return nil } }.first }
    var cachedTokens: Int? {
        all.compactMap { if case .prefilled(_, let c) = $0 { return c } else { return nil } }.first
    }
    var logprobs: [TokenLogprob] { all.compactMap { if case .logprob(let l) = $0 { return l } else { return nil } } }
    var textEvents: Int { all.filter { if case .text = $0 { return true } else { return false } }.count }
}

final class SchedulerTests: XCTestCase {
    /// A private engine: the scheduler owns its runner while it runs, so the shared test engines stay free.
    func makeEngine(_ file: String = TestPaths.smollmFile) throws -> Engine {
        try Engine(modelPath: try EngineModel.require(file), threads: 2, maxBatch: 48)
    }

    func request(_ engine: Engine, _ text: String, maxTokens: Int = 24, seed: UInt64 = 7,
                 temperature: Float = 0.8) -> GenerationRequest {
        var r = GenerationRequest(prompt: engine.tokenizeChat(try! engine.renderChat([.user(text)])), contextLength: 512)
        r.maxTokens = maxTokens
        r.sampling.seed = seed
        r.sampling.temperature = temperature
        return r
    }

    /// Four seeded streams at once return exactly the texts each returns alone through Engine.generate.
    func testConcurrentSeededRequestsMatchSequentialGenerate() throws {
        for file in [TestPaths.smollmFile, TestPaths.gemmaFile] {
            let engine = try makeEngine(file)
            let prompts = ["Tell me about owls.", "What is 2+2? Explain.", "Write a short poem about rain.",
                           "List three colours."]
            let requests = prompts.enumerated().map { request(engine, $1, maxTokens: 20 + 3 * $0, seed: UInt64(11 + $0)) }
            let alone = try requests.map { r -> String in
                var out = ""
                _ = try engine.generate(r) { out += $0 }
                return out
            }
            var options = SchedulerOptions()
            options.parallel = 4
            options.contextLength = 512
            options.prefillChunk = 16  // prompts prefill over several steps beside running decodes
            let scheduler = try Scheduler(engine: engine, options: options)
            let logs = requests.map { _ in EventLog() }
            for (r, log) in zip(requests, logs) {
                _ = try scheduler.submit(ScheduledRequest(r, separateReasoning: false), onEvent: log.handler)
            }
            for log in logs { XCTAssertTrue(log.wait()) }
            for (i, log) in logs.enumerated() {
                XCTAssertNil(log.error)
                XCTAssertEqual(log.text(), alone[i], "\(file) request \(i)")
                XCTAssertGreaterThan(log.stats?.generatedTokens ?? 0, 0)
            }
            XCTAssertGreaterThan(scheduler.snapshot.steps, 0)
            scheduler.shutdown(grace: .seconds(1))
        }
    }

    /// A system prompt shared by simultaneous requests is prefilled once: the later requests restore it.
    func testSharedPrefixIsComputedOnce() throws {
        let engine = try makeEngine()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slm-sched-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var cacheOptions = PrefixCacheOptions()
        cacheOptions.directory = dir.path
        let pc = PrefixCache(layout: KVLayout(engine: engine), options: cacheOptions)
        var options = SchedulerOptions()
        options.parallel = 3
        options.contextLength = 512
        options.prefixCache = pc
        let scheduler = try Scheduler(engine: engine, options: options)
        let system = String(repeating: "You are a careful assistant who answers in one short sentence. ", count: 12)
        let logs = (0..<3).map { _ in EventLog() }
        for (i, log) in logs.enumerated() {
            var r = GenerationRequest(prompt: engine.tokenizeChat(try engine.renderChat([.system(system), .user("Question \(i)?")])),
                                      contextLength: 512)
            r.maxTokens = 4
            r.prefixCache = pc
            _ = try scheduler.submit(ScheduledRequest(r), onEvent: log.handler)
        }
        for log in logs { XCTAssertTrue(log.wait()) }
        let cached = logs.map { $0.cachedTokens ?? -1 }
        XCTAssertEqual(cached[0], 0)
        XCTAssertGreaterThanOrEqual(cached[1], 128, "the second request restores the shared system prompt")
        XCTAssertEqual(cached[1], cached[2])
        scheduler.shutdown(grace: .seconds(1))
        XCTAssertGreaterThan(try FileManager.default.subpathsOfDirectory(atPath: dir.path).count, 0, "blocks reach the disk tier")
    }

    /// A cancelled sequence leaves at the next step and frees its slot: the next request starts at once.
    func testCancelFreesTheSlot() throws {
        let engine = try makeEngine()
        var options = SchedulerOptions()
        options.parallel = 1
        options.contextLength = 512
        let scheduler = try Scheduler(engine: engine, options: options)
        let long = EventLog()
        var r = request(engine, "Count from one to one thousand.", maxTokens: 400)
        r.ignoreEOS = true
        let ticket = try scheduler.submit(ScheduledRequest(r), onEvent: long.handler)
        let next = EventLog()
        _ = try scheduler.submit(ScheduledRequest(request(engine, "Hi", maxTokens: 3)), onEvent: next.handler)
        while long.textEvents < 3 { usleep(2_000) }
        scheduler.cancel(ticket)
        XCTAssertTrue(long.wait(seconds: 10))
        if case .cancelled = long.error {} else { XCTFail("expected .cancelled, got \(String(describing: long.error))") }
        XCTAssertTrue(next.wait(seconds: 30))
        XCTAssertEqual(next.stats?.generatedTokens, 3)
        scheduler.shutdown(grace: .seconds(1))
    }

    /// computeNice: the scheduler's thread and the engine's pool workers run that much nicer than the thread that
    /// started them, and no other thread changes (the threads that deliver tokens keep their priority).
    func testComputeThreadsRunNicer() throws {
        func niceness() -> [String: (name: String, nice: Int)] {
            var out: [String: (String, Int)] = [:]
            for tid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? [] {
                guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                      let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
                // Fields after the name: state is field 3, nice field 19.
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                out[tid] = (String(stat[stat.index(after: open)..<close]), Int(fields[16]) ?? -100)
            }
            return out
        }
        let base = Int(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0))
        let engine = try makeEngine()
        let before = niceness()
        var options = SchedulerOptions()
        options.parallel = 1
        options.contextLength = 256
        options.computeNice = 3
        let scheduler = try Scheduler(engine: engine, options: options)
        let log = EventLog()
        _ = try scheduler.submit(ScheduledRequest(request(engine, "Hi", maxTokens: 2)), onEvent: log.handler)
        XCTAssertTrue(log.wait(seconds: 30))
        let after = niceness()
        let nicer = after.filter { $0.value.nice == base + 3 }
        XCTAssertEqual(nicer.count, engine.threads, "the scheduler's thread and the pool's \(engine.threads - 1) workers: \(after)")
        for (tid, t) in before where after[tid] != nil && nicer[tid] == nil {
            XCTAssertEqual(after[tid]!.nice, t.nice, "thread \(tid) (\(t.name)) is not a compute thread of this scheduler")
        }
        scheduler.shutdown(grace: .seconds(1))
    }

    func testQueueBoundAndInvalidRequests() throws {
        let engine = try makeEngine()
        var options = SchedulerOptions()
        options.parallel = 1
        options.maxQueue = 1
        options.contextLength = 128
        let scheduler = try Scheduler(engine: engine, options: options)
        // Too long for the context: refused up front, never queued.
        var big = request(engine, "Hello", maxTokens: 200)
        big.contextLength = 4096
        XCTAssertThrowsError(try scheduler.submit(ScheduledRequest(big), onEvent: { _ in })) { e in
            guard case SchedulerError.invalidRequest = e else { return XCTFail("\(e)") }
        }
        var empty = request(engine, "x")
        empty.prompt = []
        XCTAssertThrowsError(try scheduler.submit(ScheduledRequest(empty), onEvent: { _ in }))
        let logs = (0..<2).map { _ in EventLog() }
        var r = request(engine, "Tell me a story.", maxTokens: 40)
        r.ignoreEOS = true
        _ = try scheduler.submit(ScheduledRequest(r), onEvent: logs[0].handler)
        // Wait until the first runs, then one may wait and the next is refused.
        while logs[0].textEvents < 1 { usleep(2_000) }
        _ = try scheduler.submit(ScheduledRequest(r), onEvent: logs[1].handler)
        XCTAssertThrowsError(try scheduler.submit(ScheduledRequest(r), onEvent: { _ in })) { e in
            guard case SchedulerError.queueFull(1) = e else { return XCTFail("\(e)") }
        }
        for log in logs { XCTAssertTrue(log.wait()) }
        scheduler.shutdown(grace: .seconds(1))
        XCTAssertThrowsError(try scheduler.submit(ScheduledRequest(r), onEvent: { _ in })) { e in
            guard case SchedulerError.shuttingDown = e else { return XCTFail("\(e)") }
        }
    }

    /// Shutdown lets running requests finish within the grace period and fails those still waiting.
    func testShutdownFinishesRunningAndFailsWaiting() throws {
        let engine = try makeEngine()
        var options = SchedulerOptions()
        options.parallel = 1
        options.contextLength = 256
        let scheduler = try Scheduler(engine: engine, options: options)
        let running = EventLog(), queued = EventLog()
        var r = request(engine, "Say something.", maxTokens: 12)
        r.ignoreEOS = true
        _ = try scheduler.submit(ScheduledRequest(r), onEvent: running.handler)
        _ = try scheduler.submit(ScheduledRequest(r), onEvent: queued.handler)
        while running.textEvents < 1 { usleep(2_000) }
        scheduler.shutdown(grace: .seconds(30))
        XCTAssertEqual(running.stats?.generatedTokens, 12)
        if case .shuttingDown = queued.error {} else { XCTFail("expected .shuttingDown, got \(String(describing: queued.error))") }
    }

    /// Logprobs: one per generated token, the chosen token among the top alternatives when sampling greedily, and
    /// reasoning kept apart from the answer without its markers.
    func testLogprobsAndSeparateReasoning() throws {
        let engine = try makeEngine()
        var options = SchedulerOptions()
        options.parallel = 2
        options.contextLength = 512
        let scheduler = try Scheduler(engine: engine, options: options)
        let log = EventLog()
        let greedy = request(engine, "Name a fruit.", maxTokens: 8, temperature: 0)
        _ = try scheduler.submit(ScheduledRequest(greedy, logprobs: 3), onEvent: log.handler)
        let thinking = EventLog()
        var t = request(engine, "Is 7 prime?", maxTokens: 40)
        t.thinkBudget = 12
        _ = try scheduler.submit(ScheduledRequest(t), onEvent: thinking.handler)
        XCTAssertTrue(log.wait())
        XCTAssertTrue(thinking.wait())
        let lps = log.logprobs
        XCTAssertEqual(lps.count, log.stats?.generatedTokens)
        for lp in lps {
            XCTAssertEqual(lp.top.count, 3)
            XCTAssertEqual(lp.top.first?.token, lp.token, "greedy picks the most likely token")
            XCTAssertLessThanOrEqual(lp.logprob, 0)
            XCTAssertEqual(lp.top.map(\.logprob), lp.top.map(\.logprob).sorted(by: >))
        }
        XCTAssertFalse(thinking.text(.reasoning).isEmpty)
        XCTAssertFalse(thinking.text(.reasoning).contains("<think>"))
        XCTAssertFalse(thinking.text(.reasoning).contains("</think>"))
        XCTAssertFalse(thinking.text(.content).contains("</think>"))
        XCTAssertEqual(thinking.stats?.reasoningTokens, 12)
        scheduler.shutdown(grace: .seconds(1))
    }
}
