/// Where a grammar match stands: the set of parse stacks still alive (each a list of element positions, the next
/// element to match last; an empty stack means the grammar has matched completely) and the bytes of a UTF-8
/// character seen only in part. Values: copying one is how a caller tries a token without committing.
public struct GrammarState: Sendable, Hashable {
    var stacks: [[Int32]]
    /// The code point bits so far, the continuation bytes still due, and the smallest code point of this length.
    var partial: UInt32 = 0
    var remaining: UInt8 = 0
    var minimum: UInt32 = 0
}

extension Grammar {
    /// A state never holds more stacks than this (an ambiguous grammar could otherwise multiply them each byte).
    static let maxStacks = 4096

    public var initialState: GrammarState {
        var out: [[Int32]] = []
        var seen = Set<[Int32]>()
        for alt in alternatives[Int(root)] {
            expand(elements[Int(alt)] == .end ? [] : [alt], into: &out, seen: &seen)
        }
        return GrammarState(stacks: out)
    }

    /// True when the input so far is a complete match (end of generation may come now).
    public func canEnd(_ s: GrammarState) -> Bool {
        s.remaining == 0 && s.stacks.contains { $0.isEmpty }
    }

    /// True when nothing but the end can follow.
    public func mustEnd(_ s: GrammarState) -> Bool {
        s.remaining == 0 && s.stacks.allSatisfy { $0.isEmpty }
    }

    /// Pushes the alternatives of rule references on top until every stack has a character class on top (or is
    /// empty). Iterative: the grammar has no left recursion, so this terminates; no recursion, so no overflow.
    func expand(_ start: [Int32], into out: inout [[Int32]], seen: inout Set<[Int32]>) {
        var work = [start]
        while let s = work.popLast() {
            guard let top = s.last else {
                if out.count < Self.maxStacks, seen.insert(s).inserted { out.append(s) }
                continue
            }
            switch elements[Int(top)] {
            case .chars:
                if out.count < Self.maxStacks, seen.insert(s).inserted { out.append(s) }
            case .ref(let r):
                var base = s
                base.removeLast()
                if elements[Int(top) + 1] != .end { base.append(top + 1) }
                for alt in alternatives[Int(r)] {
                    var t = base
                    if elements[Int(alt)] != .end { t.append(alt) }
                    work.append(t)
                }
            case .end:
                break
            }
        }
    }

    /// The stacks after matching one whole code point; empty when none can take it.
    func advance(_ stacks: [[Int32]], codePoint cp: UInt32) -> [[Int32]] {
        var out: [[Int32]] = []
        var seen = Set<[Int32]>()
        for s in stacks {
            guard let top = s.last, case .chars(let k) = elements[Int(top)], classes[Int(k)].matches(cp) else { continue }
            var next = s
            next.removeLast()
            if elements[Int(top) + 1] != .end { next.append(top + 1) }
            expand(next, into: &out, seen: &seen)
        }
        return out
    }

    /// The state after one more byte of output, nil when the grammar cannot take it.
    public func advance(_ s: GrammarState, byte b: UInt8) -> GrammarState? {
        var st = s
        if st.remaining == 0 {
            switch b {
            case 0x00..<0x80:
                let next = advance(st.stacks, codePoint: UInt32(b))
                return next.isEmpty ? nil : GrammarState(stacks: next)
            case 0xC2...0xDF: st.partial = UInt32(b & 0x1F); st.remaining = 1; st.minimum = 0x80
            case 0xE0...0xEF: st.partial = UInt32(b & 0x0F); st.remaining = 2; st.minimum = 0x800
            case 0xF0...0xF4: st.partial = UInt32(b & 0x07); st.remaining = 3; st.minimum = 0x10000
            default: return nil
            }
        } else {
            guard b & 0xC0 == 0x80 else { return nil }
            st.partial = st.partial << 6 | UInt32(b & 0x3F)
            st.remaining -= 1
            if st.remaining == 0 {
                let cp = st.partial
                guard cp >= st.minimum, cp <= 0x10FFFF, !(0xD800...0xDFFF).contains(cp) else { return nil }
                let next = advance(st.stacks, codePoint: cp)
                return next.isEmpty ? nil : GrammarState(stacks: next)
            }
        }
        // Part of a character: keep going only if some stack could take a code point that starts this way.
        guard let (lo, hi) = st.partialRange else { return nil }
        for stack in st.stacks {
            if let top = stack.last, case .chars(let k) = elements[Int(top)], classes[Int(k)].matchesSome(lo, hi) {
                return st
            }
        }
        return nil
    }

    /// The state after `bytes`, nil as soon as one is refused.
    public func advance(_ s: GrammarState, bytes: some Sequence<UInt8>) -> GrammarState? {
        var st = s
        for b in bytes {
            guard let n = advance(st, byte: b) else { return nil }
            st = n
        }
        return st
    }

    /// Whether the grammar matches `text` completely (for tests and tools).
    public func matches(_ text: String) -> Bool {
        guard let s = advance(initialState, bytes: text.utf8) else { return false }
        return canEnd(s)
    }
}
