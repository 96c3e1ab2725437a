/// One lexical token of a template. Text between tags is `.text`; a tag is its begin marker, the expression tokens
/// inside, and its end marker (comments leave nothing).
enum TokenKind: Equatable {
    case text(String)
    case variableBegin, variableEnd, blockBegin, blockEnd
    case name(String)
    case string(String)
    case integer(Int)
    case float(Double)
    case op(String)
    case end
}

struct Token {
    let kind: TokenKind
    let position: SourcePosition
}

/// jinja2's lexer with Hugging Face's settings: newlines normalised to "\n", one trailing newline dropped,
/// `trim_blocks` (a block or comment tag eats the newline after it) and `lstrip_blocks` (spaces and tabs between a
/// line's start and a block or comment tag are dropped), `-` strips all whitespace on its side, `+` keeps it.
struct Lexer {
    private let src: [Unicode.Scalar]
    private var lineStarts: [Int] = [0]
    private let trimBlocks: Bool
    private let lstripBlocks: Bool
    private var tokens: [Token] = []

    private enum Tag { case variable, block, comment }

    init(_ source: String, trimBlocks: Bool, lstripBlocks: Bool) {
        var s: [Unicode.Scalar] = []
        s.reserveCapacity(source.unicodeScalars.count)
        var previousCR = false
        for u in source.unicodeScalars {
            if u == "\n" && previousCR { previousCR = false; continue }
            previousCR = u == "\r"
            s.append(previousCR ? "\n" : u)
        }
        if s.last == "\n" { s.removeLast() }
        src = s
        for (i, u) in s.enumerated() where u == "\n" { lineStarts.append(i + 1) }
        self.trimBlocks = trimBlocks
        self.lstripBlocks = lstripBlocks
    }

