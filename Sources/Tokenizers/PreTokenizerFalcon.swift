extension CodepointText {
    /// Falcon's pre-tokenizer (llama-vocab.cpp, LLAMA_VOCAB_PRE_TYPE_FALCON), three expressions in turn:
    ///
    ///     [\p{P}\$\+<=>\^~\|`]+   runs of punctuation and ASCII's symbols (other codepoints: category P only)
    ///     GPT-2's expression      (`gpt2`, llama.cpp's custom splitter, within each piece)
    ///     [0-9][0-9][0-9]         three ASCII digits, left to right
    func falcon() -> [Range<Int>] {
        let punctuation = splitMatches([0 ..< count]) { p, end in
            Self.run(p, end) { q in
                let c = cps[q]
                return classes[q].isPunctuation || c == 0x24 || c == 0x2B || (0x3C...0x3E).contains(c) || c == 0x5E
                    || c == 0x7E || c == 0x7C || c == 0x60
            }
        }
        var words: [Range<Int>] = []
        for piece in punctuation { gpt2(piece, into: &words) }
        func digit(_ q: Int) -> Bool { (0x30...0x39).contains(cps[q]) }
        return splitMatches(words) { p, end in
            p + 3 <= end && digit(p) && digit(p + 1) && digit(p + 2) ? p + 3 : nil
        }
    }
}
