import HeapModule

/// One word's UTF-8 characters as a linked list whose adjacent pairs merge best-first: llama.cpp's `llm_symbol`
/// list and bigram queue, which both tokenizer families drive. Which pairs may merge, and in what order, is the
/// family's part (`priority`: lowest first; ties: the leftmost pair).
struct SymbolChain {
    struct Symbol {
        var start: Int     // byte offset in the word
        var length: Int    // bytes; 0 once merged into its left neighbour
        var prev: Int      // -1 at either end
        var next: Int
    }

    private(set) var symbols: [Symbol] = []

    /// One symbol per UTF-8 character of `word` (a character cut short by the end of the word keeps what is there).
    init(characters word: UnsafeBufferPointer<UInt8>) {
        var offset = 0
        while offset < word.count {
            let len = min(utf8Length(word[offset]), word.count - offset)
            symbols.append(Symbol(start: offset, length: len, prev: symbols.count - 1,
                                  next: offset + len == word.count ? -1 : symbols.count + 1))
            offset += len
        }
    }

    /// Merges adjacent symbols until no pair has a priority. `priority(l, left, r, right)` ranks symbols `l` and `r`
    /// as a pair (nil: they never merge); `merged(l, symbol)` is told after `l` has taken in its right neighbour.
    mutating func merge<Priority: Comparable>(
        priority: (_ l: Int, _ left: Symbol, _ r: Int, _ right: Symbol) -> Priority?,
        merged: (_ l: Int, _ symbol: Symbol) -> Void
    ) {
        var queue = Heap<Pair<Priority>>()
        func addPair(_ l: Int, _ r: Int) {
            guard l >= 0, r >= 0, let p = priority(l, symbols[l], r, symbols[r]) else { return }
            queue.insert(Pair(priority: p, left: l, right: r, size: symbols[l].length + symbols[r].length))
        }
        for i in 1..<max(symbols.count, 1) { addPair(i - 1, i) }
        while let pair = queue.popMin() {
            let l = pair.left, r = pair.right
            // Skip a pair one of whose symbols has changed since it was queued.
            if symbols[l].length == 0 || symbols[r].length == 0
                || symbols[l].length + symbols[r].length != pair.size { continue }
            symbols[l].length += symbols[r].length
            symbols[r].length = 0
            symbols[l].next = symbols[r].next
            if symbols[r].next >= 0 { symbols[symbols[r].next].prev = l }
            merged(l, symbols[l])
            addPair(symbols[l].prev, l)
            addPair(l, symbols[l].next)
        }
    }

    /// The symbols left, first to last, with their index.
    func forEach(_ body: (_ index: Int, _ symbol: Symbol) -> Void) {
        var i = symbols.isEmpty ? -1 : 0
        while i >= 0 {
            body(i, symbols[i])
            i = symbols[i].next
        }
    }
}

/// A queued pair of adjacent symbols; `size` is their combined length when queued, to spot a stale entry. Pairs that
/// compare equal (same priority, same left symbol) can only be copies of one pair of which at most one merges, so the
/// heap's order among them does not change the result.
private struct Pair<Priority: Comparable>: Comparable {
    let priority: Priority
    let left: Int
    let right: Int
    let size: Int

    static func < (a: Pair, b: Pair) -> Bool { a.priority != b.priority ? a.priority < b.priority : a.left < b.left }
}

/// Bytes in a UTF-8 sequence from its first byte (llama.cpp's `unicode_len_utf8`: a stray continuation byte is 1).
@inline(__always)
func utf8Length(_ b: UInt8) -> Int {
    switch b >> 4 {
    case 0xF: return 4
    case 0xE: return 3
    case 0xC, 0xD: return 2
    default: return 1
    }
}
