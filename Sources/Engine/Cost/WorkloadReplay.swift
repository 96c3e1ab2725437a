import Foundation

/// How a workload is replayed: that many requests decoded together through the scheduler, each with this context,
/// sharing one prefix cache; sampling at `temperature` with seed `seed + line` per request, so a replay repeats.
public struct ReplayOptions: Sendable {
    public var parallel = 4
    public var contextLength = 4096
    public var prefillChunk = 128
    public var prefixCache: PrefixCache?
    public var temperature = SamplingParameters().temperature
    public var seed: UInt64 = 42

    public init() {}
}

/// A workload request made ready for the scheduler: its prompt tokens and generation request, checked.
public struct PreparedReplayRequest: Sendable {
    public var request: WorkloadRequest
    public var generation: GenerationRequest
    public var inputTextTokens: Int
}

extension Engine {
    /// Renders, tokenizes and checks every request before any runs (the prompt and max_tokens fit the context; a
    /// think budget or schema can end in a valid answer under max_tokens). Chat prompts are rendered as `slm serve`
    /// renders them: the model's template, or a stand-in for a file without one.
    public func prepareReplay(_ requests: [WorkloadRequest], options: ReplayOptions) throws(CostError) -> [PreparedReplayRequest] {
        let template = servingTemplate
        var prepared: [PreparedReplayRequest] = []
        for r in requests {
            func fail(_ s: String) -> CostError { .workloadLine(line: r.line, problem: s) }
            let prompt: [Int32]
            do { prompt = tokenizeChat(try renderChat(r.messages, template: template)) } catch { throw fail(error.description) }
            let reserve = r.thinkBudget == nil ? 0 : Engine.reasoningReserve
            guard prompt.count + r.maxTokens + reserve <= options.contextLength else {
                throw fail("the prompt (\(prompt.count) tokens) + max_tokens (\(r.maxTokens)) exceeds the context of \(options.contextLength) tokens")
            }
            var g = GenerationRequest(prompt: prompt, contextLength: options.contextLength)
            g.maxTokens = r.maxTokens
            g.grammar = r.grammar
            g.thinkBudget = r.thinkBudget
            g.prefixCache = options.prefixCache
            g.sampling.temperature = options.temperature
            g.sampling.seed = options.seed &+ UInt64(r.line)
            do { _ = try budgetPlan(for: g) } catch { throw fail(error.description) }
            let textTokens = r.messages.reduce(0) { $0 + tokenize($1.content ?? "", addSpecial: false, parseSpecial: false).count }
            prepared.append(PreparedReplayRequest(request: r, generation: g, inputTextTokens: textTokens))
        }
        return prepared
    }

    /// Runs the prepared requests through a `Scheduler` (all submitted at once, `parallel` at a time, in file
    /// order) and returns each one's outcome in file order with the wall time of the whole replay. The engine's
    /// runner belongs to the scheduler meanwhile. `progress` gets the number of requests finished.
    public func replay(_ prepared: [PreparedReplayRequest], options: ReplayOptions,
                       progress: @escaping @Sendable (Int) -> Void = { _ in }) throws(EngineError) -> (outcomes: [ReplayOutcome], wallSeconds: Double) {
        var so = SchedulerOptions()
        so.parallel = options.parallel
        so.contextLength = options.contextLength
        so.prefillChunk = options.prefillChunk
        so.maxQueue = prepared.count
        so.prefixCache = options.prefixCache
        let scheduler = try Scheduler(engine: self, options: so)
        defer { scheduler.shutdown(grace: .seconds(5)) }
        let shared = ReplayOutcome.sharedPrefixes(prepared.map(\.generation.prompt))
        let results = ReplayCollector(count: prepared.count)
        let clock = ContinuousClock()
        let start = clock.now
        for (i, p) in prepared.enumerated() {
            do {
                _ = try scheduler.submit(ScheduledRequest(p.generation)) { event in results.record(i, event, progress: progress) }
            } catch {
                throw .invalidArgument("workload line \(p.request.line): \(error)")
            }
        }
        results.waitAll()
        let (s, atto) = (clock.now - start).components
        let wall = Double(s) + Double(atto) / 1e18
        var outcomes: [ReplayOutcome] = []
        for (i, p) in prepared.enumerated() {
            let r = results.slot(i)
            if let e = r.error { throw .invalidArgument("workload line \(p.request.line): \(e)") }
            let st = r.stats ?? GenerationStats()
            outcomes.append(ReplayOutcome(line: p.request.line, promptTokens: st.promptTokens, cachedTokens: st.cachedTokens,
                                          generatedTokens: st.generatedTokens, reasoningTokens: st.reasoningTokens,
                                          maxTokens: p.request.maxTokens, sharedWithEarlier: shared[i].earlier,
                                          sharedWithAny: shared[i].any, inputCharacters: p.request.characters,
                                          inputTextTokens: p.inputTextTokens, outputCharacters: r.characters,
                                          reasoningCappedByBudget: st.reasoningEnd == .thinkBudget))
        }
        return (outcomes, wall)
    }
}

extension ReplayOutcome {
    public static func sharedPrefixes(_ prompts: [[Int32]]) -> [(earlier: Int, any: Int)] { ReplayReport.sharedPrefixes(prompts) }
}

/// Scheduler events of every replayed request, gathered from the scheduler's thread.
final class ReplayCollector: @unchecked Sendable {
    struct Slot {
        var stats: GenerationStats?
        var error: EngineError?
        var characters = 0
        var done = false
    }
    private let condition = NSCondition()
    private var slots: [Slot]
    private var finished = 0

    init(count: Int) { slots = Array(repeating: Slot(), count: count) }

    func record(_ i: Int, _ event: SequenceEvent, progress: @Sendable (Int) -> Void) {
        condition.lock()
        var n: Int?
        switch event {
        case .text(let s, _): slots[i].characters += s.count
        case .finished(let st): slots[i].stats = st; slots[i].done = true; finished += 1; n = finished
        case .failed(let e): slots[i].error = e; slots[i].done = true; finished += 1; n = finished
        case .prefilled, .logprob: break
        }
        condition.broadcast()
        condition.unlock()
        if let n { progress(n) }
    }

    func waitAll() {
        condition.lock()
        while finished < slots.count { condition.wait() }
        condition.unlock()
    }

    func slot(_ i: Int) -> Slot { condition.withLock { slots[i] } }
}
