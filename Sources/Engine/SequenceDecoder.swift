import Foundation
import SLMModels
import Tokenizers

/// Where a piece of generated text belongs: the answer, or the reasoning section (kept apart only when the caller
/// asks for it, as the server's `reasoning_content` does; the CLI prints reasoning inline between its markers).
public enum TextChannel: Sendable, Equatable {
    case content, reasoning
}

/// One sampled token with its log-probability under the model's distribution (log-softmax of the raw logits) and the
/// `top` most likely tokens, for OpenAI's `logprobs`.
public struct TokenLogprob: Sendable, Equatable {
    public var token: Int32
    public var logprob: Float
    public var top: [(token: Int32, logprob: Float)]

    public static func == (a: TokenLogprob, b: TokenLogprob) -> Bool {
        a.token == b.token && a.logprob == b.logprob && a.top.map(\.token) == b.top.map(\.token)
            && a.top.map(\.logprob) == b.top.map(\.logprob)
    }

    /// Log-softmax of `token` and of the `k` highest logits of `row` (ties to the lower id).
    public static func of(_ token: Int32, in row: UnsafeBufferPointer<Float>, top k: Int) -> TokenLogprob {
        var maxLogit = -Float.infinity
        for x in row where x > maxLogit { maxLogit = x }
        var sum: Double = 0
        for x in row { sum += Double(expf(x - maxLogit)) }
        let logZ = maxLogit + Float(log(sum))
        var top: [(token: Int32, logprob: Float)] = []
        var selection = TopSelection()
        selection.select(k, of: row) { id, x in top.append((id, x - logZ)) }
        return TokenLogprob(token: token, logprob: row[Int(token)] - logZ, top: top)
    }
}

/// The per-sequence half of generation, stepped once per logits row: samples under the request's constraints and
/// budgets (DecodeControl), detokenizes, matches stop strings, and says what to evaluate next. `Engine.generate`
/// steps it after each single-sequence forward pass, the scheduler after each batched step: the same request and the
/// same logits give the same text, whichever drives it.
struct SequenceDecoder {
    enum Next: Equatable {
        /// Evaluate these tokens (one sampled token, or tokens the engine inserts) and step again with the last row.
        case evaluate([Int32])
        case finished
    }

    /// The tokens to prefill: the prompt plus what the control appends (a reasoning section's opening marker).
    let input: [Int32]
    private(set) var stats = GenerationStats()
    private var control: DecodeControl
    private var sampler: Sampler
    private var detok: StreamingDetokenizer
    private var stopper: StopMatcher
    /// Separate mode only: holds back reasoning text that may begin the close marker, so it is never shown.
    private var reasoningFilter: StopMatcher
    private let separate: Bool
    private let maxTokens: Int
    private let ignoreEOS: Bool
    private let eog: Set<Int32>
    private let vocabularySize: Int
    /// Called with each sampled token and the logits row it was drawn from (logprobs).
    var onToken: ((Int32, UnsafeBufferPointer<Float>) -> Void)?

    /// Checks the request against the context before any work. `separateReasoning`: reasoning text goes to the
    /// reasoning channel without its markers (the server), instead of inline with them (the CLI).
    init(request: GenerationRequest, engine: Engine, separateReasoning: Bool = false) throws(EngineError) {
        let prompt = request.prompt
        guard !prompt.isEmpty else { throw .emptyPrompt }
        let plan = try engine.budgetPlan(for: request)
        let vocab = request.grammar == nil ? nil : TokenVocabulary.shared(for: engine.tokenizer, key: engine.file.path)
        let control = DecodeControl(request: request, plan: plan, tokenizer: engine.tokenizer, vocab: vocab)
        input = prompt + control.promptSuffix
        let (total, overflow) = input.count.addingReportingOverflow(max(request.maxTokens, 0))
        guard !overflow, total <= request.contextLength else {
            throw .invalidArgument("prompt (\(prompt.count) tokens) + --max-tokens (\(request.maxTokens)) exceeds the context of \(request.contextLength) tokens; raise --ctx or lower --max-tokens")
        }
        self.control = control
        stats.promptTokens = prompt.count
        stats.stopReason = .length
        sampler = Sampler(request.sampling, history: prompt)
        detok = StreamingDetokenizer(tokenizer: engine.tokenizer, renderSpecial: false)
        stopper = StopMatcher(stops: request.stops)
        reasoningFilter = StopMatcher(stops: ["</think>"])  // ReasoningMarkers.close
        separate = separateReasoning
        maxTokens = request.maxTokens
        ignoreEOS = request.ignoreEOS
        eog = engine.tokenizer.eogTokens
        vocabularySize = engine.config.vocabularySize
    }

