extension CodepointText {
    /// GPT-2's `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)` over `piece`, appending
    /// codepoint ranges (llama.cpp's `unicode_regex_split_custom_gpt2`). Positions outside the piece count as "no
    /// character" (llama.cpp's OUT_OF_RANGE), so `\s+(?!\S)` keeps a trailing whitespace run whole.
    func gpt2(_ piece: Range<Int>, into words: inout [Range<Int>]) {
        let end = piece.upperBound
        func letter(_ p: Int) -> Bool { p < end && classes[p].isLetter }
        func number(_ p: Int) -> Bool { p < end && classes[p].isNumber }
        func space(_ p: Int) -> Bool { p < end && classes[p].isWhitespace }
        func other(_ p: Int) -> Bool { p < end && !classes[p].isWhitespace && !classes[p].isLetter && !classes[p].isNumber }
        let apostrophe: UInt32 = 0x27, blank: UInt32 = 0x20
        var pos = piece.lowerBound
        var wordStart = pos
        func emit(_ upTo: Int) {
            if upTo > wordStart { words.append(wordStart..<upTo) }
            wordStart = upTo
            pos = upTo
        }
        while pos < end {
            let cp = cps[pos]
            // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive here)
            if cp == apostrophe && pos + 1 < end {
                let n1 = cps[pos + 1]
                if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 { emit(pos + 2); continue }   // s t m d
                if pos + 2 < end {
                    let n2 = cps[pos + 2]
                    if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {   // re ve ll
                        emit(pos + 3)
                        continue
                    }
                }
            }
            let look = cp == blank ? pos + 1 : pos   // the optional leading space
            // ' ?\p{L}+' | ' ?\p{N}+' | ' ?[^\s\p{L}\p{N}]+'
            if letter(look) {
                var p = look
                while letter(p) { p += 1 }
                emit(p)
                continue
            }
            if number(look) {
                var p = look
                while number(p) { p += 1 }
                emit(p)
                continue
            }
            if other(look) {
                var p = look
                while other(p) { p += 1 }
                emit(p)
                continue
            }
            var spaces = 0
            while space(pos + spaces) { spaces += 1 }
            if spaces > 1 && pos + spaces < end {
                emit(pos + spaces - 1)        // \s+(?!\S): leave the last space to lead the next word
            } else if spaces > 0 {
                emit(pos + spaces)            // \s+
            } else {
                emit(pos + 1)                 // no match: one codepoint
            }
        }
    }
}
