/// A JSON Schema `pattern` (ECMA-262 regex) as GBNF over the characters of a JSON string. The subset:
/// literals; `.`; classes `[a-z]`, `[^...]`; escapes `\d \w \s \D \W \S` and escaped punctuation, `\n \t \r`,
/// `\uHHHH`; groups `( )` and `(?: )`; `|`; quantifiers `* + ? {m} {m,} {m,n}` (a lazy `?` after one is accepted and
/// means the same here); `^` only at the start and `$` only at the end. A pattern is unanchored as JSON Schema says:
/// without `^` any characters may come first, without `$` any may follow. Characters a JSON string must escape
/// (`"`, `\`, control characters) are written escaped when a literal asks for them and left out of classes.
/// Anything else (back-references, look-around, `\b`, named groups) is an error naming it.
struct PatternToGBNF {
    private let p: [Unicode.Scalar]
    private var i = 0
    private var depth = 0
    private let path: String

    static func convert(_ pattern: String, path: String) throws(GrammarError) -> String {
        var c = PatternToGBNF(p: Array(pattern.unicodeScalars), path: path)
        var anchoredStart = false, anchoredEnd = false
        if c.p.first == "^" { anchoredStart = true; c.i = 1 }
        var body = c.p
        if body.last == "$" && !(body.count >= 2 && body[body.count - 2] == "\\") {
            anchoredEnd = true
            body.removeLast()
        }
        var inner = PatternToGBNF(p: body, path: path)
        inner.i = c.i
        let expr = try inner.alternation()
        guard inner.i == inner.p.count else { throw inner.fail("unexpected '\(inner.p[inner.i])'") }
        return (anchoredStart ? "" : "char* ") + "(" + expr + ")" + (anchoredEnd ? "" : " char*")
    }

    private init(p: [Unicode.Scalar], path: String) {
        self.p = p
        self.path = path
    }

    private func fail(_ m: String) -> GrammarError {
        .schema(path: path, message: "pattern at character \(i + 1): \(m)")
    }

    private var cur: Unicode.Scalar? { i < p.count ? p[i] : nil }

    private mutating func alternation() throws(GrammarError) -> String {
        var alts = [try sequence()]
        while cur == "|" {
            i += 1
            alts.append(try sequence())
        }
        return alts.map { $0.isEmpty ? "\"\"" : $0 }.joined(separator: " | ")
    }

    private mutating func sequence() throws(GrammarError) -> String {
        var parts: [String] = []
        while let c = cur, c != "|", c != ")" {
            var atom: String
            switch c {
            case "(":
                depth += 1
                guard depth <= 32 else { throw fail("groups nested deeper than 32") }
                i += 1
                if cur == "?" {
                    guard i + 1 < p.count, p[i + 1] == ":" else { throw fail("only (?: ) groups are supported (no look-around or named groups)") }
                    i += 2
                }
                let inner = try alternation()
                guard cur == ")" else { throw fail("missing ')'") }
                i += 1
                depth -= 1
                atom = "(" + inner + ")"
            case "[":
                atom = try charClass()
            case ".":
                i += 1
                atom = "[^\"\\\\\\x00-\\x1f]"
            case "\\":
                i += 1
                atom = try escape(inClass: false).gbnf
            case "^", "$":
                throw fail("'\(c)' is supported only at the start/end of the pattern")
            case "*", "+", "?", "{":
                throw fail("quantifier '\(c)' with nothing to repeat")
            default:
                i += 1
                atom = Self.literal(c.value)
            }
            atom = try quantifier(atom)
            parts.append(atom)
        }
        return parts.joined(separator: " ")
    }

    private mutating func quantifier(_ atom: String) throws(GrammarError) -> String {
        guard let q = cur else { return atom }
        var out: String
        switch q {
        case "*": i += 1; out = "(" + atom + ")*"
        case "+": i += 1; out = "(" + atom + ")+"
        case "?": i += 1; out = "(" + atom + ")?"
        case "{":
            let save = i
            i += 1
            let lo = number()
            var hi = lo
            if cur == "," { i += 1; hi = number() }
            guard cur == "}", let m = lo ?? (hi != nil ? 0 : nil) else { i = save; return atom }
            i += 1
            if let h = hi, h < m { throw fail("{\(m),\(h)}: max below min") }
            guard m <= 1000, (hi ?? 0) <= 1000 else { throw fail("repetition counts above 1000 are not supported") }
            out = "(" + atom + "){\(m)," + (hi.map(String.init) ?? "") + "}"
        default: return atom
        }
        if cur == "?" { i += 1 }   // lazy: same language
        if let c = cur, c == "*" || c == "+" || c == "{" { throw fail("possessive or stacked quantifiers are not supported") }
        return out
    }

    private mutating func number() -> Int? {
        var v: Int? = nil
        while let c = cur, let d = Int(String(c)), c.isASCII {
            v = min((v ?? 0) * 10 + d, 100_000)
            i += 1
        }
        return v
    }

    /// A code point a JSON string holds: plain, or written with its escape when JSON requires one.
    private static func literal(_ c: UInt32) -> String {
        switch c {
        case 0x22: return #""\\\"""#
        case 0x5C: return #""\\\\""#
        case 0x0A: return #""\\n""#
        case 0x09: return #""\\t""#
        case 0x0D: return #""\\r""#
        case 0..<0x20:
            let h = String(c, radix: 16)
            return "\"\\\\u" + String(repeating: "0", count: 4 - h.count) + h + "\""
        default: return JSONGrammarPrimitives.literal(String(Character(Unicode.Scalar(c)!)))
        }
    }

    private struct Escape {
        var ranges: [ClosedRange<UInt32>]
        var negated: Bool
        var gbnf: String
    }

