/// The set of tokens a grammar state allows, over the whole vocabulary: one in-order walk of the sorted tokens
/// (an implicit trie), states of shared prefixes reused, refused prefixes skipped whole. States met during the walk
/// are interned and their byte transitions memoised, so a state that loops on itself (inside a JSON string, say)
/// costs one table lookup per byte.
struct TokenMaskBuilder {
    let grammar: Grammar
    let vocab: TokenVocabulary

    private var ids: [GrammarState: Int32] = [:]
    private var states: [GrammarState] = []
    /// transitions[state * 256 + byte]: -2 not computed yet, -1 refused, else the next state's id.
    private var transitions: [Int32] = []

    var transitionsCount: Int { transitions.count }

    init(grammar: Grammar, vocab: TokenVocabulary) {
        self.grammar = grammar
        self.vocab = vocab
    }

    private mutating func intern(_ s: GrammarState) -> Int32 {
        if let k = ids[s] { return k }
        let k = Int32(states.count)
        ids[s] = k
        states.append(s)
        transitions.append(contentsOf: repeatElement(-2, count: 256))
        return k
    }

    private mutating func step(_ from: Int32, _ byte: UInt8) -> Int32 {
        let slot = Int(from) * 256 + Int(byte)
        let t = transitions[slot]
        if t != -2 { return t }
        let next = grammar.advance(states[Int(from)], byte: byte).map { intern($0) } ?? -1
        transitions[slot] = next
        return next
    }

    /// allowed[t] for every token t.
    mutating func allowed(from state: GrammarState) -> [Bool] {
        var allowed = [Bool](repeating: false, count: vocab.size)
        if grammar.canEnd(state) { for t in vocab.eog where Int(t) < vocab.size { allowed[Int(t)] = true } }
        if grammar.mustEnd(state) { return allowed }
        var path: [Int32] = [intern(state)]   // path[d]: state after the first d bytes of the current token
        let order = vocab.order, lcp = vocab.lcp, offsets = vocab.offsets
        vocab.data.withUnsafeBufferPointer { data in
            var valid = 0   // path[0...valid] belong to the previous token's prefix
            var i = 0
            while i < order.count {
                let tok = Int(order[i])
                let start = Int(offsets[tok]), end = Int(offsets[tok + 1])
                var d = min(valid, Int(lcp[i]))
                var refused = false
                while start + d < end {
                    let next = step(path[d], data[start + d])
                    if next < 0 { refused = true; break }
                    if path.count > d + 1 { path[d + 1] = next } else { path.append(next) }
                    d += 1
                }
                valid = d
                i += 1
                if refused {
                    // Every following token sharing bytes 0...d with this one is refused too.
                    while i < order.count && Int(lcp[i]) > d { i += 1 }
                } else {
                    allowed[tok] = true
                }
            }
        }
        return allowed
    }
}
