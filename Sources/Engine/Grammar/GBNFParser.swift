/// Parses llama.cpp's GBNF: `name ::= alternatives`, one rule per line (a rule continues over newlines only after
/// `::=`, after `|` and inside parentheses), `"literals"` and `[classes]` with escapes (\n \r \t \\ \" \] \[ \- \xHH
/// \uHHHH \UHHHHHHHH), `[^...]` negation, `.` any character, `( )` groups, `* + ?` and `{m}` `{m,}` `{m,n}` `{,n}`
/// repetition, `#` comments. Errors carry line and column; nesting deeper than `maxDepth` is an error, not a crash.
struct GBNFParser {
    static let maxDepth = 64
    static let maxRepeat = 10_000
    static let maxSourceBytes = 4 << 20

    private let s: [UInt8]
    private var i = 0
    private var depth = 0

    /// Offsets of the first byte of each line, for error positions.
    private let lineStarts: [Int]

    init(_ source: String) {
        s = Array(source.utf8)
        var starts = [0]
        for (k, b) in s.enumerated() where b == 0x0A { starts.append(k + 1) }
        lineStarts = starts
    }

    static func parse(_ source: String) throws(GrammarError) -> [GBNFRule] {
        guard source.utf8.count <= maxSourceBytes else { throw .tooLarge("source is over \(maxSourceBytes) bytes") }
        var p = GBNFParser(source)
        return try p.parseRules()
    }

    // MARK: positions and errors

