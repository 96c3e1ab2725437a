/// Python's `json.dumps` as Hugging Face's `tojson` filter calls it: `ensure_ascii=False` by default (text stays as
/// is, only `"`, `\` and control characters are escaped), separators `", "` and `": "` (`","` with an indent), keys in
/// insertion order unless `sort_keys`. No HTML escaping (jinja2's own tojson would turn `<` into `\u003c`).
struct PythonJSON {
    var indent: String? = nil
    var itemSeparator = ", "
    var keySeparator = ": "
    var ensureASCII = false
    var sortKeys = false
    var maxLength: Int

    init(maxLength: Int) { self.maxLength = maxLength }

    func dumps(_ v: Value) throws(JinjaError) -> String {
        var out = ""
        try write(v, level: 0, into: &out)
        return out
    }

    private func write(_ v: Value, level: Int, into out: inout String) throws(JinjaError) {
        if out.utf8.count > maxLength { throw JinjaError(.limit, "tojson output exceeds \(maxLength) bytes") }
        guard level < 512 else { throw JinjaError(.limit, "tojson: value nests too deeply") }
        switch v {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else { out += pythonFloat(d) }
        case .string(let s), .markup(let s): quote(s, into: &out)
        case .list(let a), .tuple(let a):
            try container("[", "]", a.count, level, &out) { (i, o) throws(JinjaError) in try write(a[i], level: level + 1, into: &o) }
        case .dict(let d):
            var pairs: [(String, Value)] = []
            for (k, x) in d.pairs { pairs.append((try key(k), x)) }
            if sortKeys { pairs.sort { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) } }
            try container("{", "}", pairs.count, level, &out) { (i, o) throws(JinjaError) in
                quote(pairs[i].0, into: &o)
                o += keySeparator
                try write(pairs[i].1, level: level + 1, into: &o)
            }
        default:
            throw JinjaError(.render, "Object of type \(v.typeName) is not JSON serializable")
        }
    }

    private func container(_ open: String, _ close: String, _ n: Int, _ level: Int, _ out: inout String,
                           _ item: (Int, inout String) throws(JinjaError) -> Void) throws(JinjaError) {
        out += open
        guard n > 0 else { out += close; return }
        let inner = indent.map { "\n" + String(repeating: $0, count: level + 1) }
        for i in 0..<n {
            if i > 0 { out += itemSeparator }
            if let inner { out += inner }
            try item(i, &out)
        }
        if let indent { out += "\n" + String(repeating: indent, count: level) }
        out += close
    }

    private func key(_ k: Value) throws(JinjaError) -> String {
        switch k {
        case .string(let s): return s
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let d): return pythonFloat(d)
        default: throw JinjaError(.render, "keys must be str, int, float, bool or None, not \(k.typeName)")
        }
    }

    private func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0c}": out += "\\f"
            case _ where u.value < 0x20: out += "\\u" + hex(u.value, width: 4)
            case _ where ensureASCII && u.value > 0x7f:
                if u.value > 0xffff {
                    let v = u.value - 0x10000
                    out += "\\u" + hex(0xd800 + (v >> 10), width: 4) + "\\u" + hex(0xdc00 + (v & 0x3ff), width: 4)
                } else {
                    out += "\\u" + hex(u.value, width: 4)
                }
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}
