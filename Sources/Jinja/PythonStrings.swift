/// Python's `str` methods over Unicode scalars (Python indexes strings by code point, Swift by grapheme cluster).
enum PythonStrings {
    typealias Scalars = [Unicode.Scalar]

    static func string(_ u: some Sequence<Unicode.Scalar>) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: u)
        return String(v)
    }

    /// `strip` / `lstrip` / `rstrip`: whitespace, or any of `chars`.
    static func strip(_ s: String, _ chars: String?, left: Bool = true, right: Bool = true) -> String {
        let u = Array(s.unicodeScalars)
        let set = chars.map { Set($0.unicodeScalars) }
        func drop(_ c: Unicode.Scalar) -> Bool { set.map { $0.contains(c) } ?? isPythonSpace(c) }
        var a = 0, b = u.count
        if left { while a < b, drop(u[a]) { a += 1 } }
        if right { while b > a, drop(u[b - 1]) { b -= 1 } }
        return string(u[a..<b])
    }

    /// `split(sep=None, maxsplit=-1)`: no separator splits on runs of whitespace and drops empty pieces.
    static func split(_ s: String, _ sep: String?, maxSplit: Int = -1) throws(JinjaError) -> [String] {
        let u = Array(s.unicodeScalars)
        var out: [String] = []
        guard let sep else {
            var i = 0
            while i < u.count {
                while i < u.count, isPythonSpace(u[i]) { i += 1 }
                guard i < u.count else { break }
                if maxSplit >= 0 && out.count == maxSplit {
                    var end = u.count
                    while end > i, isPythonSpace(u[end - 1]) { end -= 1 }
                    out.append(string(u[i..<end]))
                    break
                }
                let start = i
                while i < u.count, !isPythonSpace(u[i]) { i += 1 }
                out.append(string(u[start..<i]))
            }
            return out
        }
        let p = Array(sep.unicodeScalars)
        guard !p.isEmpty else { throw JinjaError(.render, "empty separator") }
        var start = 0, i = 0
        while i + p.count <= u.count {
            if (maxSplit < 0 || out.count < maxSplit) && u[i..<(i + p.count)].elementsEqual(p) {
                out.append(string(u[start..<i]))
                i += p.count
                start = i
            } else {
                i += 1
            }
        }
        out.append(string(u[start...]))
        return out
    }

    /// `splitlines()`: Python's line boundaries, "\r\n" as one.
    static func splitlines(_ s: String) -> [String] {
        let u = Array(s.unicodeScalars)
        var out: [String] = []
        var start = 0, i = 0
        while i < u.count {
            switch u[i].value {
            case 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
                out.append(string(u[start..<i]))
                if u[i] == "\r", i + 1 < u.count, u[i + 1] == "\n" { i += 1 }
                i += 1
                start = i
            default:
                i += 1
            }
        }
        if start < u.count { out.append(string(u[start...])) }
        return out
    }

    static func find(_ s: String, _ sub: String, reverse: Bool = false) -> Int {
        let u = Array(s.unicodeScalars), p = Array(sub.unicodeScalars)
        guard p.count <= u.count else { return -1 }
        let range = Array(0...(u.count - p.count))
        for i in reverse ? range.reversed() : range where u[i..<(i + p.count)].elementsEqual(p) { return i }
        return -1
    }

    static func count(_ s: String, _ sub: String) -> Int {
        let u = Array(s.unicodeScalars), p = Array(sub.unicodeScalars)
        if p.isEmpty { return u.count + 1 }
        var n = 0, i = 0
        while i + p.count <= u.count {
            if u[i..<(i + p.count)].elementsEqual(p) { n += 1; i += p.count } else { i += 1 }
        }
        return n
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int = -1) -> String {
        let u = Array(s.unicodeScalars), p = Array(old.unicodeScalars), r = Array(new.unicodeScalars)
        var out: Scalars = []
        var done = 0
        if p.isEmpty {
            for (i, c) in u.enumerated() {
                if count < 0 || done < count { out += r; done += 1 }
                out.append(c)
                _ = i
            }
            if count < 0 || done < count { out += r }
            return string(out)
        }
        var i = 0
        while i < u.count {
            if (count < 0 || done < count) && i + p.count <= u.count && u[i..<(i + p.count)].elementsEqual(p) {
                out += r
                i += p.count
                done += 1
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return string(out)
    }

    static func isCased(_ c: Unicode.Scalar) -> Bool { c.properties.isLowercase || c.properties.isUppercase || c.properties.changesWhenCaseMapped }

    /// `title()`: each run of cased letters starts upper case, the rest lower.
    static func title(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s.unicodeScalars {
            out += previousCased ? c.properties.lowercaseMapping : c.properties.titlecaseMapping
            previousCased = isCased(c)
        }
        return out
    }

    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return first.properties.titlecaseMapping + string(s.unicodeScalars.dropFirst()).lowercased()
    }

    static func startsWith(_ s: String, _ prefix: String) -> Bool { s.utf8.starts(with: prefix.utf8) }
    static func endsWith(_ s: String, _ suffix: String) -> Bool { s.utf8.reversed().starts(with: suffix.utf8.reversed()) }
}
