import Foundation

/// How a scheduler shares the engine among sequences.
public struct SchedulerOptions: Sendable {
    /// Most sequences decoded together. Their KV caches are mapped once, `parallel` x `contextLength` positions;
    /// pages cost memory only once written.
    public var parallel = 4
    /// Positions each sequence may hold (prompt + generated).
    public var contextLength = 4096
    /// Requests that may wait for a free sequence (0: none waits; a request that finds every slot busy is refused);
    /// beyond that, `submit` refuses (a server answers 503).
    public var maxQueue = 64
    /// Most prompt tokens prefilled per step. While sequences decode, a step takes fewer: as many as keep it within
    /// about 2.2 times the fastest decode-only step measured (`PrefillBudget`), so a long prompt arriving does not
    /// stall the streams already running.
    public var prefillChunk = 128
    /// Shared by every sequence: a prefix computed once serves every later request (and, with a disk tier, the
    /// next process).
    public var prefixCache: PrefixCache?
    /// Prompt-lookup speculation for decoding sequences (`.off`: none), applied in steps where at most
    /// `speculateUpTo` sequences decode: beside one or two sequences the machine's arithmetic is mostly idle (a
    /// 2-row step costs about what a 1-row step does), so a few draft rows cost little, while a batch of four or more
    /// is compute-bound. Outputs are the same either way (batch invariance).
    public var speculation = Speculation()
    public var speculateUpTo = 2
    /// How much nicer than the thread that starts the scheduler the threads that run the forward passes are (the
    /// scheduler's and the engine's pool; nil or 0: as nice as it). Above 0, the threads that deliver tokens (the
    /// server's event loops, a client on the same machine) preempt them as soon as they wake, instead of waiting up
    /// to a scheduler tick behind threads that never block while a step runs.
    public var computeNice: Int?
    /// Receives one line per problem the scheduler recovers from.
    public var warn: @Sendable (String) -> Void = { _ in }

    public init() {}
}

/// What a submitted request asks of the scheduler beyond the generation itself.
public struct ScheduledRequest: Sendable {
    public var generation: GenerationRequest
    /// nil: no logprobs; k >= 0: the chosen token's log-probability and the k most likely alternatives.
    public var logprobs: Int?
    /// Reasoning text on its own channel without markers (true: the server's reasoning_content), or inline.
    public var separateReasoning: Bool

    public init(_ generation: GenerationRequest, logprobs: Int? = nil, separateReasoning: Bool = true) {
        self.generation = generation
        self.logprobs = logprobs
        self.separateReasoning = separateReasoning
    }
}

/// What a sequence reports, in order, on the scheduler's thread; the last event is `.finished` or `.failed`.
public enum SequenceEvent: Sendable {
    /// The prompt is evaluated (`cachedTokens` of it restored from the prefix cache); generation starts.
    case prefilled(promptTokens: Int, cachedTokens: Int)
    case text(String, TextChannel)
    /// Sent before the text of the token it describes, when the request asked for logprobs.
    case logprob(TokenLogprob)
    case finished(GenerationStats)
    case failed(EngineError)
}

public enum SchedulerError: Error, CustomStringConvertible, Sendable {
    /// The wait queue holds `maxQueue` requests already.
    case queueFull(Int)
    case shuttingDown
    /// The request can never run (empty prompt, prompt + max tokens beyond the context, ...).
    case invalidRequest(EngineError)

    public var description: String {
        switch self {
        case .queueFull(let n): return "the server is busy: \(n) requests are already waiting"
        case .shuttingDown: return "the server is shutting down"
        case .invalidRequest(let e): return e.description
        }
    }
}

/// A submitted request, to cancel it (a client that went away): its sequence leaves at the next step.
public struct SequenceTicket: Sendable, Hashable {
    public let id: UInt64
}

/// The scheduler's state at one moment (for /metrics and /health).
public struct SchedulerSnapshot: Sendable, Equatable {
    public var waiting = 0
    public var running = 0
    public var parallel = 0
    /// Bytes of KV the running sequences hold.
    public var kvBytesInUse = 0
    /// Prompt tokens admitted so far, and how many of them came from the prefix cache.
    public var promptTokens = 0
    public var cachedTokens = 0
    public var generatedTokens = 0
    public var steps = 0
}
