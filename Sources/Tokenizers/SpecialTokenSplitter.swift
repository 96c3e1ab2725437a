/// A piece of input text after special-token splitting: raw bytes still to tokenize, or a token already decided.
enum Fragment: Equatable {
    case text(Range<Int>)   // byte range in the input
    case token(Int32)
}

extension Vocabulary {
    /// llama.cpp's `tokenizer_st_partition`: for each special token, longest text first, every occurrence in the
    /// still-raw fragments becomes that token. Control and unknown tokens take part only when `parseSpecial`;
    /// user-defined tokens always do (as in Hugging Face tokenizers).
    func splitSpecial(_ text: [UInt8], parseSpecial: Bool) -> [Fragment] {
        guard !text.isEmpty else { return [] }
        var fragments: [Fragment] = [.text(0..<text.count)]
        // Which bytes and byte pairs occur in the text: most special tokens can be ruled out without a search.
        var seenByte = [Bool](repeating: false, count: 256)
        var seenPair = [UInt64](repeating: 0, count: 65536 / 64)
        for i in 0..<text.count {
            seenByte[Int(text[i])] = true
            if i + 1 < text.count {
                let p = Int(text[i]) << 8 | Int(text[i + 1])
                seenPair[p >> 6] |= 1 << UInt64(p & 63)
            }
        }
        text.withUnsafeBufferPointer { input in
            for special in specialTokens {
                let attr = attributes[Int(special)]
                if !parseSpecial && !attr.isDisjoint(with: [.control, .unknown]) { continue }
                let needle = table.bytes(Int(special))
                guard let first = needle.first, seenByte[Int(first)] else { continue }
                if needle.count > 1 {
                    let p = Int(first) << 8 | Int(needle[needle.startIndex + 1])
                    if seenPair[p >> 6] & (1 << UInt64(p & 63)) == 0 { continue }
                }
                var next: [Fragment] = []
                var changed = false
                needle.withUnsafeBufferPointer { pattern in
                    for fragment in fragments {
                        guard case .text(let range) = fragment else { next.append(fragment); continue }
                        var base = range.lowerBound
                        let end = range.upperBound
                        while let match = Self.find(pattern, in: input, from: base, to: end) {
                            changed = true
                            var leftEnd = match
                            if attr.contains(.lstrip) {
                                while leftEnd > base && Self.isSpace(input[leftEnd - 1]) { leftEnd -= 1 }
                            }
                            if leftEnd > base { next.append(.text(base..<leftEnd)) }
                            next.append(.token(special))
                            base = match + pattern.count
                            if attr.contains(.rstrip) {
                                while base < end && Self.isSpace(input[base]) { base += 1 }
                            }
                        }
                        if base < end { next.append(.text(base..<end)) }
                    }
                }
                if changed { fragments = next }
            }
        }
        return fragments
    }

    /// First occurrence of `pattern` in `input[from..<to]`.
    private static func find(_ pattern: UnsafeBufferPointer<UInt8>, in input: UnsafeBufferPointer<UInt8>,
                             from: Int, to: Int) -> Int? {
        let m = pattern.count
        guard m > 0, to - from >= m, let base = input.baseAddress, let pat = pattern.baseAddress else { return nil }
        let first = Int32(pat[0])
        var i = from
        let last = to - m
        while i <= last {
            guard let hit = memchr(base + i, first, last - i + 1) else { return nil }
            let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + at, pat, m) == 0 { return at }
            i = at + 1
        }
        return nil
    }

    /// C `isspace` in the "C" locale, as llama.cpp uses for lstrip/rstrip.
    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
