import Foundation
import SLMModels

/// Continuous batching: owns the engine's runner on one thread and steps every running sequence together. Each step
/// is one batched forward pass holding one token of every decoding sequence plus at most `prefillChunk` prompt tokens
/// of the sequences that are prefilling (oldest first), so weights are read once per step for all of them and a new
/// prompt delays the running streams by at most one chunk. Sequences join as slots free up and leave at the step
/// after they finish or are cancelled.
///
/// A sequence's logits are bit-identical to running it alone (`ModelRunner.forward(batch:)`), and its sampler is its
/// own, so a seeded request gives the same text whatever else runs beside it.
///
/// Prefix cache: a sequence looks up its prompt when its prefill starts (not when it arrives), and publishes its
/// blocks once its prompt is evaluated; a sequence whose first block equals that of one still prefilling waits for
/// it, so a system prompt shared by simultaneous requests is computed once. Disk writes run on a background queue.
///
/// While a scheduler runs, the engine's runner belongs to it: do not call `Engine.generate` or `evaluate` meanwhile.
/// Its thread keeps it alive until `shutdown`.
public final class Scheduler: @unchecked Sendable {
    public let engine: Engine
    public let options: SchedulerOptions

    // Shared with submitters: guarded by `condition`.
    private let condition = NSCondition()
    private var waiting: [ScheduledSequence] = []
    private var cancelled: Set<UInt64> = []
    private var nextID: UInt64 = 1
    private var stopping = false
    private var stopDeadline: ContinuousClock.Instant?
    private var finished = false
    private var published = SchedulerSnapshot()

