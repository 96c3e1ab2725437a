/// GPT-2 style byte-level BPE (`tokenizer.ggml.model` = "gpt2"), as llama.cpp's `llm_tokenizer_bpe_session`.
///
/// Per word from the pre-tokenizer: bytes are spelled in GPT-2's byte alphabet, split into characters, and the
/// adjacent pair with the lowest merge rank (earliest in `tokenizer.ggml.merges`; ties: leftmost) is merged until no
/// pair has a rank. A final piece that is not a token falls back to its single-byte tokens. With Llama 3's
/// pre-tokenizer a word that is itself a token is taken whole first (llama.cpp's `ignore_merges`).
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
        let vocab = try Vocabulary(data, family: .bpe, addBOSDefault: pre.addsBOSByDefault ? true : nil)
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

    private func mergeWord(_ word: [UInt8], into out: inout [Int32]) {
        if preTokenizer.ignoresMerges, let whole = vocab.table.id(word) {
            out.append(whole)
            return
        }
        word.withUnsafeBufferPointer { w in
            func lookup(_ start: Int, _ length: Int) -> Int32? {
                vocab.table.id(UnsafeBufferPointer(rebasing: w[start ..< start + length]))
            }
            var chain = SymbolChain(characters: w)
            // Token id of each symbol's text, -1 if none.
            var ids = chain.symbols.map { lookup($0.start, $0.length) ?? -1 }
            // Lowest rank first.
            chain.merge(priority: { l, _, r, _ -> Int32? in
                let a = ids[l], b = ids[r]
                guard a >= 0, b >= 0 else { return nil }
                return ranks[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))]
            }, merged: { l, s in
                ids[l] = lookup(s.start, s.length) ?? -1
            })
            chain.forEach { i, s in
                if ids[i] >= 0 {
                    out.append(ids[i])
                } else {
                    for k in s.start ..< s.start + s.length {
                        if let id = lookup(k, 1) { out.append(id) }
                    }
                }
            }
        }
    }
}
