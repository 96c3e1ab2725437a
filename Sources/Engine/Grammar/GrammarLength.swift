/// Shortest completions. `restBytes[p]` is the fewest bytes that finish the alternative holding element p, from p
/// on (0 at `.end`); a rule's shortest match is its cheapest alternative's. A matcher stack holds one such position
/// per frame (the class on top, continuations below), so the fewest bytes that complete a stack is the sum over its
/// positions and a state's is the least over its stacks. Every byte is one token in both tokenizer families (byte
/// tokens), so bytes bound tokens from above; `TokenVocabulary.fewestTokens` tightens a completion's spelling.
struct GrammarLengths: Sendable {
    /// Saturating "no completion" value; sums stay below Int.max.
    static let unreachable = Int(Int32.max)

    let restBytes: [Int32]
    /// Per class: the fewest UTF-8 bytes of a member (unreachable when empty) and the member a completion writes.
    let classBytes: [Int32]
    let classPick: [UInt32]

    /// Knuth's generalisation of Dijkstra to grammars: a rule's cost is final once popped, and an alternative
    /// offers its sum only when every rule it references is final. O(E log R); no recursion; cycles are harmless.
    init(elements: [Grammar.Element], alternatives: [[Int32]], classes: [CompiledCharSet]) {
        let inf = Self.unreachable
        var picks: [UInt32] = [], bytes: [Int32] = []
        for c in classes {
            let pick = c.preferredMember
            picks.append(pick ?? 0)
            bytes.append(pick.map { Int32(Self.utf8Length($0)) } ?? Int32(inf))
        }
        classPick = picks
        classBytes = bytes

        // Per alternative: its rule, the sum of its classes, and how many rule references are still open.
        var altRule: [Int] = [], altSum: [Int] = [], altOpen: [Int] = []
        var users = [[Int]](repeating: [], count: alternatives.count)
        for (r, starts) in alternatives.enumerated() {
            for s in starts {
                let a = altRule.count
                var sum = 0, open = 0, p = Int(s)
                scan: while true {
                    switch elements[p] {
                    case .end: break scan
                    case .chars(let k): sum = min(sum + Int(bytes[Int(k)]), inf)
                    case .ref(let b): open += 1; users[Int(b)].append(a)
                    }
                    p += 1
                }
                altRule.append(r); altSum.append(sum); altOpen.append(open)
            }
        }
        var ruleCost = [Int](repeating: inf, count: alternatives.count)
        var final = [Bool](repeating: false, count: alternatives.count)
        var heap = MinHeap()
        for a in altRule.indices where altOpen[a] == 0 && altSum[a] < inf { heap.push(cost: altSum[a], rule: altRule[a]) }
        while let (c, r) = heap.pop() {
            if final[r] { continue }
            final[r] = true
            ruleCost[r] = c
            for a in users[r] {
                altSum[a] = min(altSum[a] + c, inf)
                altOpen[a] -= 1
                if altOpen[a] == 0 && altSum[a] < inf && !final[altRule[a]] { heap.push(cost: altSum[a], rule: altRule[a]) }
            }
        }

        var rest = [Int32](repeating: 0, count: elements.count)
        for starts in alternatives {
            for s in starts {
                var e = Int(s)
                while elements[e] != .end { e += 1 }
                var acc = 0
                for p in stride(from: e - 1, through: Int(s), by: -1) {
                    switch elements[p] {
                    case .chars(let k): acc = min(acc + Int(bytes[Int(k)]), inf)
                    case .ref(let b): acc = min(acc + ruleCost[Int(b)], inf)
                    case .end: break
                    }
                    rest[p] = Int32(acc)
                }
            }
        }
        restBytes = rest
    }

    static func utf8Length(_ cp: UInt32) -> Int { cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4 }