    // The scheduler thread's own state.
    private var running: [ScheduledSequence] = []
    private let caches: [KVCache]
    private var freeSlots: [Int]
    private var logits: [Float]
    private var totals = SchedulerSnapshot()
    private var budget: PrefillBudget
    private let diskQueue = DispatchQueue(label: "slm.scheduler.prefix-cache-disk")
    private let clock = ContinuousClock()
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)

    public init(engine: Engine, options: SchedulerOptions) throws(EngineError) {
        guard options.parallel >= 1, options.parallel <= 256 else {
            throw .invalidArgument("parallel must be in 1...256, got \(options.parallel)")
        }
        guard options.contextLength >= 1, options.contextLength <= engine.config.trainedContextLength else {
            throw .invalidArgument("context \(options.contextLength) must be in 1...\(engine.config.trainedContextLength) (the model's trained context)")
        }
        guard options.prefillChunk >= 1 else { throw .invalidArgument("prefill chunk must be >= 1") }
        guard engine.maxBatch >= options.parallel + 1 else {
            throw .invalidArgument("the engine's batch (\(engine.maxBatch)) must exceed parallel (\(options.parallel))")
        }
        self.engine = engine
        self.options = options
        caches = try (0..<options.parallel).map { _ throws(EngineError) in try engine.makeCache(capacity: options.contextLength) }
        freeSlots = Array((0..<options.parallel).reversed())
        budget = PrefillBudget(chunk: options.prefillChunk, maxRows: engine.maxBatch)
        logits = [Float](repeating: 0, count: options.parallel * engine.config.vocabularySize)
        published.parallel = options.parallel
        totals.parallel = options.parallel
        // The thread holds the scheduler until `shutdown` ends its loop.
        let t = Thread { self.loop() }
        t.name = "slm-scheduler"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    /// Queues a request. Checks it first: a request that can never run throws `.invalidRequest` at once. Events
    /// arrive on the scheduler's thread in order; keep `onEvent` short (hand the event to another task).
    public func submit(_ request: ScheduledRequest,
                       onEvent: @escaping @Sendable (SequenceEvent) -> Void) throws(SchedulerError) -> SequenceTicket {
        var gen = request.generation
        gen.contextLength = min(gen.contextLength, options.contextLength)
        let decoder: SequenceDecoder
        do { decoder = try SequenceDecoder(request: gen, engine: engine, separateReasoning: request.separateReasoning) } catch {
            throw .invalidRequest(error)
        }
        condition.lock()
        defer { condition.unlock() }
        if stopping { throw .shuttingDown }
        // Requests that would wait for a slot: those queued beyond the slots free now.
        let wouldWait = waiting.count + 1 - freeSlots.count
        guard wouldWait <= options.maxQueue else { throw .queueFull(max(waiting.count - freeSlots.count, 0)) }
        let ticket = SequenceTicket(id: nextID)
        nextID += 1
        let seq = ScheduledSequence(ticket: ticket, request: ScheduledRequest(gen, logprobs: request.logprobs,
                                                                              separateReasoning: request.separateReasoning),
                                    decoder: decoder, onEvent: onEvent, now: clock.now)
        waiting.append(seq)
        published.waiting = waiting.count
        condition.signal()
        return ticket
    }

    /// Cancels a request: it leaves at the next step (its slot is freed) and reports `.failed(.cancelled)`.
    public func cancel(_ ticket: SequenceTicket) {
        condition.lock()
        cancelled.insert(ticket.id)
        condition.signal()
        condition.unlock()
    }

    public var snapshot: SchedulerSnapshot { condition.withLock { published } }

    /// Stops accepting requests, fails the waiting ones (`.shuttingDown`), lets the running ones finish for up to
    /// `grace`, cancels what is left, waits for the prefix cache's disk writes, and returns once the thread is done.
    public func shutdown(grace: Duration) {
        condition.lock()
        if finished { condition.unlock(); return }
        let first = !stopping
        stopping = true
        let deadline = clock.now + grace
        if stopDeadline.map({ deadline < $0 }) ?? true { stopDeadline = deadline }
        condition.signal()
        condition.unlock()
        if first {
            done.wait()
            condition.withLock { finished = true }
            done.signal()
        } else {
            done.wait()
            done.signal()
        }
    }

    // MARK: - The scheduler thread

    private func loop() {
        if let n = options.computeNice, n > 0, !engine.runner.setComputeNice(n) {
            options.warn("could not set the compute threads' niceness to \(n): \(String(cString: strerror(errno)))")
        }
        while step() {}
        diskQueue.sync {}
        done.signal()
    }

    /// Admits, removes the cancelled, runs one batched forward pass and hands each sequence its logits. False once
    /// stopping and nothing is left.
    private func step() -> Bool {
        condition.lock()
        while running.isEmpty && waiting.isEmpty && !stopping { condition.wait() }
        var rejected: [ScheduledSequence] = []
        if stopping {
            rejected = waiting
            waiting.removeAll()
            if let d = stopDeadline, clock.now >= d { for s in running { cancelled.insert(s.ticket.id) } }
        }
        var admitted: [ScheduledSequence] = []
        while !waiting.isEmpty, let slot = freeSlots.popLast() {
            let s = waiting.removeFirst()
            s.slot = slot
            admitted.append(s)
        }
        let cancels = cancelled
        cancelled.removeAll()
        published.waiting = waiting.count
        condition.unlock()

        for s in rejected { s.onEvent(.failed(.shuttingDown)) }
        for s in admitted {
            s.cache = caches[s.slot]
            s.phase = .prefilling
            if let pc = options.prefixCache, pc.layout.layerCount == engine.config.layerCount,
               pc.layout.kvDim == engine.config.kvDim {
                s.hashes = pc.layout.blockHashes(s.input)
            }
            running.append(s)
        }
        if !cancels.isEmpty {
            for s in running where cancels.contains(s.ticket.id) { fail(s, .cancelled) }
            // A cancel for a request still waiting removes it from the queue.
            condition.withLock {
                let gone = waiting.filter { cancels.contains($0.ticket.id) }
                waiting.removeAll { cancels.contains($0.ticket.id) }
                published.waiting = waiting.count
                return gone
            }.forEach { $0.onEvent(.failed(.cancelled)) }
        }
        if running.isEmpty {
            return condition.withLock { !(stopping && waiting.isEmpty) }
        }
        runBatch()
        publish()
        return true
    }

    /// Builds the step's batch: every decoding sequence's pending tokens, then prompt chunks in the room left.
    private func runBatch() {
        let maxBatch = engine.maxBatch
        var entries: [BatchEntry] = []
        var owners: [ScheduledSequence] = []
        var rows = 0
        var decoding = 0, pendingRows = 0
        for s in running where s.phase == .decoding {
            decoding += 1
            pendingRows += s.pending.count
        }
        // Under SLM_MATMUL=blas a verify step would not equal decoding one token at a time.
        let speculate = options.speculation.enabled && decoding <= options.speculateUpTo && KernelNumerics.batchInvariant
        for s in running where s.phase == .decoding && rows + s.pending.count <= maxBatch {
            s.draftCount = 0
            if speculate, s.pending.count == 1, let lookup = s.lookup, let cache = s.cache {
                // Drafts past the context, the tokens still allowed or the step's rows would never be used.
                let room = min(s.policy.length, cache.capacity - cache.count - 1, s.decoder.tokensLeft - 1,
                               maxBatch - pendingRows)
                if room > 0 {
                    s.stepTokens.removeAll(keepingCapacity: true)
                    s.stepTokens.append(contentsOf: s.pending)
                    s.draftCount = lookup.draft(room, into: &s.stepTokens)
                }
            }
            pendingRows += s.draftCount
            entries.append(BatchEntry(cache: s.cache!, tokens: s.draftCount == 0 ? s.pending : s.stepTokens,
                                      outputs: s.draftCount == 0 ? .last : .all))
            owners.append(s)
            rows += s.pending.count + s.draftCount
        }
        let decodeRows = rows
        var budget = min(self.budget.rows(decoding: decodeRows), maxBatch - rows)
        var longBudget = min(self.budget.rows(decoding: decodeRows, long: true), budget)
        var prefixesInFlight = Set<Hash128>()
        for s in running where s.phase == .prefilling && s.prefillStart != nil {
            if let h = s.firstBlockHash { prefixesInFlight.insert(h) }
        }
        var prefilling: [(ScheduledSequence, Int)] = []
        for s in running where s.phase == .prefilling && budget > 0 {
            if s.prefillStart == nil {
                // Another sequence is computing the same prefix: wait for its blocks instead of computing them again.
                if let h = s.firstBlockHash, prefixesInFlight.contains(h) { continue }
                startPrefill(s)
                if let h = s.firstBlockHash { prefixesInFlight.insert(h) }
            }
            let start = s.fed
            let allowed = self.budget.isLong(remaining: s.input.count - start) ? longBudget : budget
            guard allowed > 0 else { continue }
            var end = min(s.input.count, start + allowed)
            if end < s.input.count, let bt = options.prefixCache?.layout.blockTokens, end / bt * bt > start {
                end = end / bt * bt  // chunks end on block boundaries, so each block is captured once complete
            }
            let last = end == s.input.count
            entries.append(BatchEntry(cache: s.cache!, tokens: Array(s.input[start..<end]), outputs: last ? .last : .noRows))
            owners.append(s)
            prefilling.append((s, end - start))
            budget -= end - start
            longBudget = max(0, min(longBudget - (end - start), budget))
        }
        guard !entries.isEmpty else { return }
        let v = engine.config.vocabularySize
        let outputRows = entries.reduce(0) { $0 + Self.logitRows($1) }
        if logits.count < outputRows * v { logits = [Float](repeating: 0, count: outputRows * v) }
        let started = clock.now
        do {
            try logits.withUnsafeMutableBufferPointer { (l) throws(ModelError) in
                try engine.runner.forward(batch: entries, logits: l.baseAddress!)
            }
        } catch {
            for s in owners { fail(s, .model(error)) }
            return
        }
        let seconds = (clock.now - started).milliseconds / 1000
        let promptRows = prefilling.reduce(0) { $0 + $1.1 }
        self.budget.record(decoding: decodeRows, prompt: promptRows, seconds: seconds)
        let perRow = seconds / Double(max(decodeRows + promptRows, 1))
        for (e, s) in zip(entries, owners) { s.machineSeconds += perRow * Double(e.tokens.count) }
        totals.steps += 1
        for (s, n) in prefilling {
            s.fed += n
            captureBlocks(s)
        }
        var row = 0
        for (e, s) in zip(entries, owners) where e.outputs != .noRows {
            let first = row
            row += Self.logitRows(e)
            if s.draftCount == 0 {
                let next = logits.withUnsafeMutableBufferPointer { l in
                    handle(s, UnsafeMutableBufferPointer(rebasing: l[(first * v)..<((first + 1) * v)]))
                }
                if let t = next { s.lookup?.append(t) }
            } else {
                verify(s, rows: first, vocabulary: v)
            }
        }
    }

    /// Rows of logits an entry of this scheduler's batches produces: every row of a speculative one, else its last
    /// or none.
    private static func logitRows(_ e: BatchEntry) -> Int {
        switch e.outputs {
        case .all: return e.tokens.count
        case .last: return 1
        default: return 0
        }
    }

    /// A speculative step's rows for `s`: the pending token's, then one per draft. The decoder steps through them in
    /// order, as sequential decoding would, while the token it chooses is the next draft; the KV positions of the
    /// drafts it did not accept are dropped.
    private func verify(_ s: ScheduledSequence, rows first: Int, vocabulary v: Int) {
        guard let cache = s.cache else { return }
        let start = cache.count - 1 - s.draftCount   // the pending token's position (stepTokens[0])
        var accepted = 0
        while true {
            let r = first + accepted
            let chosen: [Int32]? = logits.withUnsafeMutableBufferPointer { l in
                handle(s, UnsafeMutableBufferPointer(rebasing: l[(r * v)..<((r + 1) * v)]), position: start + accepted)
            }
            guard let c = chosen else { break }   // finished or failed
            s.lookup?.append(c)
            guard accepted < s.draftCount, c.count == 1, c[0] == s.stepTokens[1 + accepted] else { break }
            accepted += 1
        }
        s.draftedTokens += s.draftCount
        s.acceptedTokens += accepted
        s.policy.record(drafted: s.draftCount, accepted: accepted)
        guard s.cache != nil else { return }   // finished or failed: the slot is released
        do { try cache.rewind(to: start + accepted + 1) } catch { fail(s, .model(error)) }
    }

    /// The first prefill step of a sequence: restores its longest cached prefix into its cache.
    private func startPrefill(_ s: ScheduledSequence) {
        s.prefillStart = clock.now
        guard let pc = options.prefixCache, !s.hashes.isEmpty else { return }
        let found = pc.lookup(s.input)
        let restore = min(found.count * pc.layout.blockTokens, s.input.count - 1)
        guard restore > 0 else { return }
        do {
            try s.cache!.restore(count: restore, from: found)
            s.blocks = found
            s.fed = restore
            s.cachedTokens = restore
        } catch {
            options.warn("prefix cache: cannot restore \(restore) positions (\(error)); computing them")
            s.cache!.reset()
        }
    }

    /// Copies each block of the input that the last chunk completed while every layer still holds its rows.
    private func captureBlocks(_ s: ScheduledSequence) {
        guard let pc = options.prefixCache, !s.hashes.isEmpty else { return }
        let bt = pc.layout.blockTokens
        while s.blocks.count < s.hashes.count, (s.blocks.count + 1) * bt <= s.fed {
            let i = s.blocks.count
            guard let b = KVBlock.capture(from: s.cache!, layout: pc.layout, index: i, hash: s.hashes[i],
                                          parent: i == 0 ? pc.layout.root : s.hashes[i - 1],
                                          tokens: Array(s.input[(i * bt)..<((i + 1) * bt)])) else {
                s.hashes.removeSubrange(i...)  // a layer no longer holds it: later blocks cannot chain to it
                break
            }
            s.blocks.append(b)
        }
    }

    /// A sequence's logits row: the end of its prefill, or one decode step (at `position`, default the cache's
    /// last). Returns the tokens the next step evaluates, nil when the sequence finished or failed.
    @discardableResult
    private func handle(_ s: ScheduledSequence, _ row: UnsafeMutableBufferPointer<Float>, position: Int? = nil) -> [Int32]? {
        let emit: (String, TextChannel) -> Void = { text, channel in s.onEvent(.text(text, channel)) }
        if s.phase == .prefilling {
            do { try SequenceDecoder.check(UnsafeBufferPointer(row), full: true, position: s.position) } catch {
                fail(s, error)
                return nil
            }
            s.phase = .decoding
            let now = clock.now
            s.prefillMs = (now - (s.prefillStart ?? s.submitted)).milliseconds
            s.decodeStart = now
            options.prefixCache?.publish(s.blocks)
            totals.promptTokens += s.request.generation.prompt.count
            totals.cachedTokens += s.cachedTokens
            s.onEvent(.prefilled(promptTokens: s.request.generation.prompt.count, cachedTokens: s.cachedTokens))
            if let k = s.request.logprobs {
                s.decoder.onToken = { token, row in s.onEvent(.logprob(TokenLogprob.of(token, in: row, top: k))) }
            }
            guard s.decoder.begin(emit: emit) else {
                complete(s)
                return nil
            }
            if options.speculation.enabled {
                s.lookup = PromptLookup(prompt: s.input, capacity: s.cache!.capacity,
                                        shortest: options.speculation.minMatch,
                                        longest: max(options.speculation.minMatch, 4))
                s.stepTokens.reserveCapacity(options.speculation.draftMax + 1)
                s.policy = DraftPolicy(maxLength: min(options.speculation.draftMax, engine.maxBatch - 1))
            }
        }
        do {
            let before = s.decoder.stats.generatedTokens
            let next = try s.decoder.advance(row, position: position ?? s.position, emit: emit)
            totals.generatedTokens += s.decoder.stats.generatedTokens - before
            switch next {
            case .evaluate(let tokens):
                s.pending = tokens
                return tokens
            case .finished:
                complete(s)
                return nil
            }
        } catch {
            fail(s, error)
            return nil
        }
    }

    private func complete(_ s: ScheduledSequence) {
        let emit: (String, TextChannel) -> Void = { text, channel in
            if !text.isEmpty { s.onEvent(.text(text, channel)) }
        }
        var stats = s.decoder.finish(emit: emit)
        stats.prefillMs = s.prefillMs
        stats.cachedTokens = s.cachedTokens
        stats.computedTokens = s.input.count - s.cachedTokens
        stats.seed = s.request.generation.sampling.seed
        stats.decodeMs = s.decodeStart.map { (clock.now - $0).milliseconds } ?? 0
        stats.machineMs = s.machineSeconds * 1000
        stats.draftedTokens = s.draftedTokens
        stats.acceptedTokens = s.acceptedTokens
        storeBlocks(s)
        release(s)
        s.onEvent(.finished(stats))
    }

    private func fail(_ s: ScheduledSequence, _ error: EngineError) {
        release(s)
        s.onEvent(.failed(error))
    }

    /// Writes a finished sequence's blocks to the disk tier off the scheduler's thread.
    private func storeBlocks(_ s: ScheduledSequence) {
        guard let pc = options.prefixCache, !s.blocks.isEmpty else { return }
        let blocks = s.blocks
        diskQueue.async { pc.store(blocks) }
    }

    private func release(_ s: ScheduledSequence) {
        guard let i = running.firstIndex(where: { $0 === s }) else { return }
        running.remove(at: i)
        s.cache?.reset()
        s.cache = nil
        s.phase = .waiting
        s.blocks = []
        condition.withLock { freeSlots.append(s.slot) }
    }

    private func publish() {
        var snap = totals
        snap.running = running.count
        snap.kvBytesInUse = running.reduce(0) { $0 + ($1.cache?.residentBytes ?? 0) }
        condition.withLock {
            snap.waiting = waiting.count
            published = snap
        }
    }
}