    private static let digit: [ClosedRange<UInt32>] = [0x30...0x39]
    private static let word: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
    private static let space: [ClosedRange<UInt32>] = [0x09...0x0D, 0x20...0x20]

    private mutating func escape(inClass: Bool) throws(GrammarError) -> Escape {
        guard let e = cur else { throw fail("pattern ends with '\\'") }
        i += 1
        func cls(_ r: [ClosedRange<UInt32>], _ neg: Bool) -> Escape {
            Escape(ranges: r, negated: neg, gbnf: Self.classText(r, negated: neg))
        }
        switch e {
        case "d": return cls(Self.digit, false)
        case "D": return cls(Self.digit, true)
        case "w": return cls(Self.word, false)
        case "W": return cls(Self.word, true)
        case "s": return cls(Self.space, false)
        case "S": return cls(Self.space, true)
        case "n": return Escape(ranges: [0x0A...0x0A], negated: false, gbnf: Self.literal(0x0A))
        case "t": return Escape(ranges: [0x09...0x09], negated: false, gbnf: Self.literal(0x09))
        case "r": return Escape(ranges: [0x0D...0x0D], negated: false, gbnf: Self.literal(0x0D))
        case "u":
            var v: UInt32 = 0
            for _ in 0..<4 {
                guard let c = cur, let d = Int(String(c), radix: 16) else {
                    throw fail("\\u needs 4 hex digits")
                }
                v = v << 4 | UInt32(d)
                i += 1
            }
            guard Unicode.Scalar(v) != nil else { throw fail("\\u\(String(v, radix: 16)) is not a scalar") }
            return Escape(ranges: [v...v], negated: false, gbnf: Self.literal(v))
        case "b", "B": throw fail("word boundaries (\\\(e)) are not supported")
        default:
            if e.properties.isAlphabetic || ("0"..."9").contains(e) {
                throw fail("escape '\\\(e)' is not supported")
            }
            return Escape(ranges: [e.value...e.value], negated: false, gbnf: Self.literal(e.value))
        }
    }

    /// A GBNF class over plain JSON string characters (those needing escapes are dropped: never generated).
    private static func classText(_ ranges: [ClosedRange<UInt32>], negated: Bool) -> String {
        let body = ranges.map { r in
            r.lowerBound == r.upperBound ? JSONGrammarPrimitives.classChar(r.lowerBound)
                : JSONGrammarPrimitives.classChar(r.lowerBound) + "-" + JSONGrammarPrimitives.classChar(r.upperBound)
        }.joined()
        if negated { return "[^" + body + "\"\\\\\\x00-\\x1f]" }
        // Positive: remove what JSON must escape.
        var kept: [ClosedRange<UInt32>] = []
        for r in ranges {
            var pieces: [ClosedRange<UInt32>] = [r]
            for cut in [UInt32(0)...0x1F, 0x22...0x22, 0x5C...0x5C] {
                pieces = pieces.flatMap { x -> [ClosedRange<UInt32>] in
                    guard x.overlaps(cut) else { return [x] }
                    var out: [ClosedRange<UInt32>] = []
                    if x.lowerBound < cut.lowerBound { out.append(x.lowerBound...(cut.lowerBound - 1)) }
                    if x.upperBound > cut.upperBound { out.append((cut.upperBound + 1)...x.upperBound) }
                    return out
                }
            }
            kept += pieces
        }
        if kept.isEmpty { return "[^\\x00-\\U0010FFFF]" }
        return "[" + kept.map { r in
            r.lowerBound == r.upperBound ? JSONGrammarPrimitives.classChar(r.lowerBound)
                : JSONGrammarPrimitives.classChar(r.lowerBound) + "-" + JSONGrammarPrimitives.classChar(r.upperBound)
        }.joined() + "]"
    }

    private mutating func charClass() throws(GrammarError) -> String {
        i += 1
        var negated = false
        if cur == "^" { negated = true; i += 1 }
        var ranges: [ClosedRange<UInt32>] = []
        var negatedParts: [[ClosedRange<UInt32>]] = []
        var first = true
        while true {
            guard let c = cur else { throw fail("missing ']'") }
            if c == "]" && !first { i += 1; break }
            first = false
            var lo: UInt32
            if c == "\\" {
                i += 1
                let e = try escape(inClass: true)
                if e.negated { negatedParts.append(e.ranges); continue }
                if e.ranges.count != 1 || e.ranges[0].lowerBound != e.ranges[0].upperBound { ranges += e.ranges; continue }
                lo = e.ranges[0].lowerBound
            } else {
                i += 1
                lo = c.value
            }
            if cur == "-", i + 1 < p.count, p[i + 1] != "]" {
                i += 1
                var hi: UInt32
                if cur == "\\" {
                    i += 1
                    let e = try escape(inClass: true)
                    guard !e.negated, e.ranges.count == 1, e.ranges[0].lowerBound == e.ranges[0].upperBound else {
                        throw fail("a class escape cannot end a range")
                    }
                    hi = e.ranges[0].lowerBound
                } else {
                    hi = cur!.value
                    i += 1
                }
                guard hi >= lo else { throw fail("range end below its start") }
                ranges.append(lo...hi)
            } else {
                ranges.append(lo...lo)
            }
        }
        if !negatedParts.isEmpty {
            // [\D...] style: only on its own is it expressible as one class.
            guard !negated, ranges.isEmpty, negatedParts.count == 1 else {
                throw fail("negated escapes (\\D \\W \\S) combined with other class members are not supported")
            }
            return Self.classText(negatedParts[0], negated: true)
        }
        return Self.classText(ranges, negated: negated)
    }
}
