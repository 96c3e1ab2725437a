/// GPT-2 style byte-level BPE (`tokenizer.ggml.model` = "gpt2"), as llama.cpp's `llm_tokenizer_bpe_session`.
///
/// Per word from the pre-tokenizer: bytes are spelled in GPT-2's byte alphabet, split into characters, and the
/// adjacent pair with the lowest merge rank (earliest in `tokenizer.ggml.merges`; ties: leftmost) is merged until no
/// pair has a rank. A final piece that is not a token falls back to its single-byte tokens.
public struct BPETokenizer: VocabularyTokenizer {
    let vocab: Vocabulary
    let preTokenizer: BPEPreTokenizer
    /// (left id << 32 | right id) -> rank.
    let ranks: [UInt64: Int32]

    public init(_ data: TokenizerData) throws(TokenizerError) {
        guard let pre = BPEPreTokenizer(name: data.pre ?? "default") else {
            throw .unsupportedPreTokenizer(data.pre ?? "(missing)")
        }
        guard let merges = data.merges else {
            throw .metadata(key: "tokenizer.ggml.merges", detail: "required for a gpt2 tokenizer but missing")
        }
        let vocab = try Vocabulary(data, family: .bpe)
        var ranks = [UInt64: Int32](minimumCapacity: merges.count)
        for (rank, merge) in merges.enumerated() {
            let bytes = Array(merge.utf8)
            // The separator is the first space after the first byte (llama.cpp: word.find(' ', 1)).
            guard bytes.count >= 3, let space = bytes[1...].firstIndex(of: 0x20) else {
                throw .malformedMerge(index: rank, text: merge)
            }
            guard let left = vocab.table.id(bytes[..<space]), let right = vocab.table.id(bytes[(space + 1)...]) else {
                throw .unknownMergeToken(index: rank, text: merge)
            }
            let key = UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))
            if ranks[key] == nil { ranks[key] = Int32(rank) }   // the first (best) rank wins, as std::map::emplace
        }
        self.vocab = vocab
        self.preTokenizer = pre
        self.ranks = ranks
    }

    func encodeText(_ bytes: [UInt8], _ range: Range<Int>, afterSpecial: Bool, into out: inout [Int32]) {
        var encoded: [UInt8] = []
        for word in preTokenizer.split(bytes, range) {
            encoded.removeAll(keepingCapacity: true)
            ByteLevelEncoding.encode(bytes[word], into: &encoded)
            mergeWord(encoded, into: &out)
        }
    }

    /// A normal token is spelled in GPT-2's byte alphabet.
    func normalTokenBytes(_ text: ArraySlice<UInt8>) -> [UInt8] { ByteLevelEncoding.decode(text) }

    private struct Symbol {
        var start: Int
        var length: Int
        var id: Int32        // token id of this symbol's text, -1 if none
        var prev: Int
        var next: Int
    }

    private struct Bigram: Comparable {
        let rank: Int32
        let left: Int
        let right: Int
        let size: Int
        // Lowest rank first, then leftmost.
        static func < (a: Bigram, b: Bigram) -> Bool { a.rank != b.rank ? a.rank < b.rank : a.left < b.left }
    }

    private func mergeWord(_ word: [UInt8], into out: inout [Int32]) {
        word.withUnsafeBufferPointer { w in
            var symbols: [Symbol] = []
            var offset = 0
            while offset < w.count {
                let len = min(utf8Length(w[offset]), w.count - offset)
                let id = vocab.table.id(UnsafeBufferPointer(rebasing: w[offset ..< offset + len])) ?? -1
                symbols.append(Symbol(start: offset, length: len, id: id, prev: symbols.count - 1,
                                      next: offset + len == w.count ? -1 : symbols.count + 1))
                offset += len
            }
            var queue = PriorityQueue<Bigram>()
            func addBigram(_ l: Int, _ r: Int) {
                guard l >= 0, r >= 0 else { return }
                let a = symbols[l].id, b = symbols[r].id
                guard a >= 0, b >= 0, let rank = ranks[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))] else { return }
                queue.push(Bigram(rank: rank, left: l, right: r, size: symbols[l].length + symbols[r].length))
            }
            for i in 1..<max(symbols.count, 1) { addBigram(i - 1, i) }
            while let bigram = queue.pop() {
                let l = bigram.left, r = bigram.right
                // Skip a pair one of whose symbols has changed since it was queued.
                if symbols[l].length == 0 || symbols[r].length == 0
                    || symbols[l].length + symbols[r].length != bigram.size { continue }
                symbols[l].length += symbols[r].length
                symbols[r].length = 0
                let start = symbols[l].start
                symbols[l].id = vocab.table.id(UnsafeBufferPointer(rebasing: w[start ..< start + symbols[l].length])) ?? -1
                symbols[l].next = symbols[r].next
                if symbols[r].next >= 0 { symbols[symbols[r].next].prev = l }
                addBigram(symbols[l].prev, l)
                addBigram(l, symbols[l].next)
            }
            var i = symbols.isEmpty ? -1 : 0
            while i >= 0 {
                let s = symbols[i]
                if s.id >= 0 {
                    out.append(s.id)
                } else {
                    for k in s.start ..< s.start + s.length {
                        if let id = vocab.table.id(UnsafeBufferPointer(rebasing: w[k ..< k + 1])) { out.append(id) }
                    }
                }
                i = s.next
            }
        }
    }
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