    private func position(_ at: Int) -> (Int, Int) {
        let at = min(at, s.count)
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= at { lo = mid } else { hi = mid - 1 }
        }
        var col = 1
        for k in lineStarts[lo]..<at where s[k] & 0xC0 != 0x80 { col += 1 }
        return (lo + 1, col)
    }

    private func fail(_ message: String, at: Int? = nil) -> GrammarError {
        let (l, c) = position(at ?? i)
        return .syntax(line: l, column: c, message: message)
    }

    private var atEnd: Bool { i >= s.count }
    private var cur: UInt8 { i < s.count ? s[i] : 0 }

    /// Skips blanks and comments; newlines too when `newlines`.
    private mutating func space(newlines: Bool) {
        while i < s.count {
            let c = s[i]
            if c == 0x20 || c == 0x09 || c == 0x0D { i += 1 }
            else if c == 0x0A && newlines { i += 1 }
            else if c == UInt8(ascii: "#") { while i < s.count && s[i] != 0x0A { i += 1 } }
            else { break }
        }
    }

    private static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
    }

    private mutating func name() throws(GrammarError) -> String {
        let start = i
        while i < s.count && Self.isNameByte(s[i]) { i += 1 }
        guard i > start else { throw fail("expected a rule name") }
        return String(decoding: s[start..<i], as: UTF8.self)
    }

    // MARK: rules

    private mutating func parseRules() throws(GrammarError) -> [GBNFRule] {
        var rules: [GBNFRule] = []
        space(newlines: true)
        while !atEnd {
            let (l, c) = position(i)
            let n = try name()
            space(newlines: false)
            guard s.count - i >= 3, s[i] == 0x3A, s[i + 1] == 0x3A, s[i + 2] == 0x3D else {
                throw fail("expected '::=' after rule name '\(n)'")
            }
            i += 3
            space(newlines: true)
            let alts = try alternatives(nested: false)
            rules.append(GBNFRule(name: n, alternatives: alts, line: l, column: c))
            if !atEnd && cur != 0x0A { throw fail("unexpected '\(Character(Unicode.Scalar(cur)))'") }
            space(newlines: true)
        }
        return rules
    }

    private mutating func alternatives(nested: Bool) throws(GrammarError) -> [[GBNFItem]] {
        var alts = [try sequence(nested: nested)]
        while cur == UInt8(ascii: "|") {
            i += 1
            space(newlines: true)
            alts.append(try sequence(nested: nested))
        }
        return alts
    }

    private mutating func sequence(nested: Bool) throws(GrammarError) -> [GBNFItem] {
        var items: [GBNFItem] = []
        while !atEnd {
            let start = i
            let c = cur
            var item: GBNFItem
            if c == UInt8(ascii: "\"") {
                i += 1
                var cps: [UInt32] = []
                while true {
                    guard !atEnd, cur != 0x0A else { throw fail("unterminated string literal", at: start) }
                    if cur == UInt8(ascii: "\"") { i += 1; break }
                    cps.append(try char())
                }
                item = .literal(cps)
            } else if c == UInt8(ascii: "[") {
                item = .chars(try charClass())
            } else if c == UInt8(ascii: ".") {
                i += 1
                item = .chars(.any)
            } else if c == UInt8(ascii: "(") {
                depth += 1
                guard depth <= Self.maxDepth else { throw fail("groups nested deeper than \(Self.maxDepth)") }
                i += 1
                space(newlines: true)
                let inner = try alternatives(nested: true)
                guard cur == UInt8(ascii: ")") else { throw fail("expected ')' to close the group opened at \(position(start).0):\(position(start).1)") }
                i += 1
                depth -= 1
                item = .group(inner)
            } else if Self.isNameByte(c) {
                let (l, col) = position(i)
                let n = try name()
                var k = i
                while k < s.count && (s[k] == 0x20 || s[k] == 0x09) { k += 1 }
                if s.count - k >= 3 && s[k] == 0x3A && s[k + 1] == 0x3A && s[k + 2] == 0x3D {
                    // The next rule's head: this sequence ended at the previous line break.
                    i = start
                    throw fail("expected a newline before rule '\(n)'")
                }
                item = .ref(name: n, line: l, column: col)
            } else {
                break
            }
            space(newlines: nested)
            // Postfix repetition, possibly stacked (x?* is legal and means what it says), at most a few deep.
            var ops = 0
            while true {
                if ops == 8 { throw fail("more than 8 repetition operators in a row") }
                ops += 1
                let op = cur
                if op == UInt8(ascii: "*") { item = .repeated(item, min: 0, max: nil); i += 1 }
                else if op == UInt8(ascii: "+") { item = .repeated(item, min: 1, max: nil); i += 1 }
                else if op == UInt8(ascii: "?") { item = .repeated(item, min: 0, max: 1); i += 1 }
                else if op == UInt8(ascii: "{") { item = try braces(item) }
                else { break }
                space(newlines: nested)
            }
            items.append(item)
        }
        return items
    }

    private mutating func number() throws(GrammarError) -> Int? {
        let start = i
        var v = 0
        while i < s.count && s[i] >= 0x30 && s[i] <= 0x39 {
            v = v * 10 + Int(s[i] - 0x30)
            if v > Self.maxRepeat { throw fail("repetition count over \(Self.maxRepeat)", at: start) }
            i += 1
        }
        return i > start ? v : nil
    }

    private mutating func braces(_ item: GBNFItem) throws(GrammarError) -> GBNFItem {
        let open = i
        i += 1
        space(newlines: false)
        let lo = try number()
        space(newlines: false)
        var hi: Int?
        if cur == UInt8(ascii: ",") {
            i += 1
            space(newlines: false)
            hi = try number()
            space(newlines: false)
        } else {
            guard lo != nil else { throw fail("expected a count in '{...}'", at: open) }
            hi = lo
        }
        guard cur == UInt8(ascii: "}") else { throw fail("expected '}' to close the repetition") }
        i += 1
        let m = lo ?? 0
        if let h = hi, h < m { throw fail("repetition {\(m),\(h)} has max below min", at: open) }
        return .repeated(item, min: m, max: hi)
    }

    // MARK: characters

    private mutating func hex(_ digits: Int) throws(GrammarError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<digits {
            let c = cur
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            default: throw fail("expected \(digits) hex digits")
            }
            v = v << 4 | d
            i += 1
        }
        guard v <= 0x10FFFF, !(0xD800...0xDFFF).contains(v) else { throw fail("escape U+\(String(v, radix: 16)) is not a Unicode scalar") }
        return v
    }

    /// One (possibly escaped) character of a literal or class, as a code point.
    private mutating func char() throws(GrammarError) -> UInt32 {
        guard !atEnd else { throw fail("unexpected end of grammar") }
        if cur == UInt8(ascii: "\\") {
            i += 1
            let e = cur
            i += 1
            switch e {
            case UInt8(ascii: "n"): return 0x0A
            case UInt8(ascii: "r"): return 0x0D
            case UInt8(ascii: "t"): return 0x09
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "["), UInt8(ascii: "]"),
                 UInt8(ascii: "-"), UInt8(ascii: "^"), UInt8(ascii: "/"): return UInt32(e)
            case UInt8(ascii: "x"): return try hex(2)
            case UInt8(ascii: "u"): return try hex(4)
            case UInt8(ascii: "U"): return try hex(8)
            default:
                i -= 2
                throw fail("unknown escape '\\\(e < 0x80 ? String(Character(Unicode.Scalar(e))) : "?")'")
            }
        }
        // A UTF-8 sequence: decode one scalar.
        let b0 = s[i]
        let n: Int
        var v: UInt32
        switch b0 {
        case 0x00..<0x80: i += 1; return UInt32(b0)
        case 0xC2...0xDF: n = 1; v = UInt32(b0 & 0x1F)
        case 0xE0...0xEF: n = 2; v = UInt32(b0 & 0x0F)
        case 0xF0...0xF4: n = 3; v = UInt32(b0 & 0x07)
        default: throw fail("invalid UTF-8")
        }
        guard s.count - i > n else { throw fail("truncated UTF-8") }
        for k in 1...n {
            let b = s[i + k]
            guard b & 0xC0 == 0x80 else { throw fail("invalid UTF-8") }
            v = v << 6 | UInt32(b & 0x3F)
        }
        i += n + 1
        return v
    }

    private mutating func charClass() throws(GrammarError) -> CharSet {
        let open = i
        i += 1
        var negated = false
        if cur == UInt8(ascii: "^") { negated = true; i += 1 }
        var ranges: [ClosedRange<UInt32>] = []
        while cur != UInt8(ascii: "]") {
            guard !atEnd, cur != 0x0A else { throw fail("unterminated character class", at: open) }
            let lo = try char()
            if cur == UInt8(ascii: "-") && i + 1 < s.count && s[i + 1] != UInt8(ascii: "]") {
                i += 1
                let rangeStart = i
                let hi = try char()
                guard hi >= lo else { throw fail("range end below its start", at: rangeStart) }
                ranges.append(lo...hi)
            } else {
                ranges.append(lo...lo)
            }
        }
        i += 1
        return CharSet(ranges: Self.normalize(ranges), negated: negated)
    }

    /// Sorted, merged ranges.
    static func normalize(_ r: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        let sorted = r.sorted { $0.lowerBound < $1.lowerBound }
        var out: [ClosedRange<UInt32>] = []
        for x in sorted {
            if let last = out.last, x.lowerBound <= last.upperBound &+ 1 {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, x.upperBound)
            } else {
                out.append(x)
            }
        }
        return out
    }
}
