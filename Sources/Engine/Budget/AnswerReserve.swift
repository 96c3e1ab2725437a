/// Keeps a grammar-constrained answer completable within the tokens a request may still produce.
///
/// Invariant, step to step: from the grammar's current state a complete answer is reachable in at most `left`
/// tokens (the tokens still allowed, this step's included). The witness is either the state's shortest completion
/// spelled in the fewest tokens (`completion(from:)`, never more tokens than `Grammar.minBytes` since every byte is
/// a token) or `plan`, a token path kept from an earlier step (the shortest completion of a later state may tokenize
/// worse than the rest of an earlier one, so the earlier path is kept). A token is admitted when the state after it
/// still completes in `left - 1`; the common case is one sum over the state's stacks (`minBytes`), and the token
/// path is spelled only when bytes alone do not fit.
struct AnswerReserve {
    let grammar: Grammar
    let vocab: TokenVocabulary
    /// Whether a shortest completion's byte count bounds its token count: true when every character a completion
    /// can write (each class's preferred member, and a continuation byte ending a character seen in part) is
    /// spelled in at most as many tokens as it has bytes. SmolLM2's vocabulary lacks some byte tokens (a few control
    /// characters and bytes UTF-8 never uses), so this is checked per grammar, not assumed.
    private let bytesAreTokens: Bool
    /// A token path from the current state to a complete answer; empty when the invariant rests on `minBytes`.
    private var plan: ArraySlice<Int32> = []

    enum Fit {
        /// The token is the plan's next one.
        case plan
        /// The state after it completes in few enough bytes.
        case bytes
        /// A token path from the state after it, short enough.
        case path([Int32])
    }

    init(grammar: Grammar, vocab: TokenVocabulary) {
        self.grammar = grammar
        self.vocab = vocab
        let l = grammar.lengths
        let picks = l.classPick.indices.filter { Int(l.classBytes[$0]) < GrammarLengths.unreachable }.map { Grammar.utf8(l.classPick[$0]) }
            + (0x80...0xBF).map { [UInt8($0)] }
        bytesAreTokens = picks.allSatisfy { b in b.isEmpty || (vocab.fewestTokens(spelling: b)?.count ?? .max) <= b.count }
    }

    /// Fewest tokens from `s` to a complete answer along its shortest completion; nil when there is none or it
    /// cannot be spelled in tokens.
    static func completion(_ grammar: Grammar, _ vocab: TokenVocabulary, from s: GrammarState) -> [Int32]? {
        guard let bytes = grammar.shortestCompletion(s) else { return nil }
        return vocab.fewestTokens(spelling: bytes)
    }

    /// Whether `token`, leading to `next`, keeps a complete answer within `left` more tokens. Without `spell`, only
    /// the cheap witnesses count (the plan, the byte count: about a microsecond), not a spelled completion (5-50 us).
    func fit(_ token: Int32, next: GrammarState, left: Int, spell: Bool = true) -> Fit? {
        if plan.first == token && plan.count - 1 <= left { return .plan }
        if bytesAreTokens && grammar.minBytes(next) <= left { return .bytes }
        if spell, let p = Self.completion(grammar, vocab, from: next), p.count <= left { return .path(p) }
        return nil
    }

    mutating func commit(_ fit: Fit) {
        switch fit {
        case .plan: plan = plan.dropFirst()
        case .bytes: plan = []
        case .path(let p): plan = p[...]
        }
    }

    /// The next token of a shortest way to finish from `state` (the plan, else the state's completion), nil when
    /// the answer can end now. By the invariant it fits.
    mutating func nextPlanned(from state: GrammarState) -> Int32? {
        if plan.isEmpty { plan = (Self.completion(grammar, vocab, from: state) ?? [])[...] }
        return plan.first
    }
}
