/// Splits raw text into words before BPE, as llama.cpp's `unicode_regex_split` does for a pre-tokenizer type.
///
/// "smollm" (llama-vocab.cpp, LLAMA_VOCAB_PRE_TYPE_SMOLLM) applies two expressions in turn:
///   1. `\p{N}`: every number codepoint becomes a word of its own; the text between stays one piece;
///   2. GPT-2's `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)` within each piece, hand-coded
///      here the way llama.cpp's `unicode_regex_split_custom_gpt2` does it.
enum BPEPreTokenizer: Sendable {
    case smollm

    static let supportedNames: Set<String> = ["smollm"]

    init?(name: String) {
        switch name {
        case "smollm": self = .smollm
        default: return nil
        }
    }

    /// Word byte ranges of `text[range]`, in order, covering it.
    func split(_ text: [UInt8], _ range: Range<Int>) -> [Range<Int>] {
        // Decode to codepoints, keeping each one's byte offset (the input came from a Swift String: valid UTF-8).
        var cps: [UInt32] = []
        var starts: [Int] = []
        cps.reserveCapacity(range.count)
        starts.reserveCapacity(range.count + 1)
        var i = range.lowerBound
        while i < range.upperBound {
            let b0 = UInt32(text[i])
            var len = 1
            var cp = b0
            if b0 >= 0xF0 { len = 4; cp = b0 & 0x07 } else if b0 >= 0xE0 { len = 3; cp = b0 & 0x0F } else if b0 >= 0xC0 { len = 2; cp = b0 & 0x1F }
            len = min(len, range.upperBound - i)
            for k in 1..<max(len, 1) { cp = cp << 6 | (UInt32(text[i + k]) & 0x3F) }
            cps.append(cp)
            starts.append(i)
            i += len
        }
        starts.append(range.upperBound)
        let classes = cps.map(CodepointClass.init)

        var words: [Range<Int>] = []
        // 1. \p{N} isolation.
        var pieceStart = 0
        for (k, c) in classes.enumerated() where c.isNumber {
            if k > pieceStart { Self.gpt2(cps, classes, pieceStart..<k, into: &words) }
            words.append(k..<k + 1)
            pieceStart = k + 1
        }
        if pieceStart < cps.count { Self.gpt2(cps, classes, pieceStart..<cps.count, into: &words) }
        return words.map { starts[$0.lowerBound] ..< starts[$0.upperBound] }
    }

    /// GPT-2's expression over codepoints `cps[piece]`, appending codepoint ranges. Positions outside the piece
    /// count as "no character" (llama.cpp's OUT_OF_RANGE), so `\s+(?!\S)` keeps a trailing whitespace run whole.
    private static func gpt2(_ cps: [UInt32], _ classes: [CodepointClass], _ piece: Range<Int>,
                             into words: inout [Range<Int>]) {
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
            // 's|'t|'re|'ve|'m|'ll|'d
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
