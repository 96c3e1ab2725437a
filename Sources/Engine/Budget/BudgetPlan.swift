import Tokenizers

/// What a request's budgets come to, worked out before any model work so that a request that cannot end well is
/// refused up front (the CLI exits 2; a server answers 400). Every count is output tokens under max_tokens: the
/// reasoning, the message and close marker the engine inserts, and the answer.
public struct BudgetPlan: Sendable, Equatable {
    public let maxTokens: Int
    public let thinkBudget: Int?
    /// Fewest tokens of a valid answer: the grammar's shortest string spelled in the fewest tokens; without a grammar,
    /// 1 after a reasoning section (an answer at all) and 0 otherwise.
    public let answerMinTokens: Int
    /// The close marker the engine inserts when it ends the reasoning (empty when there is no section to close).
    public let closeTokens: [Int32]
    /// The budget message inserted before an engine close: empty when none was asked for or it does not fit.
    public let messageTokens: [Int32]
    /// Most reasoning tokens: the think budget, lowered so that the message, the close marker and the shortest answer
    /// fit in max_tokens; nil without a reasoning section.
    public let reasoningLimit: Int?

    /// The least max_tokens this request accepts.
    public var minimumMaxTokens: Int { closeTokens.count + answerMinTokens }

    /// Throws `.budgetTooSmall` when max_tokens cannot hold the close marker and the shortest valid answer.
    public init(request: GenerationRequest, tokenizer: any Tokenizer, vocab: TokenVocabulary?) throws(EngineError) {
        maxTokens = max(request.maxTokens, 0)
        thinkBudget = request.thinkBudget
        let open = (request.thinkBudget ?? 0) > 0
        if let g = request.grammar {
            guard let v = vocab, let path = AnswerReserve.completion(g, v, from: g.initialState) else {
                throw .invalidArgument("the grammar's shortest output cannot be spelled in this model's tokens")
            }
            answerMinTokens = path.count
        } else {
            answerMinTokens = open ? 1 : 0
        }
        let markers = request.thinkBudget == nil ? nil : ReasoningMarkers(tokenizer: tokenizer)
        closeTokens = open ? markers?.closeTokens ?? [] : []
        let needed = closeTokens.count + answerMinTokens
        guard maxTokens >= needed else {
            throw .budgetTooSmall(maxTokens: maxTokens, closeTokens: closeTokens.count, answerTokens: answerMinTokens,
                                  thinkBudget: request.thinkBudget)
        }
        var message: [Int32] = []
        if open, let m = request.thinkMessage, !m.isEmpty {
            message = tokenizer.encode("\n" + m, addSpecial: false, parseSpecial: false)
            if maxTokens < needed + message.count { message = [] }
        }
        messageTokens = message
        if let n = request.thinkBudget {
            reasoningLimit = min(max(n, 0), maxTokens - needed - message.count)
        } else {
            reasoningLimit = nil
        }
    }
}

extension Engine {
    /// The request's budget plan (see `BudgetPlan`); cheap, no model work: a server runs it per request before
    /// queuing it.
    public func budgetPlan(for request: GenerationRequest) throws(EngineError) -> BudgetPlan {
        let vocab = request.grammar == nil ? nil : TokenVocabulary.shared(for: tokenizer, key: file.path)
        return try BudgetPlan(request: request, tokenizer: tokenizer, vocab: vocab)
    }
}
