extension CodepointText {
    /// DeepSeek LLM's pre-tokenizer (llama-vocab.cpp, LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_LLM), six expressions in turn:
    ///
    ///     [\r\n]                          each newline alone
    ///     \s?[A-Za-zµÀ-Ö...]+             letters of the scripts in `latinGreekCyrillicEtc`, one whitespace before
    ///     \s?[!-/:-~！-／：-～‘-‟　-。]+     ASCII and full-width punctuation (":-~" takes in ASCII letters too)
    ///     \s+$                            the whitespace that ends a piece
    ///     [一-龥ࠀ-一가-퟿]+                 CJK ideographs, U+0800-U+4E00, Hangul
    ///     \p{N}+                          numbers
    ///
    /// llama.cpp runs the first five with std::wregex, where `\s` is ASCII whitespace and every other whitespace
    /// codepoint was first replaced by U+000B; so U+3000 counts as whitespace, never as the last range's first member.
    func deepseekLLM() -> [Range<Int>] {
        // Codepoints as the wide regexes see them.
        let seen = cps.indices.map { classes[$0].isWhitespace && cps[$0] > 0x7F ? 0x0B : cps[$0] }
        func space(_ p: Int) -> Bool { let c = seen[p]; return c == 0x20 || (c >= 0x09 && c <= 0x0D) }
        func inRanges(_ c: UInt32, _ ranges: [ClosedRange<UInt32>]) -> Bool { ranges.contains { $0.contains(c) } }

        func member(_ ranges: [ClosedRange<UInt32>]) -> (Int) -> Bool { { p in inRanges(seen[p], ranges) } }
        var pieces = [0 ..< count]
        pieces = splitMatches(pieces) { p, _ in seen[p] == 0x0A || seen[p] == 0x0D ? p + 1 : nil }
        pieces = splitMatches(pieces) { Self.spaceThenRun($0, $1, space: space, member(Self.latinGreekCyrillicEtc)) }
        pieces = splitMatches(pieces) { Self.spaceThenRun($0, $1, space: space, member(Self.deepseekPunctuation)) }
        pieces = splitMatches(pieces) { p, end in
            // \s+$: leftmost p from which only whitespace remains.
            Self.run(p, end, space) == end ? end : nil
        }
        pieces = splitMatches(pieces) { Self.run($0, $1, member(Self.deepseekCJK)) }
        pieces = splitMatches(pieces) { Self.run($0, $1) { classes[$0].isNumber } }
        return pieces
    }

    /// DeepSeek Coder's pre-tokenizer (LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_CODER), five expressions in turn:
    ///
    ///     [\r\n]                each newline alone
    ///     \s?\p{L}+             letters, one whitespace before
    ///     \s?\p{P}+             punctuation, one whitespace before
    ///     [一-龥ࠀ-一가-퟿]+         CJK ideographs, U+0800-U+4E00, Hangul (whitespace in that range excluded, as above)
    ///     \p{N}                  each number codepoint alone
    ///
    /// llama.cpp runs the `\p` expressions over its collapsed text (ASCII as itself, every other codepoint by its
    /// category, whitespace as U+000B), so there `\s` is its whole whitespace set and `\p{P}` is ASCII's
    /// punctuation without the symbols $+<=>^`|~ plus every other codepoint of category P.
    func deepseekCoder() -> [Range<Int>] {
        let seen = cps.indices.map { classes[$0].isWhitespace && cps[$0] > 0x7F ? 0x0B : cps[$0] }
        func space(_ p: Int) -> Bool { classes[p].isWhitespace }
        var pieces = [0 ..< count]
        pieces = splitMatches(pieces) { p, _ in seen[p] == 0x0A || seen[p] == 0x0D ? p + 1 : nil }
        pieces = splitMatches(pieces) { Self.spaceThenRun($0, $1, space: space) { classes[$0].isLetter } }
        pieces = splitMatches(pieces) { Self.spaceThenRun($0, $1, space: space) { classes[$0].isPunctuation } }
        pieces = splitMatches(pieces) { p, end in
            Self.run(p, end) { q in Self.deepseekCJK.contains { $0.contains(seen[q]) } }
        }
        pieces = splitMatches(pieces) { p, _ in classes[p].isNumber ? p + 1 : nil }
        return pieces
    }

