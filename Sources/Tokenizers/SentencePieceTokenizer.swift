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

    private func tokenize(_ text: [UInt8], into out: inout [Int32]) {
        guard !text.isEmpty else { return }
        text.withUnsafeBufferPointer { t in
            func lookup(_ start: Int, _ length: Int) -> Int32? {
                vocab.table.id(UnsafeBufferPointer(rebasing: t[start ..< start + length]))
            }
            var chain = SymbolChain(characters: t)
            // Highest score of the token the pair spells first.
            chain.merge(priority: { _, left, _, right -> HigherFirst? in
                guard let id = lookup(left.start, left.length + right.length) else { return nil }
                return HigherFirst(vocab.scores[Int(id)])
            }, merged: { _, _ in })
            chain.forEach { _, s in
                if let id = lookup(s.start, s.length) {
                    out.append(id)
                } else {
                    for b in UnsafeBufferPointer(rebasing: t[s.start ..< s.start + s.length]) {
                        let id = byteTokens[Int(b)]
                        if id >= 0 { out.append(id) } else if let unk = vocab.unknown { out.append(unk) }
                    }
                }
            }
        }
    }

    /// A score ordered so that the higher one comes first.
    private struct HigherFirst: Comparable {
        let score: Float
        init(_ score: Float) { self.score = score }
        static func < (a: HigherFirst, b: HigherFirst) -> Bool { a.score > b.score }
    }

    /// The tokens' bytes, less the one space `tokenizer.ggml.add_space_prefix` put in front: llama.cpp's
    /// `llama_detokenize` strips one leading space from the first token's piece only (a BOS first keeps it).
    public func decode(_ ids: [Int32], renderSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        for (i, id) in ids.enumerated() {
            let piece = tokenBytes(id, renderSpecial: renderSpecial)
            if i == 0 && addSpacePrefix && piece.first == 0x20 {
                bytes.append(contentsOf: piece.dropFirst())
            } else {
                bytes.append(contentsOf: piece)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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
