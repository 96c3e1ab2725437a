import Foundation
import SLMModels
import Tokenizers

/// What one chat turn cost: how much of the rendered conversation's KV was reused from the turns before and how much
/// had to be computed.
public struct ChatTurnStats: Sendable, Codable, Equatable {
    public enum StopReason: String, Sendable, Codable { case eos, length, stop, interrupted }

    /// Tokens of the whole rendered conversation up to the assistant's opening.
    public var promptTokens = 0
    /// Of those, tokens whose KV the session already held (the conversation so far).
    public var reusedTokens = 0
    /// Tokens run through the model for this turn's prompt (promptTokens - reusedTokens).
    public var prefilledTokens = 0
    public var generatedTokens = 0
    public var prefillMs = 0.0
    public var decodeMs = 0.0
    public var stopReason: StopReason = .length

    public init() {}

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", reusedTokens = "reused_tokens", prefilledTokens = "prefilled_tokens"
        case generatedTokens = "generated_tokens", prefillMs = "prefill_ms", decodeMs = "decode_ms", stopReason = "stop_reason"
    }
}

/// A multi-turn conversation that keeps its sequence's KV between turns: each turn renders the whole conversation
/// through the chat template, keeps the KV of the longest prefix it shares with what the cache holds (the previous
/// prompt and reply), and prefills only the rest. Used from one thread at a time.
public final class ChatSession {
    public let engine: Engine
    public let contextLength: Int
    /// nil: the model's own template.
    public var template: ChatTemplate?
    public var tools: [ChatTool] = []
    public var variables: [String: JSONValue] = [:]
    public var sampling = SamplingParameters()
    public var maxTokens = 512
    public var stops: [String] = []
    public private(set) var messages: [ChatMessage] = []

    private var cache: KVCache
    /// The tokens whose K/V rows the cache holds, position by position.
    private var evaluated: [Int32] = []
    private var logits: [Float] = []

    /// A conversation needs a chat template: `template`, or the model's own.
    public init(engine: Engine, contextLength: Int, template: ChatTemplate? = nil) throws(EngineError) {
        guard template != nil || engine.chatTemplate != nil else {
            throw .unsupported("this model's file has no chat template; give one with --chat-template FILE")
        }
        self.engine = engine
        self.contextLength = contextLength
        self.template = template
        cache = try engine.makeCache(capacity: contextLength)
    }

    /// The system turn: replaces the current one, adds one at the start, or (nil) removes it.
    public func setSystem(_ text: String?) {
        if messages.first?.role == "system" { messages.removeFirst() }
        if let text { messages.insert(.system(text), at: 0) }
    }

    /// Forgets the conversation except its system turn (whose KV stays reusable).
    public func reset() {
        messages = messages.first?.role == "system" ? [messages[0]] : []
    }

    /// Replaces the conversation (e.g. one loaded from a file); the KV of any shared prefix is still reused.
    public func replaceMessages(_ list: [ChatMessage]) { messages = list }

    /// Adds `text` as a user turn and streams the assistant's reply through `emit`. `interrupted` is polled before
    /// each token; when it returns true the reply ends there (and is kept, as far as it got). A turn that fails leaves
    /// the conversation as it was.
    public func send(_ text: String, interrupted: () -> Bool = { false },
                     emit: (String) -> Void) throws(EngineError) -> ChatTurnStats {
        messages.append(.user(text))
        do {
            return try reply(interrupted: interrupted, emit: emit)
        } catch {
            messages.removeLast()
            throw error
        }
    }

    private func reply(interrupted: () -> Bool, emit: (String) -> Void) throws(EngineError) -> ChatTurnStats {
        var stats = ChatTurnStats()
        let prompt = engine.tokenizeChat(try engine.renderChat(messages, tools: tools, variables: variables, template: template))
        guard !prompt.isEmpty else { throw .emptyPrompt }
        stats.promptTokens = prompt.count
        guard prompt.count + max(maxTokens, 0) <= contextLength else {
            throw .invalidArgument("the conversation (\(prompt.count) tokens) + \(maxTokens) reply tokens exceeds the context of \(contextLength); /reset or raise --ctx")
        }
        // Keep the shared prefix, but always recompute the last prompt token (its logits start the reply).
        var keep = 0
        while keep < min(evaluated.count, prompt.count - 1), evaluated[keep] == prompt[keep] { keep += 1 }
        do { try cache.rewind(to: keep) } catch {
            // A sliding-window layer no longer holds what the shorter prefix needs: start the sequence again.
            cache = try engine.makeCache(capacity: contextLength)
            keep = 0
        }
        evaluated = Array(prompt[..<keep])
        stats.reusedTokens = keep
        stats.prefilledTokens = prompt.count - keep

        let clock = ContinuousClock()
        let t0 = clock.now
        let rest = Array(prompt[keep...])
        try engine.evaluate(rest, cache: cache, outputs: .last, into: &logits)
        evaluated += rest
        stats.prefillMs = (clock.now - t0).milliseconds

        let t1 = clock.now
        let v = engine.config.vocabularySize
        var sampler = Sampler(sampling, history: prompt)
        var detok = StreamingDetokenizer(tokenizer: engine.tokenizer, renderSpecial: false)
        var stopper = StopMatcher(stops: stops)
        var replyText = ""
        var step: [Int32] = [0]
        func out(_ s: String) {
            guard !s.isEmpty else { return }
            replyText += s
            emit(s)
        }
        stats.stopReason = .length
        while stats.generatedTokens < maxTokens {
            if interrupted() { stats.stopReason = .interrupted; break }
            let token = logits.withUnsafeBufferPointer { sampler.sample(UnsafeBufferPointer(rebasing: $0[0..<v])) }
            sampler.accept(token)
            if engine.tokenizer.eogTokens.contains(token) { stats.stopReason = .eos; break }
            stats.generatedTokens += 1
            let (text, stopped) = stopper.feed(detok.append(token))
            out(text)
            if stopped { stats.stopReason = .stop; break }
            if stats.generatedTokens >= maxTokens { break }
            step[0] = token
            try engine.evaluate(step, cache: cache, outputs: .last, into: &logits)
            evaluated.append(token)
        }
        if stats.stopReason != .stop {
            let tail = stopper.feed(detok.flush())
            out(tail.emit + (tail.stopped ? "" : stopper.finish()))
        }
        stats.decodeMs = (clock.now - t1).milliseconds
        messages.append(.assistant(replyText))
        return stats
    }
}
