import Tokenizers

/// Decides each step of a generation with constraints and budgets: while the reasoning section is open the model
/// samples freely (capped by the think budget, then the engine inserts the close marker); after it, the grammar (if
/// any) constrains every token of the answer, starting from its initial state, so it can always be satisfied.
/// One value per sequence: the server can hold one per request.
struct DecodeControl {
    enum Step {
        /// A sampled token; `reasoning` when it belongs to the reasoning section.
        case token(Int32, reasoning: Bool)
        /// Tokens the engine inserts (the close marker) and the text they print.
        case insert([Int32], text: String)
        /// The grammar is complete or allows nothing more: generation ends.
        case end
    }

    private var reasoning: ReasoningSection?
    private var grammar: GrammarProcessor?
    private let vocab: TokenVocabulary?
    private let hideReasoning: Bool
    private let tokenizer: any Tokenizer

    /// Tokens to append to the prompt (the opening marker) and the text to print for them.
    let promptSuffix: [Int32]
    let openingText: String

    init(request: GenerationRequest, tokenizer: any Tokenizer, vocabularyKey: String) {
        self.tokenizer = tokenizer
        hideReasoning = request.hideReasoning
        if let g = request.grammar {
            let v = TokenVocabulary.shared(for: tokenizer, key: vocabularyKey)
            vocab = v
            grammar = GrammarProcessor(grammar: g, vocab: v)
        } else {
            vocab = nil
        }
        if let budget = request.thinkBudget {
            let markers = ReasoningMarkers(tokenizer: tokenizer)
            var section = ReasoningSection(markers: markers, budget: budget)
            if budget == 0 {
                // No reasoning: an empty section, closed at once, kept out of the printed text.
                promptSuffix = markers.openTokens + markers.closeTokens
                openingText = ""
                section.closeNow()
            } else {
                promptSuffix = markers.openTokens
                openingText = request.hideReasoning ? "" : markers.open + "\n"
            }
            reasoning = section
        } else {
            promptSuffix = []
            openingText = ""
        }
    }

    var reasoningTokens: Int { reasoning?.tokens ?? 0 }
    var inReasoning: Bool { reasoning?.open ?? false }
    /// Whether the text of the current token should be printed.
    var printsReasoning: Bool { !hideReasoning }
    /// Context room the engine may add beyond the sampled tokens (the close marker).
    var insertedTokenAllowance: Int { reasoning.map { $0.open ? $0.markers.closeTokens.count : 0 } ?? 0 }

    /// Why generation stopped when --max-tokens ran out: "budget" when the output is unfinished because a budget
    /// cut it (still reasoning, or a grammar not yet complete), "length" for free text cut at the limit.
    var stopReasonAtLimit: StopReason {
        if inReasoning { return .budget }
        if let g = grammar, !g.canEnd { return .budget }
        return .length
    }

    mutating func next(_ logits: UnsafeBufferPointer<Float>, sampler: inout Sampler) -> Step {
        if var section = reasoning, section.open {
            if section.mustClose {
                section.closeNow()
                reasoning = section
                return closeStep(section)
            }
            let t = sampler.sample(logits)
            if tokenizer.eogTokens.contains(t) {
                // The model wants to stop inside its reasoning: close the section; the answer follows.
                section.closeNow()
                reasoning = section
                return closeStep(section)
            }
            section.record(t, bytes: ArraySlice(tokenizer.tokenBytes(t, renderSpecial: false)))
            reasoning = section
            return .token(t, reasoning: true)
        }
        guard var g = grammar else { return .token(sampler.sample(logits), reasoning: false) }
        grammar = nil   // g is the only owner while it mutates: no copy of its memo tables
        defer { grammar = g }
        if g.mustEnd { return .end }
        guard let t = sampler.sample(logits, grammar: &g) else { return .end }
        g.accept(t)
        return .token(t, reasoning: false)
    }

    private func closeStep(_ s: ReasoningSection) -> Step {
        .insert(s.markers.closeTokens, text: hideReasoning ? "" : "\n" + s.markers.close + "\n")
    }

    /// Full-vocabulary masks built (the sample-first path avoids most).
    var fullMasks: Int { grammar?.fullMasks ?? 0 }
}