    /// The letter class of DeepSeek LLM's second expression, range for range as llama-vocab.cpp spells it.
    static let latinGreekCyrillicEtc: [ClosedRange<UInt32>] = [
        0x0041...0x005A, 0x0061...0x007A, 0x00B5...0x00B5, 0x00C0...0x00D6, 0x00D8...0x00F6, 0x00F8...0x01BA,
        0x01BC...0x01BF, 0x01C4...0x0293, 0x0295...0x02AF, 0x0370...0x0373, 0x0376...0x0377, 0x037B...0x037D,
        0x037F...0x037F, 0x0386...0x0386, 0x0388...0x038A, 0x038C...0x038C, 0x038E...0x03A1, 0x03A3...0x03F5,
        0x03F7...0x0481, 0x048A...0x052F, 0x0531...0x0556, 0x10A0...0x10C5, 0x13A0...0x13F5, 0x13F8...0x13FD,
        0x1C90...0x1CBA, 0x1CBD...0x1CBF, 0x1D00...0x1D2B, 0x1D6B...0x1D77, 0x1D79...0x1D9A, 0x1E00...0x1F15,
        0x1F18...0x1F1D, 0x1F20...0x1F45, 0x1F48...0x1F4D, 0x1F50...0x1F57, 0x1F59...0x1F59, 0x1F5B...0x1F5B,
        0x1F5D...0x1F5D, 0x1F5F...0x1F7D, 0x1F80...0x1FB4, 0x1FB6...0x1FBC, 0x1FBE...0x1FBE, 0x1FC2...0x1FC4,
        0x1FC6...0x1FCC, 0x1FD0...0x1FD3, 0x1FD6...0x1FDB, 0x1FE0...0x1FEC, 0x1FF2...0x1FF4, 0x1FF6...0x1FFC,
        0x2102...0x2102, 0x2107...0x2107, 0x210A...0x2113, 0x2115...0x2115, 0x2119...0x211D, 0x2124...0x2124,
        0x2126...0x2126, 0x2128...0x2128, 0x212A...0x212D, 0x212F...0x2134, 0x2139...0x2139, 0x213C...0x213F,
        0x2145...0x2149, 0x214E...0x214E, 0x2183...0x2184, 0x2C00...0x2C7B, 0x2C7E...0x2CE4, 0x2CEB...0x2CEE,
        0x2CF2...0x2CF3, 0xA640...0xA66D, 0xA680...0xA69B, 0xA722...0xA76F, 0xA771...0xA787, 0xA78B...0xA78E,
        0xAB70...0xABBF, 0xFB00...0xFB06, 0xFB13...0xFB17, 0xFF21...0xFF3A, 0xFF41...0xFF5A, 0x10400...0x1044F,
        0x104B0...0x104D3, 0x104D8...0x104FB, 0x10C80...0x10CB2, 0x10CC0...0x10CF2, 0x118A0...0x118DF,
        0x1E900...0x1E943,
    ]

    /// `[!-/:-~！-／：-～‘-‟　-。]`
    static let deepseekPunctuation: [ClosedRange<UInt32>] = [
        0x0021...0x002F, 0x003A...0x007E, 0xFF01...0xFF0F, 0xFF1A...0xFF5E, 0x2018...0x201F, 0x3000...0x3002,
    ]

    /// `[一-龥ࠀ-一가-퟿]`
    static let deepseekCJK: [ClosedRange<UInt32>] = [0x4E00...0x9FA5, 0x0800...0x4E00, 0xAC00...0xD7FF]
}