    /// Tokens the request may still produce.
    var tokensLeft: Int { maxTokens - stats.generatedTokens }

    /// After the prompt's logits are computed: nil when nothing is to be generated (max tokens 0), else emits the
    /// reasoning section's opening text (CLI mode) and the caller steps with the prompt's last row.
    mutating func begin(emit: (String, TextChannel) -> Void) -> Bool {
        guard maxTokens > 0 else { return false }
        if !separate && !control.openingText.isEmpty { emit(control.openingText, .content) }
        return true
    }

    /// A model whose weights hold NaN yields NaN logits; sampling from them would emit garbage. A NaN inside the
    /// network reaches every logit, so a decode step checks the ends of the row (an isolated NaN logit from one bad
    /// output row is treated as -inf by the sampler); the prompt's row is checked in full, before its blocks may
    /// enter the prefix cache.
    static func check(_ row: UnsafeBufferPointer<Float>, full: Bool, position: Int) throws(EngineError) {
        let bad = full ? row.contains(where: { $0.isNaN }) : (row[0].isNaN || row[row.count - 1].isNaN)
        if bad { throw .nanLogits(position: position) }
    }

    /// One step: the logits row of the last evaluated position -> what to evaluate next, or the end. With ignoreEOS
    /// the row's end-of-generation logits are set to -inf in place first: the model cannot choose to end (llama.cpp's
    /// meaning of ignore_eos), so the text runs to max_tokens as text, not through the invisible control tokens a
    /// model emits past its end (each an empty gap in a stream).
    mutating func advance(_ logits: UnsafeMutableBufferPointer<Float>, position: Int,
                          emit: (String, TextChannel) -> Void) throws(EngineError) -> Next {
        let row = UnsafeBufferPointer(rebasing: logits[0..<vocabularySize])
        try Self.check(row, full: false, position: position)
        if ignoreEOS {
            for t in eog where Int(t) < row.count { logits[Int(t)] = -.infinity }
        }
        let token: Int32
        var visible = true
        var reasoning = false
        switch control.next(row, sampler: &sampler, left: maxTokens - stats.generatedTokens) {
        case .end(let reason):
            stats.stopReason = reason
            return .finished
        case .insert(let tokens, let text):
            // The engine's tokens (a budget message, the close marker) count against max_tokens.
            if separate {
                emitReasoning(detok.flush(), emit: emit)
                let held = reasoningFilter.finish()
                if !held.isEmpty { emit(held, .reasoning) }
            } else {
                let (out, stopped) = stopper.feed(detok.flush() + text)
                if !out.isEmpty { emit(out, .content) }
                if stopped { stats.stopReason = .stop; return .finished }
            }
            stats.generatedTokens += tokens.count
            if stats.generatedTokens >= maxTokens { return .finished }
            return .evaluate(tokens)
        case .token(let t, let r):
            token = t
            reasoning = r
            visible = !r || control.printsReasoning
        }
        sampler.accept(token)
        // With ignoreEOS only a grammar that must end can force one (every other token is disallowed).
        if eog.contains(token) { stats.stopReason = .eos; return .finished }
        stats.generatedTokens += 1
        onToken?(token, row)
        if visible {
            let piece = detok.append(token)
            if separate && reasoning {
                emitReasoning(piece, emit: emit)
            } else {
                let (out, stopped) = stopper.feed(piece)
                if !out.isEmpty { emit(out, .content) }
                if stopped { stats.stopReason = .stop; return .finished }
            }
        }
        if stats.generatedTokens >= maxTokens { stats.stopReason = control.stopReasonAtLimit; return .finished }
        return .evaluate([token])
    }

    /// Reasoning text in separate mode, without the close marker when the model writes it itself.
    private mutating func emitReasoning(_ text: String, emit: (String, TextChannel) -> Void) {
        guard !text.isEmpty else { return }
        let (out, _) = reasoningFilter.feed(text)
        if !out.isEmpty { emit(out, .reasoning) }
    }

    /// After the last step: what the detokenizer and the stop matcher still hold, and the final counts.
    mutating func finish(emit: (String, TextChannel) -> Void) -> GenerationStats {
        control.report(into: &stats)
        if stats.stopReason != .stop {
            if separate && control.inReasoning {
                emitReasoning(detok.flush(), emit: emit)
                let held = reasoningFilter.finish()
                if !held.isEmpty { emit(held, .reasoning) }
            } else {
                let rest = stopper.feed(detok.flush())
                let text = rest.emit + (rest.stopped ? "" : stopper.finish())
                if !text.isEmpty || !separate { emit(text, .content) }
            }
        }
        return stats
    }
}
