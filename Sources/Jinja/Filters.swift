/// jinja2's built-in filters that chat templates use, plus Hugging Face's `tojson`. An unknown filter is an error
/// naming it.
enum Filters {
    struct Args {
        let positional: [Value]
        let keyword: [(String, Value)]

        /// The i-th positional argument or the keyword argument `name`.
        func get(_ i: Int, _ name: String) -> Value? {
            if i < positional.count { return positional[i] }
            return keyword.first { $0.0 == name }?.1
        }

        func keyword(_ name: String) -> Value? { keyword.first { $0.0 == name }?.1 }

        func bool(_ i: Int, _ name: String, _ d: Bool) -> Bool { get(i, name)?.truthy ?? d }
        func string(_ i: Int, _ name: String) throws(JinjaError) -> String? { try Methods.string(get(i, name), name) }
    }

    static func apply(_ name: String, _ value: Value, _ positional: [Value], _ keyword: [(String, Value)],
                      renderer: Renderer, at p: SourcePosition) throws(JinjaError) -> Value {
        let a = Args(positional: positional, keyword: keyword)
        func sequence() throws(JinjaError) -> [Value] {
            guard let items = value.iterated else { throw JinjaError(.render, "'\(value.typeName)' object is not iterable") }
            return items
        }
        typealias P = PythonStrings
        switch name {
        case "tojson":
            var json = PythonJSON(maxLength: renderer.limits.maxOutputBytes)
            if let indent = a.get(0, "indent"), !indent.isNone {
                switch indent {
                case .int(let n): json.indent = String(repeating: " ", count: max(0, min(n, 64)))
                case .string(let s) where s.utf8.count <= 64: json.indent = s
                default: throw JinjaError(.render, "tojson: indent must be an integer or a string")
                }
                json.itemSeparator = ","
            }
            json.ensureASCII = a.bool(1, "ensure_ascii", false)
            if let seps = a.get(2, "separators"), let pair = seps.iterated, pair.count == 2,
               case .string(let item) = pair[0], case .string(let key) = pair[1] {
                json.itemSeparator = item
                json.keySeparator = key
            }
            json.sortKeys = a.bool(3, "sort_keys", false)
            if case .undefined(let hint) = value { throw JinjaError(.render, hint) }
            return .string(try json.dumps(value))
        case "trim":
            return .string(P.strip(value.pythonString, try a.string(0, "chars")))
        case "upper": return .string(value.pythonString.uppercased())
        case "lower": return .string(value.pythonString.lowercased())
        case "title": return .string(P.title(value.pythonString))
        case "capitalize": return .string(P.capitalize(value.pythonString))
        case "string": return .string(value.pythonString)
        case "safe", "e", "escape", "forceescape":
            if case .markup = value, name != "forceescape" { return value }
            return .markup(name == "safe" ? value.pythonString : escapeHTML(value.pythonString))
        case "length", "count":
            switch value {
            case .string(let s), .markup(let s): return .int(s.unicodeScalars.count)
            case .list(let x), .tuple(let x): return .int(x.count)
            case .dict(let d): return .int(d.count)
            case .undefined: return .int(0)
            case .object(let o): return .int(o.attributes.count)
            default: throw JinjaError(.render, "object of type '\(value.typeName)' has no len()")
            }
        case "default", "d":
            let useDefault = value.isUndefined || (a.bool(1, "boolean", false) && !value.truthy)
            return useDefault ? (a.get(0, "default_value") ?? .string("")) : value
        case "first":
            return try sequence().first ?? .undefined(hint: "no first item, sequence was empty")
        case "last":
            return try sequence().last ?? .undefined(hint: "no last item, sequence was empty")
        case "list": return .list(try sequence())
        case "reverse":
            if case .string(let s) = value { return .string(P.string(s.unicodeScalars.reversed())) }
            return .list(try sequence().reversed())
        case "items":
            switch value {
            case .undefined: return .list([])
            case .dict(let d): return .list(d.pairs.map { .tuple([$0.0, $0.1]) })
            default: throw JinjaError(.render, "can only get item pairs from a mapping, not \(value.typeName)")
            }
        case "join":
            let sep = try a.string(0, "d") ?? ""
            var items = try sequence()
            if let attribute = try a.string(1, "attribute") { items = try items.map { (x) throws(JinjaError) in try path(x, attribute) } }
            let joined = items.map(\.pythonString).joined(separator: sep)
            return .string(joined)
        case "replace":
            guard let old = try a.string(0, "old"), let new = try a.string(1, "new") else {
                throw JinjaError(.render, "replace needs two strings")
            }
            return .string(P.replace(value.pythonString, old, new, count: try Methods.int(a.get(2, "count"), "count", default: -1)))
        case "indent": return .string(try indent(value.pythonString, a))
        case "center":
            let width = try Methods.int(a.get(0, "width"), "width", default: 80)
            guard width <= renderer.limits.maxOutputBytes else { throw JinjaError(.limit, "center: width \(width) exceeds the output limit") }
            let s = value.pythonString
            let n = s.unicodeScalars.count
            guard width > n else { return .string(s) }
            let total = width - n
            let left = total / 2 + (total & width & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: total - left))
        case "int":
            let d = a.get(0, "default") ?? .int(0)
            switch value {
            case .int: return value
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let x): return x.isFinite && abs(x) < 9.2e18 ? .int(Int(x)) : d
            case .string(let s):
                let t = P.strip(s, nil).replacingOccurrences("_", "")
                let base = try Methods.int(a.get(1, "base"), "base", default: 10)
                if let i = Int(t, radix: base) { return .int(i) }
                if let x = Double(t), x.isFinite, abs(x) < 9.2e18 { return .int(Int(x)) }
                return d
            default: return d
            }
        case "float":
            let d = a.get(0, "default") ?? .float(0)
            switch value {
            case .float: return value
            case .int(let i): return .float(Double(i))
            case .bool(let b): return .float(b ? 1 : 0)
            case .string(let s): return Double(P.strip(s, nil)).map(Value.float) ?? d
            default: return d
            }
        case "abs":
            switch value {
            case .int(let i) where i != Int.min: return .int(abs(i))
            case .float(let x): return .float(abs(x))
            case .bool(let b): return .int(b ? 1 : 0)
            default: throw JinjaError(.render, "bad operand type for abs(): '\(value.typeName)'")
            }
        case "round":
            guard let x = value.number else { throw JinjaError(.render, "round needs a number") }
            let precision = try Methods.int(a.get(0, "precision"), "precision", default: 0)
            let method = try a.string(1, "method") ?? "common"
            let scale = Double.pow10(precision)
            let scaled = x * scale
            let r: Double
            switch method {
            case "common": r = scaled.rounded(.toNearestOrEven)
            case "ceil": r = scaled.rounded(.up)
            case "floor": r = scaled.rounded(.down)
            default: throw JinjaError(.render, "round: method must be 'common', 'ceil' or 'floor'")
            }
            return .float(r / scale)
        case "sum":
            var total = a.get(1, "start") ?? .int(0)
            let attribute = try a.string(0, "attribute")
            for x in try sequence() {
                total = try Operators.binary(.add, total, attribute.map { (at) throws(JinjaError) in try path(x, at) } ?? x,
                                             maxLength: renderer.limits.maxOutputBytes)
            }
            return total
        case "min", "max":
            let items = try sortKeys(try sequence(), caseSensitive: a.bool(0, "case_sensitive", false), attribute: try a.string(1, "attribute"))
            guard !items.isEmpty else { return .undefined(hint: "no \(name) item, sequence was empty") }
            var best = items[0]
            for x in items.dropFirst() {
                let c = try Operators.compare(x.key, best.key, "<")
                if name == "min" ? c < 0 : c > 0 { best = x }
            }
            return best.value
        case "sort":
            let keyed = try sortKeys(try sequence(), caseSensitive: a.bool(1, "case_sensitive", false), attribute: try a.string(2, "attribute"))
            return .list(try stableSort(keyed, reverse: a.bool(0, "reverse", false)).map(\.value))
        case "dictsort":
            guard case .dict(let d) = value else { throw JinjaError(.render, "dictsort needs a dict") }
            let byValue = (try a.string(1, "by")) == "value"
            let caseSensitive = a.bool(0, "case_sensitive", false)
            let keyed = d.pairs.map { (key: caseFold(byValue ? $0.1 : $0.0, caseSensitive), value: Value.tuple([$0.0, $0.1])) }
            return .list(try stableSort(keyed, reverse: a.bool(2, "reverse", false)).map(\.value))
        case "unique":
            let keyed = try sortKeys(try sequence(), caseSensitive: a.bool(0, "case_sensitive", false), attribute: try a.string(1, "attribute"))
            var seen: [Value] = []
            var out: [Value] = []
            for x in keyed where !seen.contains(where: { Operators.equals($0, x.key) }) {
                seen.append(x.key)
                out.append(x.value)
            }
            return .list(out)
        case "map":
            guard value.truthy else { return .generator([]) }
            let items = try sequence()
            if let attribute = try Methods.string(a.keyword("attribute"), "attribute") {
                let d = a.keyword("default")
                return .generator(try items.map { (x) throws(JinjaError) in
                    let v = try path(x, attribute)
                    return v.isUndefined ? (d ?? v) : v
                })
            }
            guard case .string(let filter)? = positional.first else { throw JinjaError(.render, "map needs a filter name or attribute=") }
            return .generator(try items.map { (x) throws(JinjaError) in
                try apply(filter, x, Array(positional.dropFirst()), keyword, renderer: renderer, at: p)
            })
        case "select", "reject", "selectattr", "rejectattr":
            guard value.truthy else { return .generator([]) }
            let byAttribute = name.hasSuffix("attr")
            let keep = name.hasPrefix("select")
            var rest = positional
            var attribute: String? = nil
            if byAttribute {
                guard case .string(let at)? = rest.first else { throw JinjaError(.render, "\(name) needs an attribute name") }
                attribute = at
                rest.removeFirst()
            }
            var test: String? = nil
            if case .string(let t)? = rest.first { test = t; rest.removeFirst() }
            var out: [Value] = []
            for x in try sequence() {
                let subject = try attribute.map { (at) throws(JinjaError) in try path(x, at) } ?? x
                let ok = try test.map { (t) throws(JinjaError) in try Predicates.apply(t, subject, rest, [], renderer: renderer) } ?? subject.truthy
                if ok == keep { out.append(x) }
            }
            return .generator(out)
        case "attr":
            guard let n = try a.string(0, "name") else { throw JinjaError(.render, "attr needs a name") }
            return try Access.attribute(value, n)
        case "wordcount":
            var n = 0, inWord = false
            for u in value.pythonString.unicodeScalars {
                let w = u == "_" || u.properties.isAlphabetic || u.properties.numericType != nil
                if w && !inWord { n += 1 }
                inWord = w
            }
            return .int(n)
        case "batch":
            let size = try Methods.int(a.get(0, "linecount"), "linecount", default: 1)
            guard size > 0 else { throw JinjaError(.render, "batch size must be positive") }
            let items = try sequence()
            var out: [Value] = []
            var i = 0
            while i < items.count {
                var chunk = Array(items[i..<min(i + size, items.count)])
                if chunk.count < size, let fill = a.get(1, "fill_with"), !fill.isNone {
                    chunk += Array(repeating: fill, count: size - chunk.count)
                }
                out.append(.list(chunk))
                i += size
            }
            return .list(out)
        default:
            throw JinjaError(.unsupported, "no filter named '\(name)'")
        }
    }

    /// `a.b.0` as jinja2's attribute= arguments resolve it: item lookup per part, integer parts as indexes.
    static func path(_ v: Value, _ attribute: String) throws(JinjaError) -> Value {
        var x = v
        for part in attribute.split(separator: ".", omittingEmptySubsequences: false) {
            let key: Value = Int(part).map(Value.int) ?? .string(String(part))
            x = try Access.item(x, key)
            if x.isUndefined { return x }
        }
        return x
    }

    private static func caseFold(_ v: Value, _ caseSensitive: Bool) -> Value {
        if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    private static func sortKeys(_ items: [Value], caseSensitive: Bool, attribute: String?) throws(JinjaError) -> [(key: Value, value: Value)] {
        var out: [(key: Value, value: Value)] = []
        for x in items {
            let k = try attribute.map { (at) throws(JinjaError) in try path(x, at) } ?? x
            out.append((caseFold(k, caseSensitive), x))
        }
        return out
    }

    /// Python's sorted(): stable; with reverse, equal keys keep their order.
    private static func stableSort(_ items: [(key: Value, value: Value)], reverse: Bool) throws(JinjaError) -> [(key: Value, value: Value)] {
        var failure: JinjaError? = nil
        let indexed = Array(items.enumerated())
        let sorted = indexed.sorted { x, y in
            do throws(JinjaError) {
                let c = try Operators.compare(x.element.key, y.element.key, "<")
                if c != 0 { return reverse ? c > 0 : c < 0 }
            } catch {
                failure = error
            }
            return x.offset < y.offset
        }
        if let failure { throw failure }
        return sorted.map { $0.element }
    }

    static func escapeHTML(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// jinja2 3.1's indent: lines after the first get the prefix (blank ones only with blank=True).
    private static func indent(_ s: String, _ a: Args) throws(JinjaError) -> String {
        let prefix: String
        switch a.get(0, "width") {
        case .string(let p)? where p.utf8.count <= 1024: prefix = p
        case .string?: throw JinjaError(.limit, "indent: the prefix is longer than 1024 bytes")
        case let w?: prefix = String(repeating: " ", count: max(0, min(try Methods.int(w, "width", default: 4), 1024)))
        case nil: prefix = "    "
        }
        let lines = PythonStrings.splitlines(s + "\n")
        var out: String
        if a.bool(2, "blank", false) {
            out = lines.joined(separator: "\n" + prefix)
        } else {
            out = lines.first ?? ""
            if lines.count > 1 { out += "\n" + lines.dropFirst().map { $0.isEmpty ? $0 : prefix + $0 }.joined(separator: "\n") }
        }
        if a.bool(1, "first", false) { out = prefix + out }
        return out
    }
}

extension Double {
    static func pow10(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<min(abs(n), 400) { r *= 10 }
        return n < 0 ? 1 / r : r
    }
}
