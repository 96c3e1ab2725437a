/// SentencePiece BPE (`tokenizer.ggml.model` = "llama"), as llama.cpp's `llm_tokenizer_spm_session`.
///
/// Spaces become U+2581 "▁" (a leading one is added only with `tokenizer.ggml.add_space_prefix`); the text is split
/// into UTF-8 characters and the adjacent pair whose concatenation is the highest-scoring token (ties: leftmost) is
/// merged until no pair forms a token. A final piece that is not a token becomes its byte tokens `<0xNN>`.
/// Gemma 3 also lists runs of spaces, runs of newlines and the tab as user-defined tokens: the special-token
/// splitter takes those out of the text first, so "   " is one token and never "▁▁▁".
public struct SentencePieceTokenizer: VocabularyTokenizer {
    let vocab: Vocabulary
    let addSpacePrefix: Bool
    /// Byte value -> its byte token ("<0xNN>", else the one-byte token), -1 if neither exists.
    let byteTokens: [Int32]

    public init(_ data: TokenizerData) throws(TokenizerError) {
        let vocab = try Vocabulary(data, family: .spm)
        let hex = Array("0123456789ABCDEF".utf8)
        var byteTokens = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            let name: [UInt8] = [0x3C, 0x30, 0x78, hex[b >> 4], hex[b & 15], 0x3E]
            byteTokens[b] = vocab.table.id(name) ?? vocab.table.id([UInt8(b)]) ?? -1
        }
        self.vocab = vocab
        self.addSpacePrefix = data.addSpacePrefix ?? true
        self.byteTokens = byteTokens
    }

    private static let escapedSpace: [UInt8] = [0xE2, 0x96, 0x81]

    /// Spaces become "▁"; one more goes in front at the start of the input or after a special token when
    /// `tokenizer.ggml.add_space_prefix` asks for it.
    func encodeText(_ bytes: [UInt8], _ range: Range<Int>, afterSpecial: Bool, into out: inout [Int32]) {
        var escaped: [UInt8] = []
        if addSpacePrefix && afterSpecial { escaped.append(contentsOf: Self.escapedSpace) }
        for b in bytes[range] {
            if b == 0x20 { escaped.append(contentsOf: Self.escapedSpace) } else { escaped.append(b) }
        }
        tokenize(escaped, into: &out)
    }

    private struct Symbol {
        var start: Int
        var length: Int
        var prev: Int
        var next: Int
    }

    private struct Bigram: Comparable {
        let score: Float
        let left: Int
        let right: Int
        let size: Int
        // Highest score first, then leftmost.
        static func < (a: Bigram, b: Bigram) -> Bool { a.score != b.score ? a.score > b.score : a.left < b.left }
    }

    private func tokenize(_ text: [UInt8], into out: inout [Int32]) {
        guard !text.isEmpty else { return }
        text.withUnsafeBufferPointer { t in
            var symbols: [Symbol] = []
            var offset = 0
            while offset < t.count {
                let len = min(utf8Length(t[offset]), t.count - offset)
                symbols.append(Symbol(start: offset, length: len, prev: symbols.count - 1,
                                      next: offset + len == t.count ? -1 : symbols.count + 1))
                offset += len
            }
            var queue = PriorityQueue<Bigram>()
            func addBigram(_ l: Int, _ r: Int) {
                guard l >= 0, r >= 0 else { return }
                let start = symbols[l].start
                let size = symbols[l].length + symbols[r].length
                guard let id = vocab.table.id(UnsafeBufferPointer(rebasing: t[start ..< start + size])) else { return }
                queue.push(Bigram(score: vocab.scores[Int(id)], left: l, right: r, size: size))
            }
            for i in 1..<max(symbols.count, 1) { addBigram(i - 1, i) }
            while let bigram = queue.pop() {
                let l = bigram.left, r = bigram.right
                if symbols[l].length == 0 || symbols[r].length == 0
                    || symbols[l].length + symbols[r].length != bigram.size { continue }
                symbols[l].length += symbols[r].length
                symbols[r].length = 0
                symbols[l].next = symbols[r].next
                if symbols[r].next >= 0 { symbols[symbols[r].next].prev = l }
                addBigram(symbols[l].prev, l)
                addBigram(l, symbols[l].next)
            }
            var i = 0
            while i >= 0 {
                let s = symbols[i]
                let piece = UnsafeBufferPointer(rebasing: t[s.start ..< s.start + s.length])
                if let id = vocab.table.id(piece) {
                    out.append(id)
                } else {
                    for b in piece {
                        let id = byteTokens[Int(b)]
                        if id >= 0 { out.append(id) } else if let unk = vocab.unknown { out.append(unk) }
                    }
                }
                i = s.next
            }
        }
    }

    /// A normal token's "▁" back to " ".
    func normalTokenBytes(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            if text[i] == 0xE2, i + 2 < text.endIndex, text[i + 1] == 0x96, text[i + 2] == 0x81 {
                out.append(0x20)
                i += 3
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }
}
