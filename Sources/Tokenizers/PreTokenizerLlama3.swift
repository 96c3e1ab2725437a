extension CodepointText {
    /// Llama 3's expression and its Qwen variants over `piece`, appending codepoint ranges (llama.cpp's
    /// `unicode_regex_split_custom_llama3` / `_qwen2` / `_qwen35`):
    ///
    ///     (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,digitRun} | ?[^\s\p{L}\p{N}]+[\r\n]*
    ///     | \s*[\r\n]+ | \s+(?!\S) | \s+
    ///
    /// `digitRun`: 3 for Llama 3, 1 for Qwen. `marksAreLetters` (Qwen3.5): `[\p{L}\p{M}]` wherever `\p{L}` stands,
    /// except in the optional first character's exclusion. Positions outside the piece are "no character".
    func llama3(_ piece: Range<Int>, digitRun: Int, marksAreLetters: Bool, into words: inout [Range<Int>]) {
        let end = piece.upperBound
        func inside(_ p: Int) -> Bool { p < end }
        func letter(_ p: Int) -> Bool {
            p < end && (classes[p].isLetter || (marksAreLetters && classes[p].isMark))
        }
        func number(_ p: Int) -> Bool { p < end && classes[p].isNumber }
        func space(_ p: Int) -> Bool { p < end && classes[p].isWhitespace }
        /// [^\s\p{L}\p{N}] (and not \p{M} when marks are letters): any other character inside the piece.
        func other(_ p: Int) -> Bool { p < end && !space(p) && !letter(p) && !number(p) }
        func newline(_ p: Int) -> Bool { p < end && (cps[p] == 0x0A || cps[p] == 0x0D) }
        /// ASCII lowercase: no other codepoint lowercases to the letters the contractions test.
        func lower(_ p: Int) -> UInt32 {
            let c = cps[p]
            return c >= 0x41 && c <= 0x5A ? c + 0x20 : c
        }

        var pos = piece.lowerBound
        var wordStart = pos
        func emit(_ upTo: Int) {
            if upTo > wordStart { words.append(wordStart ..< upTo) }
            wordStart = upTo
            pos = upTo
        }
        while pos < end {
            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if cps[pos] == 0x27 && pos + 1 < end {
                let n1 = lower(pos + 1)
                if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 { emit(pos + 2); continue }   // s t m d
                if pos + 2 < end {
                    let n2 = lower(pos + 2)
                    if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {   // re ve ll
                        emit(pos + 3)
                        continue
                    }
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+: a letter run, led by at most one character that is no newline or number.
            if !newline(pos) && !number(pos) && (letter(pos) || letter(pos + 1)) {
                var p = pos + 1
                while letter(p) { p += 1 }
                emit(p)
                continue
            }
            // \p{N}{1,digitRun}: a number run cut every digitRun codepoints.
            if number(pos) {
                var p = pos
                while number(p) && p - pos < digitRun { p += 1 }
                emit(p)
                continue
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            let look = cps[pos] == 0x20 ? pos + 1 : pos
            if other(look) {
                var p = look
                while other(p) { p += 1 }
                while newline(p) { p += 1 }
                emit(p)
                continue
            }
            var spaces = 0
            var afterLastNewline = 0
            while space(pos + spaces) {
                if newline(pos + spaces) { afterLastNewline = pos + spaces + 1 }
                spaces += 1
            }
            if afterLastNewline > 0 {
                emit(afterLastNewline)          // \s*[\r\n]+
            } else if spaces > 1 && inside(pos + spaces) {
                emit(pos + spaces - 1)          // \s+(?!\S): leave the last space to lead the next word
            } else if spaces > 0 {
                emit(pos + spaces)              // \s+
            } else {
                emit(pos + 1)                   // no match: one codepoint
            }
        }
    }
}