    func position(_ i: Int) -> SourcePosition {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= i { lo = mid } else { hi = mid - 1 }
        }
        return SourcePosition(line: lo + 1, column: i - lineStarts[lo] + 1)
    }

    private func fail(_ message: String, _ i: Int) -> JinjaError { JinjaError(.syntax, message, at: position(i)) }

    private func starts(_ text: String, at i: Int) -> Bool {
        var j = i
        for u in text.unicodeScalars {
            guard j < src.count, src[j] == u else { return false }
            j += 1
        }
        return true
    }

    private func skipWhitespace(_ i: Int) -> Int {
        var j = i
        while j < src.count, isPythonSpace(src[j]) { j += 1 }
        return j
    }

    private mutating func emitText(_ from: Int, _ to: Int) {
        guard to > from else { return }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: src[from..<to])
        tokens.append(Token(kind: .text(String(s)), position: position(from)))
    }

    /// The end of the text before a tag opened at `tagStart` after whitespace control: `-` strips all trailing
    /// whitespace; otherwise, for blocks and comments with lstrip_blocks, spaces and tabs back to the line's start.
    private func textEnd(_ from: Int, _ tagStart: Int, sign: Unicode.Scalar?, tag: Tag, lineStarting: Bool) -> Int {
        var end = tagStart
        if sign == "-" {
            while end > from, isPythonSpace(src[end - 1]) { end -= 1 }
        } else if sign != "+" && lstripBlocks && tag != .variable {
            var lineStart = end
            while lineStart > from, src[lineStart - 1] != "\n" { lineStart -= 1 }
            if lineStart > from || lineStarting, src[lineStart..<end].allSatisfy({ $0 == " " || $0 == "\t" }) {
                end = lineStart
            }
        }
        return end
    }

    mutating func tokenize() throws(JinjaError) -> [Token] {
        var pos = 0
        var lineStarting = true
        while pos < src.count {
            var start = pos
            var tag: Tag? = nil
            while start + 1 < src.count {
                if src[start] == "{" {
                    switch src[start + 1] {
                    case "{": tag = .variable
                    case "%": tag = .block
                    case "#": tag = .comment
                    default: break
                    }
                    if tag != nil { break }
                }
                start += 1
            }
            guard let tag else {
                emitText(pos, src.count)
                break
            }
            var p = start + 2
            let sign: Unicode.Scalar? = p < src.count && (src[p] == "-" || src[p] == "+") ? src[p] : nil
            if sign != nil { p += 1 }
            emitText(pos, textEnd(pos, start, sign: sign, tag: tag, lineStarting: lineStarting))
            switch tag {
            case .comment:
                var k = p
                while k < src.count && !(starts("#}", at: k) || ((src[k] == "-" || src[k] == "+") && starts("#}", at: k + 1))) {
                    k += 1
                }
                guard k < src.count else { throw fail("missing end of comment tag", start) }
                (pos, lineStarting) = tagEnd(at: k, close: "#}", trims: true)
            case .block where rawBegin(p) != nil:
                pos = try raw(from: rawBegin(p)!, openedAt: start)
                lineStarting = pos > 0 && src[pos - 1] == "\n"
            case .variable, .block:
                tokens.append(Token(kind: tag == .variable ? .variableBegin : .blockBegin, position: position(start)))
                (pos, lineStarting) = try expressionTokens(from: p, tag: tag, openedAt: start)
            }
        }
        tokens.append(Token(kind: .end, position: position(src.count)))
        return tokens
    }

    /// After `{%` and its sign: the end of `raw %}` when this tag opens a raw block.
    private func rawBegin(_ p: Int) -> Int? {
        var k = skipWhitespace(p)
        guard starts("raw", at: k) else { return nil }
        k = skipWhitespace(k + 3)
        if starts("-%}", at: k) { return skipWhitespace(k + 3) }
        if starts("%}", at: k) { return k + 2 }
        return nil
    }

    /// A raw block's body is text up to `{% endraw %}`.
    private mutating func raw(from bodyStart: Int, openedAt: Int) throws(JinjaError) -> Int {
        var k = bodyStart
        while k + 1 < src.count {
            if src[k] == "{" && src[k + 1] == "%" {
                var p = k + 2
                let sign: Unicode.Scalar? = p < src.count && (src[p] == "-" || src[p] == "+") ? src[p] : nil
                if sign != nil { p += 1 }
                p = skipWhitespace(p)
                if starts("endraw", at: p) {
                    p = skipWhitespace(p + 6)
                    if starts("+%}", at: p) || starts("-%}", at: p) || starts("%}", at: p) {
                        emitText(bodyStart, textEnd(bodyStart, k, sign: sign, tag: .block, lineStarting: false))
                        return tagEnd(at: p, close: "%}", trims: true).0
                    }
                }
            }
            k += 1
        }
        throw fail("missing end of raw directive", openedAt)
    }

    /// Consumes a closing delimiter at `k`, optionally led by its sign: `-` eats all whitespace after it, `+` keeps
    /// everything, no sign lets trim_blocks take one newline (blocks and comments). Returns the next position and
    /// whether it starts a line.
    private func tagEnd(at k: Int, close: String, trims: Bool) -> (Int, Bool) {
        var sign: Unicode.Scalar? = nil
        var q = k
        if src[k] == "-" || src[k] == "+" { sign = src[k]; q += 1 }
        var end = q + close.unicodeScalars.count
        if sign == "-" {
            end = skipWhitespace(end)
        } else if sign != "+" && trims && trimBlocks && end < src.count && src[end] == "\n" {
            end += 1
        }
        return (end, end > 0 && src[end - 1] == "\n")
    }

    private mutating func expressionTokens(from start: Int, tag: Tag, openedAt: Int) throws(JinjaError) -> (Int, Bool) {
        var i = start
        var balance: [Unicode.Scalar] = []
        let close = tag == .variable ? "}}" : "%}"
        while true {
            guard i < src.count else {
                throw fail("unexpected end of template: the tag opened here is not closed with '\(close)'", openedAt)
            }
            if balance.isEmpty {
                let signed = (src[i] == "-" || (src[i] == "+" && tag == .block)) && starts(close, at: i + 1)
                if signed || starts(close, at: i) {
                    tokens.append(Token(kind: tag == .variable ? .variableEnd : .blockEnd, position: position(i)))
                    return tagEnd(at: i, close: close, trims: tag == .block)
                }
            }
            let u = src[i]
            if isPythonSpace(u) { i += 1; continue }
            let here = position(i)
            if u.properties.numericType != nil && ("0"..."9").contains(u) {
                let (kind, next) = try number(at: i)
                tokens.append(Token(kind: kind, position: here))
                i = next
            } else if u == "_" || u.properties.isAlphabetic {
                var j = i + 1
                while j < src.count, src[j] == "_" || src[j].properties.isAlphabetic || ("0"..."9").contains(src[j]) { j += 1 }
                tokens.append(Token(kind: .name(text(i, j)), position: here))
                i = j
            } else if u == "'" || u == "\"" {
                let (s, next) = try string(at: i)
                tokens.append(Token(kind: .string(s), position: here))
                i = next
            } else {
                let two = i + 1 < src.count ? text(i, i + 2) : ""
                let op: String
                if ["//", "**", "==", "!=", ">=", "<="].contains(two) {
                    op = two
                } else if "+-/*%~[](){}><=.:|,;".unicodeScalars.contains(u) {
                    op = String(u)
                } else {
                    throw JinjaError(.syntax, "unexpected character '\(String(u))'", at: here)
                }
                switch op {
                case "(", "[", "{": balance.append(u)
                case ")", "]", "}":
                    let open: Unicode.Scalar = op == ")" ? "(" : op == "]" ? "[" : "{"
                    guard balance.last == open else { throw JinjaError(.syntax, "unexpected '\(op)'", at: here) }
                    balance.removeLast()
                default: break
                }
                tokens.append(Token(kind: .op(op), position: here))
                i += op.unicodeScalars.count
            }
        }
    }

    private func text(_ a: Int, _ b: Int) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: src[a..<min(b, src.count)])
        return String(s)
    }

    private func digits(_ i: Int) -> Int {
        var j = i
        while j < src.count, ("0"..."9").contains(src[j]) || (src[j] == "_" && j + 1 < src.count && ("0"..."9").contains(src[j + 1])) { j += 1 }
        return j
    }

    /// Integers (decimal, 0x, 0o, 0b, with `_` separators) and floats (a fraction or an exponent).
    private func number(at i: Int) throws(JinjaError) -> (TokenKind, Int) {
        if src[i] == "0", i + 1 < src.count, let radix = ["x": 16, "o": 8, "b": 2][String(src[i + 1]).lowercased()] {
            var j = i + 2
            while j < src.count, src[j] == "_" || Int(String(src[j]), radix: radix) != nil { j += 1 }
            guard let v = Int(text(i + 2, j).replacingOccurrences("_", ""), radix: radix) else {
                throw fail("integer literal out of range", i)
            }
            return (.integer(v), j)
        }
        var j = digits(i)
        var isFloat = false
        let afterDot = i > 0 && src[i - 1] == "."
        if !afterDot, j + 1 < src.count, src[j] == ".", ("0"..."9").contains(src[j + 1]) {
            j = digits(j + 1)
            isFloat = true
        }
        if !afterDot, j < src.count, src[j] == "e" || src[j] == "E" {
            var k = j + 1
            if k < src.count, src[k] == "+" || src[k] == "-" { k += 1 }
            if k < src.count, ("0"..."9").contains(src[k]) {
                j = digits(k)
                isFloat = true
            }
        }
        let t = text(i, j).replacingOccurrences("_", "")
        if isFloat {
            guard let d = Double(t) else { throw fail("bad float literal '\(t)'", i) }
            return (.float(d), j)
        }
        guard let v = Int(t) else { throw fail("integer literal '\(t)' out of range", i) }
        return (.integer(v), j)
    }

    /// A quoted string with Python's escapes (\n, \t, \\, \', \", \xhh, \uXXXX, \UXXXXXXXX, octal); an unknown
    /// escape keeps its backslash.
    private func string(at i: Int) throws(JinjaError) -> (String, Int) {
        let quote = src[i]
        var out = String.UnicodeScalarView()
        var j = i + 1
        while true {
            guard j < src.count else { throw fail("unterminated string literal", i) }
            let u = src[j]
            if u == quote { return (String(out), j + 1) }
            if u != "\\" { out.append(u); j += 1; continue }
            guard j + 1 < src.count else { throw fail("unterminated string literal", i) }
            let e = src[j + 1]
            j += 2
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0c}")
            case "v": out.append("\u{0b}")
            case "\n": break
            case "x", "u", "U":
                let width = e == "x" ? 2 : e == "u" ? 4 : 8
                guard j + width <= src.count, let v = UInt32(text(j, j + width), radix: 16), let s = Unicode.Scalar(v) else {
                    throw fail("bad \\\(e) escape in a string literal", j - 2)
                }
                out.append(s)
                j += width
            case "0"..."7":
                var v = e.value - 0x30
                var k = 0
                while k < 2, j < src.count, ("0"..."7").contains(src[j]) { v = v * 8 + src[j].value - 0x30; j += 1; k += 1 }
                out.append(Unicode.Scalar(v)!)
            default:
                out.append("\\")
                out.append(e)
            }
        }
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
