/// The grammar as a step of the sampling chain, with its per-sequence state: `apply` removes the candidates the
/// grammar refuses (EOG only when the grammar may end), `accept` advances the state by the chosen token's bytes.
/// Cheap questions (`allows`) let the sampler try its unconstrained pick first and build a mask only when refused.
public struct GrammarProcessor: LogitProcessor {
    public let grammar: Grammar
    public let vocab: TokenVocabulary
    public private(set) var state: GrammarState
    private var masks: TokenMaskBuilder

    /// Interned states kept between masks before the memo is dropped (each holds a 1 KB transition row).
    static let memoLimit = 16_384

    public init(grammar: Grammar, vocab: TokenVocabulary) {
        self.grammar = grammar
        self.vocab = vocab
        state = grammar.initialState
        masks = TokenMaskBuilder(grammar: grammar, vocab: vocab)
    }

    public var canEnd: Bool { grammar.canEnd(state) }
    public var mustEnd: Bool { grammar.mustEnd(state) }

    /// Whether `token` may come next.
    public func allows(_ token: Int32) -> Bool {
        if vocab.eog.contains(token) { return grammar.canEnd(state) }
        let b = vocab.bytes(token)
        if b.isEmpty { return false }
        return grammar.advance(state, bytes: b) != nil
    }

    /// allowed[t] for the whole vocabulary.
    public mutating func allowedMask() -> [Bool] {
        if masks.internedCount > Self.memoLimit { masks = TokenMaskBuilder(grammar: grammar, vocab: vocab) }
        return masks.allowed(from: state)
    }

    public mutating func apply(_ c: inout Candidates) {
        var keep: [Int] = []
        if c.count <= 1024 {
            keep = (0..<c.count).filter { allows(c.ids[$0]) }
        } else {
            let mask = allowedMask()
            keep = (0..<c.count).filter { Int(c.ids[$0]) < mask.count && mask[Int(c.ids[$0])] }
        }
        c.ids = keep.map { c.ids[$0] }
        c.logits = keep.map { c.logits[$0] }
    }

    /// Advances past `token`; an EOG token or one the grammar refuses leaves the state unchanged (the sampler never
    /// picks one it refuses).
    public mutating func accept(_ token: Int32) {
        if vocab.eog.contains(token) { return }
        if let next = grammar.advance(state, bytes: vocab.bytes(token)) { state = next }
    }

    /// The state after `token` (not an EOG token), nil when the grammar refuses it; `move(to:)` commits it.
    public func state(after token: Int32) -> GrammarState? {
        let b = vocab.bytes(token)
        return b.isEmpty ? nil : grammar.advance(state, bytes: b)
    }

    public mutating func move(to next: GrammarState) { state = next }

    /// Advances past raw bytes (text the engine inserts); false if the grammar refuses them.
    public mutating func accept(bytes: [UInt8]) -> Bool {
        guard let next = grammar.advance(state, bytes: bytes) else { return false }
        state = next
        return true
    }
}

extension TokenMaskBuilder {
    var internedCount: Int { transitionsCount / 256 }
}
