import Tokenizers

/// Decides each step of a generation with constraints and budgets. While the reasoning section is open the model
/// samples freely (the soft budget, if any, raising the close's probability) until it closes the section itself or
/// reaches the plan's reasoning limit, where the engine inserts the budget message and the close marker. After it,
/// the grammar (if any) constrains every token of the answer from its initial state, and `AnswerReserve` keeps a
/// complete answer within the tokens left: while they suffice the model samples freely under the grammar; when its
/// pick would leave too few, the step is steered to the best-ranked token that still fits, else to the next token of
/// a shortest completion. One value per sequence: a scheduler holds one per request and calls `next` once per step
/// with the number of tokens the request may still produce.
struct DecodeControl {
    enum Step {
        /// A sampled token; `reasoning` when it belongs to the reasoning section.
        case token(Int32, reasoning: Bool)
        /// Tokens the engine inserts (message and close marker; they count as output) and the text they print.
        case insert([Int32], text: String)
        /// Generation ends: the grammar is complete (eos), or the answer was finished early to fit (length).
        case end(StopReason)
    }

    let plan: BudgetPlan
    private var reasoning: ReasoningSection?
    private var grammar: GrammarProcessor?
    private var reserve: AnswerReserve?
    private var soft: SoftClose?
    private let hideReasoning: Bool
    private let tokenizer: any Tokenizer
    /// The close marker's first token: sampled in the soft stretch, it closes the section.
    private let closeLead: Int32?
    private let message: String

    /// Tokens to append to the prompt (the opening marker) and the text to print for them.
    let promptSuffix: [Int32]
    let openingText: String
    private(set) var reasoningEnd: ReasoningEnd?
    /// The engine steered the answer to a shortest completion because max_tokens was running out.
    private(set) var answerShortened = false
    private(set) var insertedTokens = 0

    init(request: GenerationRequest, plan: BudgetPlan, tokenizer: any Tokenizer, vocab: TokenVocabulary?) {
        self.plan = plan
        self.tokenizer = tokenizer
        hideReasoning = request.hideReasoning
        message = plan.messageTokens.isEmpty ? "" : "\n" + (request.thinkMessage ?? "")
        if let g = request.grammar, let v = vocab {
            grammar = GrammarProcessor(grammar: g, vocab: v)
            reserve = AnswerReserve(grammar: g, vocab: v)
        }
        var lead: Int32? = nil
        if let budget = request.thinkBudget {
            let markers = ReasoningMarkers(tokenizer: tokenizer)
            var section = ReasoningSection(markers: markers, budget: plan.reasoningLimit ?? budget)
            if budget == 0 {
                // No reasoning: an empty section, closed at once, kept out of the printed text.
                promptSuffix = markers.openTokens + markers.closeTokens
                openingText = ""
                section.closeNow()
            } else {
                promptSuffix = markers.openTokens
                openingText = request.hideReasoning ? "" : markers.open + "\n"
                lead = markers.closeToken ?? tokenizer.encode(markers.close, addSpecial: false, parseSpecial: true).first
                if let f = request.thinkSoft, let limit = plan.reasoningLimit {
                    soft = SoftClose(fraction: f, limit: limit, closing: tokenizer.eogTokens.union(lead.map { [$0] } ?? []))
                }
            }
            reasoning = section
        } else {
            promptSuffix = []
            openingText = ""
        }
        closeLead = lead
    }

    var reasoningTokens: Int { reasoning?.tokens ?? 0 }
    var inReasoning: Bool { reasoning?.open ?? false }
    /// Whether the text of the current token should be printed.
    var printsReasoning: Bool { !hideReasoning }

    /// Why generation stopped when max_tokens ran out: the plan keeps the reasoning short enough and the reserve
    /// completes the answer, so the output is whole; "length" says the limit ended it.
    var stopReasonAtLimit: StopReason { .length }

    /// The next step; `left` is how many tokens the request may still produce, this one included (>= 1).
    mutating func next(_ logits: UnsafeBufferPointer<Float>, sampler: inout Sampler, left: Int) -> Step {
        if var section = reasoning, section.open {
            defer { reasoning = section }
            if section.mustClose {
                section.closeNow()
                reasoningEnd = section.tokens >= (plan.thinkBudget ?? 0) ? .thinkBudget : .maxTokens
                return closeStep(section, tokens: plan.messageTokens, text: message)
            }
            let k = section.tokens
            let t = soft == nil ? sampler.sample(logits) : soft!.withLogits(logits, at: k) { sampler.sample($0) }
            let softClose = t == closeLead && soft?.floor(at: k) != nil && t != section.markers.closeToken
            if tokenizer.eogTokens.contains(t) || softClose {
                // The model wants to stop inside its reasoning (or, past the soft start, begins the close marker):
                // the engine closes the section; the answer follows.
                section.closeNow()
                reasoningEnd = .model
                return closeStep(section, tokens: [], text: "")
            }
            section.record(t, bytes: ArraySlice(tokenizer.tokenBytes(t, renderSpecial: false)))
            if !section.open { reasoningEnd = .model }
            return .token(t, reasoning: true)
        }
        guard var g = grammar, var r = reserve else { return .token(sampler.sample(logits), reasoning: false) }
        grammar = nil   // g is the only owner while it mutates: no copy of its memo tables
        defer { grammar = g; reserve = r }
        if g.mustEnd { return .end(.eos) }
        guard let t = sampler.sample(logits, grammar: &g) else { return .end(.eos) }
        if g.vocab.eog.contains(t) { return .token(t, reasoning: false) }   // allowed only when complete
        if let next = g.state(after: t), let fit = r.fit(t, next: next, left: left - 1) {
            r.commit(fit)
            g.move(to: next)
            return .token(t, reasoning: false)
        }
        // Steering: the model's pick would leave too few tokens to finish.
        answerShortened = true
        let canEnd = g.canEnd, eog = g.vocab.eog
        var spellings = Self.steeringSpellings
        let admitted = sampler.sample(logits) { c in
            if eog.contains(c) { return canEnd }
            guard let n = g.state(after: c) else { return false }
            spellings -= 1
            return r.fit(c, next: n, left: left - 1, spell: spellings >= 0) != nil
        }
        if let c = admitted, eog.contains(c) { return .token(c, reasoning: false) }
        guard let c = admitted ?? r.nextPlanned(from: g.state) else { return .end(.length) }
        guard let next = g.state(after: c), let fit = r.fit(c, next: next, left: left - 1) else { return .end(.length) }
        r.commit(fit)
        g.move(to: next)
        return .token(c, reasoning: false)
    }

    /// Candidates of a steered step whose completion may be spelled in tokens (the rest need the cheap witnesses):
    /// bounds a steered step to about 2 ms of grammar work.
    static let steeringSpellings = 32

    private mutating func closeStep(_ s: ReasoningSection, tokens: [Int32], text: String) -> Step {
        let all = tokens + s.markers.closeTokens
        insertedTokens += all.count
        return .insert(all, text: hideReasoning ? "" : text + "\n" + s.markers.close + "\n")
    }

    /// The budget figures of the stats.
    func report(into stats: inout GenerationStats) {
        stats.reasoningTokens = reasoningTokens
        stats.answerShortened = answerShortened
        stats.thinkBudget = plan.thinkBudget
        stats.reasoningLimit = plan.reasoningLimit
        stats.reasoningEnd = reasoningEnd
        stats.answerMinTokens = plan.answerMinTokens
        stats.insertedTokens = insertedTokens
    }
}