    /// A binary min-heap of (cost, rule), ties to the lower rule.
    private struct MinHeap {
        private var keys: [(Int, Int)] = []
        mutating func push(cost: Int, rule: Int) {
            keys.append((cost, rule))
            var i = keys.count - 1
            while i > 0, keys[i] < keys[(i - 1) / 2] { keys.swapAt(i, (i - 1) / 2); i = (i - 1) / 2 }
        }
        mutating func pop() -> (Int, Int)? {
            guard let top = keys.first else { return nil }
            let last = keys.removeLast()
            if !keys.isEmpty {
                keys[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < keys.count && keys[l] < keys[m] { m = l }
                    if r < keys.count && keys[r] < keys[m] { m = r }
                    if m == i { break }
                    keys.swapAt(i, m)
                    i = m
                }
            }
            return top
        }
    }
}

extension Grammar {
    /// The fewest bytes that take `s` to a complete match (0 when it can end now); `GrammarLengths.unreachable` when
    /// no stack can finish.
    public func minBytes(_ s: GrammarState) -> Int {
        bestStack(s)?.bytes ?? GrammarLengths.unreachable
    }

    /// The fewest bytes a whole match needs (the grammar's shortest string).
    public var minBytes: Int { minBytes(initialState) }

    /// The cheapest stack of `s` and its cost in bytes; with a character seen in part, only stacks whose top class
    /// can take a code point that starts that way count, and its continuation bytes are the first cost.
    private func bestStack(_ s: GrammarState) -> (index: Int, bytes: Int)? {
        let inf = GrammarLengths.unreachable
        let range = s.remaining > 0 ? s.partialRange : nil
        var best: (Int, Int)? = nil
        for (i, stack) in s.stacks.enumerated() {
            var cost = 0
            if let (lo, hi) = range {
                guard let top = stack.last, case .chars(let k) = elements[Int(top)], classes[Int(k)].matchesSome(lo, hi)
                else { continue }
                cost = Int(s.remaining) + Int(lengths.restBytes[Int(top) + 1])
                for p in stack.dropLast() { cost += Int(lengths.restBytes[Int(p)]) }
            } else {
                for p in stack { cost += Int(lengths.restBytes[Int(p)]) }
            }
            if cost < inf, cost < (best?.1 ?? inf) { best = (i, cost) }
        }
        return best
    }

    /// The bytes of one shortest completion of `s` (empty when it can end now), nil when none exists. Rule choices
    /// take the cheapest alternative (the first on ties) and classes their preferred member, so this is a function
    /// of the state alone.
    public func shortestCompletion(_ s: GrammarState) -> [UInt8]? {
        guard let (index, _) = bestStack(s) else { return nil }
        var stack = s.stacks[index]
        var out: [UInt8] = []
        if s.remaining > 0, let (lo, hi) = s.partialRange, let top = stack.popLast(),
           case .chars(let k) = elements[Int(top)], let cp = classes[Int(k)].first(in: lo, hi) {
            // The character's continuation bytes: the last `remaining` of its encoding.
            out += Self.utf8(cp).suffix(Int(s.remaining))
            if elements[Int(top) + 1] != .end { stack.append(top + 1) }
        } else if s.remaining > 0 {
            return nil
        }
        while let top = stack.popLast() {
            if elements[Int(top) + 1] != .end { stack.append(top + 1) }
            switch elements[Int(top)] {
            case .chars(let k):
                out += Self.utf8(lengths.classPick[Int(k)])
            case .ref(let r):
                var pick = alternatives[Int(r)][0]
                for a in alternatives[Int(r)] where lengths.restBytes[Int(a)] < lengths.restBytes[Int(pick)] { pick = a }
                if elements[Int(pick)] != .end { stack.append(pick) }
            case .end:
                break
            }
        }
        return out
    }

    static func utf8(_ cp: UInt32) -> [UInt8] {
        guard let u = Unicode.Scalar(cp) else { return [] }
        return Array(String(Character(u)).utf8)
    }
}

extension GrammarState {
    /// The code points a character seen in part can still become.
    var partialRange: (UInt32, UInt32)? {
        guard remaining > 0 else { return nil }
        let shift = UInt32(remaining) * 6
        let lo = max(partial << shift, minimum)
        let hi = min(partial << shift | ((1 << shift) - 1), 0x10FFFF)
        return lo <= hi ? (lo, hi) : nil
    }
}
