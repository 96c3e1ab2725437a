/// JSON Schema to GBNF. Supported: `type` (a name or a list), `properties`, `required`, `additionalProperties`
/// (absent means none: the output then holds only the named properties, which every reading of the schema accepts),
/// `enum`, `const`, `anyOf`, `oneOf` (as anyOf: branches should not overlap), `allOf` of object schemas (merged),
/// `items`, `prefixItems`, `minItems`/`maxItems`, `minLength`/`maxLength`, `minimum`/`maximum`/`exclusiveMinimum`/
/// `exclusiveMaximum` for integers, `pattern` (see PatternToGBNF), `format` date, time, date-time, uuid,
/// `$ref` to `#`, `#/$defs/...`, `#/definitions/...` (recursion allowed), and `nullable: true`. Annotations (title,
/// description, examples, default...) are ignored. Any other keyword is an error naming it.
/// Objects are written with required properties first, then optional ones, each in the schema's order.
public enum JSONSchemaGrammar {
    /// GBNF text for `schema` (JSON text).
    public static func gbnf(schema: String) throws(GrammarError) -> String {
        let root: JSONValue
        do { root = try JSONValue.parse(schema) } catch {
            if case .json(let m) = error { throw .schema(path: "", message: m) }  // "JSON Schema at #: invalid JSON ..."
            throw error
        }
        var c = SchemaConverter(document: root)
        let expr = try c.visit(root, path: "")
        return c.render(root: expr)
    }

    /// The compiled grammar for `schema`.
    public static func grammar(schema: String) throws(GrammarError) -> Grammar {
        try Grammar(gbnf: gbnf(schema: schema))
    }

    /// Any JSON value (`--json`).
    public static var anyValueGBNF: String { JSONGrammarPrimitives.anyValueGBNF }
}

struct SchemaConverter {
    let document: JSONValue
    /// Starts every generated rule name, so that the rules of several schemas can share one grammar.
    var namePrefix = "s"
    private(set) var rules: [(String, String)] = []
    private var byBody: [String: String] = [:]
    private var refNames: [String: String] = [:]
    private var depth = 0

    static let annotations: Set<String> = ["title", "description", "$schema", "$id", "$comment", "examples", "default",
                                           "deprecated", "readOnly", "writeOnly", "$defs", "definitions"]
    static let supported: Set<String> = ["type", "properties", "required", "additionalProperties", "enum", "const",
                                         "anyOf", "oneOf", "allOf", "items", "prefixItems", "minItems", "maxItems",
                                         "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
                                         "exclusiveMaximum", "pattern", "format", "$ref", "nullable"]
    static let maxCount = 10_000

    init(document: JSONValue) { self.document = document }

    func render(root: String) -> String {
        var out = "root ::= \(root)\n"
        for (n, b) in rules { out += "\(n) ::= \(b)\n" }
        for (n, b) in JSONGrammarPrimitives.rules { out += "\(n) ::= \(b)\n" }
        return out
    }

    /// A named rule for `body`, shared with any identical one.
    private mutating func rule(_ hint: String, _ body: String) -> String {
        if let n = byBody[body] { return n }
        let n = name(hint)
        rules.append((n, body))
        byBody[body] = n
        return n
    }

    private func name(_ hint: String) -> String {
        let clean = String(hint.unicodeScalars.map { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) ? Character($0) : "-" })
        return "\(namePrefix)\(rules.count + refNames.count)-" + String(clean.prefix(24))
    }

    private func fail(_ path: String, _ m: String) -> GrammarError { .schema(path: path, message: m) }

    private func int(_ v: JSONValue?, _ key: String, _ path: String) throws(GrammarError) -> Int? {
        guard let v else { return nil }
        guard let d = v.doubleValue, d >= 0, d == d.rounded(), d <= Double(Self.maxCount) else {
            throw fail(path, "'\(key)' must be an integer in 0...\(Self.maxCount)")
        }
        return Int(d)
    }

    mutating func visit(_ s: JSONValue, path: String) throws(GrammarError) -> String {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 64 else { throw fail(path, "schemas nested deeper than 64") }
        switch s {
        case .bool(true): return "value"
        case .bool(false): throw fail(path, "the schema 'false' matches nothing")
        case .object(let kv):
            for (k, _) in kv where !Self.supported.contains(k) && !Self.annotations.contains(k) {
                throw .unsupportedKeyword(keyword: k, path: path)
            }
            var expr = try visitObject(s, kv, path: path)
            if s["nullable"] == .bool(true) { expr = rule("nullable", "(" + expr + ") | null") }
            return expr
        default:
            throw fail(path, "a schema must be an object or a boolean")
        }
    }

    private mutating func visitObject(_ s: JSONValue, _ kv: [(String, JSONValue)], path: String) throws(GrammarError) -> String {
        if let ref = s["$ref"] {
            guard case .string(let r) = ref else { throw fail(path, "'$ref' must be a string") }
            return try reference(r, path: path)
        }
        if let c = s["const"] { return JSONGrammarPrimitives.literal(c.serialized) }
        if let e = s["enum"] {
            guard case .array(let vals) = e, !vals.isEmpty else { throw fail(path, "'enum' must be a non-empty array") }
            return rule("enum", vals.map { JSONGrammarPrimitives.literal($0.serialized) }.joined(separator: " | "))
        }
        for key in ["anyOf", "oneOf"] {
            guard let a = s[key] else { continue }
            guard case .array(let branches) = a, !branches.isEmpty else { throw fail(path, "'\(key)' must be a non-empty array") }
            for other in ["type", "properties", "items", "allOf", key == "anyOf" ? "oneOf" : "anyOf"] where s[other] != nil {
                throw fail(path, "'\(key)' beside '\(other)' is not supported; put it inside the branches")
            }
            var alts: [String] = []
            for (i, b) in branches.enumerated() { alts.append(try visit(b, path: "\(path)/\(key)/\(i)")) }
            return rule(key, alts.map { "(" + $0 + ")" }.joined(separator: " | "))
        }
        if let a = s["allOf"] { return try visit(try mergeAllOf(s, a, path: path), path: path) }

        if let t = s["type"] {
            switch t {
            case .string(let name): return try typed(name, s, path: path)
            case .array(let names):
                guard !names.isEmpty else { throw fail(path, "'type' must not be empty") }
                var alts: [String] = []
                for n in names {
                    guard case .string(let name) = n else { throw fail(path, "'type' entries must be strings") }
                    alts.append(try typed(name, s, path: path))
                }
                return rule("types", alts.map { "(" + $0 + ")" }.joined(separator: " | "))
            default: throw fail(path, "'type' must be a string or an array of strings")
            }
        }
        // No type: inferred from the keywords present.
        if s["properties"] != nil || s["additionalProperties"] != nil || s["required"] != nil { return try typed("object", s, path: path) }
        if s["items"] != nil || s["prefixItems"] != nil || s["minItems"] != nil || s["maxItems"] != nil { return try typed("array", s, path: path) }
        if s["minLength"] != nil || s["maxLength"] != nil || s["pattern"] != nil || s["format"] != nil { return try typed("string", s, path: path) }
        if s["minimum"] != nil || s["maximum"] != nil || s["exclusiveMinimum"] != nil || s["exclusiveMaximum"] != nil { return try typed("integer", s, path: path) }
        return "value"
    }

    private mutating func reference(_ r: String, path: String) throws(GrammarError) -> String {
        if let n = refNames[r] { return n }
        guard r.hasPrefix("#") else { throw fail(path, "only local '$ref' (#...) is supported, got '\(r)'") }
        var target = document
        for part in r.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if case .array(let a) = target, let i = Int(key), a.indices.contains(i) { target = a[i]; continue }
            guard let next = target[key] else { throw fail(path, "'$ref' \(r) points nowhere") }
            target = next
        }
        let n = name("ref-" + (r.split(separator: "/").last.map(String.init) ?? "root"))
        refNames[r] = n
        let body = try visit(target, path: String(r.dropFirst()))
        rules.append((n, body))
        return n
    }

    private func mergeAllOf(_ s: JSONValue, _ a: JSONValue, path: String) throws(GrammarError) -> JSONValue {
        guard case .array(let parts) = a, !parts.isEmpty else { throw fail(path, "'allOf' must be a non-empty array") }
        guard case .object(var merged) = s else { throw fail(path, "bad allOf") }
        merged.removeAll { $0.0 == "allOf" }
        var props: [(String, JSONValue)] = []
        var required: [JSONValue] = []
        var additional: JSONValue? = nil
        func absorb(_ o: JSONValue, _ where_: String) throws(GrammarError) {
            var o = o
            if case .string(let r)? = o["$ref"] {
                var t = document
                for part in r.dropFirst().split(separator: "/") {
                    guard let next = t[String(part)] else { throw fail(where_, "'$ref' \(r) points nowhere") }
                    t = next
                }
                o = t
            }
            guard case .object(let kv) = o else { throw fail(where_, "allOf supports object schemas only") }
            for (k, v) in kv {
                switch k {
                case "properties":
                    guard case .object(let p) = v else { throw fail(where_, "'properties' must be an object") }
                    for (pk, pv) in p where !props.contains(where: { $0.0 == pk }) { props.append((pk, pv)) }
                case "required":
                    guard case .array(let r) = v else { throw fail(where_, "'required' must be an array") }
                    required += r
                case "additionalProperties":
                    if additional == nil || v == .bool(false) { additional = v }
                case "type":
                    guard v == .string("object") else { throw fail(where_, "allOf supports object schemas only (type \(v.serialized))") }
                case "allOf":
                    guard case .array(let inner) = v else { throw fail(where_, "'allOf' must be an array") }
                    for (i, x) in inner.enumerated() { try absorb(x, "\(where_)/allOf/\(i)") }
                default:
                    if Self.annotations.contains(k) { continue }
                    throw fail(where_, "allOf supports object schemas only (found '\(k)')")
                }
            }
        }
        try absorb(.object(merged), path)
        for (i, p) in parts.enumerated() { try absorb(p, "\(path)/allOf/\(i)") }
        var out: [(String, JSONValue)] = [("type", .string("object")), ("properties", .object(props)), ("required", .array(required))]
        if let additional { out.append(("additionalProperties", additional)) }
        return .object(out)
    }

    private mutating func typed(_ type: String, _ s: JSONValue, path: String) throws(GrammarError) -> String {
        func reject(_ keys: [String]) throws(GrammarError) {
            for k in keys where s[k] != nil { throw fail(path, "'\(k)' is not supported for type \(type)") }
        }
        switch type {
        case "null": return "null"
        case "boolean": return "boolean"
        case "integer":
            func bound(_ key: String, exclusive: Bool, up: Bool) throws(GrammarError) -> Int64? {
                guard let v = s[key] else { return nil }
                guard let d = v.doubleValue, abs(d) < 1e15 else { throw fail(path, "'\(key)' must be a number within ±1e15") }
                var x = up ? d.rounded(.down) : d.rounded(.up)
                if exclusive && x == d { x += up ? -1 : 1 }
                return Int64(x)
            }
            let lows = [try bound("minimum", exclusive: false, up: false), try bound("exclusiveMinimum", exclusive: true, up: false)].compactMap { $0 }
            let highs = [try bound("maximum", exclusive: false, up: true), try bound("exclusiveMaximum", exclusive: true, up: true)].compactMap { $0 }
            if lows.isEmpty && highs.isEmpty { return "integer" }
            let lo = lows.max(), hi = highs.min()
            if let lo, let hi, lo > hi { throw fail(path, "no integer lies in [\(lo), \(hi)]") }
            return rule("int", IntegerRange.gbnf(lo: lo, hi: hi))
        case "number":
            try reject(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"])
            return "number"
        case "string":
            let lo = try int(s["minLength"], "minLength", path) ?? 0
            let hi = try int(s["maxLength"], "maxLength", path)
            if let hi, hi < lo { throw fail(path, "maxLength below minLength") }
            if let f = s["format"] {
                guard case .string(let name) = f else { throw fail(path, "'format' must be a string") }
                try reject(["pattern", "minLength", "maxLength"])
                let body: String
                if name == "date-time" { body = JSONGrammarPrimitives.formats["date"]! + " \"T\" " + JSONGrammarPrimitives.formats["time"]! }
                else if let b = JSONGrammarPrimitives.formats[name] { body = b }
                else { throw fail(path, "format '\(name)' is not supported (date, time, date-time, uuid are)") }
                return rule("fmt-" + name, "\"\\\"\" " + body + " \"\\\"\"")
            }
            if let p = s["pattern"] {
                guard case .string(let pat) = p else { throw fail(path, "'pattern' must be a string") }
                try reject(["minLength", "maxLength"])
                return rule("pattern", "\"\\\"\" " + (try PatternToGBNF.convert(pat, path: path)) + " \"\\\"\"")
            }
            if lo == 0 && hi == nil { return "string" }
            return rule("str", "\"\\\"\" char{\(lo)," + (hi.map(String.init) ?? "") + "} \"\\\"\"")
        case "array": return try array(s, path: path)
        case "object": return try object(s, path: path)
        default: throw fail(path, "unknown type '\(type)'")
        }
    }

    private mutating func array(_ s: JSONValue, path: String) throws(GrammarError) -> String {
        let minItems = try int(s["minItems"], "minItems", path) ?? 0
        let maxItems = try int(s["maxItems"], "maxItems", path)
        if let m = maxItems, m < minItems { throw fail(path, "maxItems below minItems") }
        var prefix: [String] = []
        if let p = s["prefixItems"] {
            guard case .array(let ps) = p else { throw fail(path, "'prefixItems' must be an array") }
            for (i, x) in ps.enumerated() { prefix.append(try visit(x, path: "\(path)/prefixItems/\(i)")) }
        }
        var item: String? = "value"
        if let it = s["items"] {
            if it == .bool(false) { item = nil } else { item = try visit(it, path: "\(path)/items") }
        }
        if let m = maxItems, prefix.count > m { prefix.removeLast(prefix.count - m) }
        if prefix.count < minItems && item == nil { throw fail(path, "minItems \(minItems) cannot be met with items: false") }
        // Elements: all prefix items, then extra items with the remaining bounds; `ws` after "[" and ",", and once
        // before "]" only when some element came (so an empty array has one).
        let extraLo = max(minItems - prefix.count, 0)
        let extraHi = item == nil ? 0 : maxItems.map { $0 - prefix.count }
        var parts: [String] = []
        for (i, p) in prefix.enumerated() { parts.append((i == 0 ? "" : "\",\" ws ") + p) }
        if let item, extraHi != 0 {
            let hiText = extraHi.map(String.init) ?? ""
            if prefix.isEmpty {
                // First element without a comma.
                let restLo = max(extraLo - 1, 0)
                let restHi = extraHi.map { String($0 - 1) } ?? ""
                let body = item + " (\",\" ws " + item + "){\(restLo)," + restHi + "} ws"
                return rule("array", "\"[\" ws " + (extraLo >= 1 ? body : "(" + body + ")?") + " \"]\"")
            }
            parts.append("(\",\" ws " + item + "){\(extraLo)," + hiText + "}")
        }
        let body = parts.isEmpty ? "" : parts.joined(separator: " ") + " ws "
        return rule("array", "\"[\" ws " + body + "\"]\"")
    }

    private mutating func object(_ s: JSONValue, path: String) throws(GrammarError) -> String {
        var props: [(String, JSONValue)] = []
        if let p = s["properties"] {
            guard case .object(let kv) = p else { throw fail(path, "'properties' must be an object") }
            props = kv
        }
        var required = Set<String>()
        if let r = s["required"] {
            guard case .array(let names) = r else { throw fail(path, "'required' must be an array") }
            for n in names {
                guard case .string(let name) = n else { throw fail(path, "'required' entries must be strings") }
                required.insert(name)
            }
        }
        for name in required where !props.contains(where: { $0.0 == name }) {
            props.append((name, .bool(true)))   // required but undescribed: any value
        }
        var additional: String? = nil
        if let a = s["additionalProperties"], a != .bool(false) {
            let value = try visit(a, path: "\(path)/additionalProperties")
            let key = excludingKey(props.map(\.0))
            additional = rule("kv", key + " \":\" sp " + value)
        }
        var kvs: [(String, Bool)] = []
        for (k, v) in props {
            let value = try visit(v, path: "\(path)/properties/\(k)")
            kvs.append((rule("kv-" + k, JSONGrammarPrimitives.literal(JSONValue.quote(k)) + " \":\" sp " + value), required.contains(k)))
        }
        // Members joined by "," ws; `ws` after "{" and once before "}" when some member came.
        let req = kvs.filter(\.1).map(\.0), opt = kvs.filter { !$0.1 }.map(\.0)
        let tail = additional.map { "(\",\" ws " + $0 + ")*" } ?? ""
        var body: String
        if !req.isEmpty {
            body = req.enumerated().map { ($0.offset == 0 ? "" : "\",\" ws ") + $0.element }.joined(separator: " ")
            for o in opt { body += " (\",\" ws " + o + ")?" }
            body += " " + tail + " ws"
        } else {
            // Optional only: whichever comes first has no comma. rest[j] = the optional ones after j, each with a comma.
            var rest = tail.isEmpty ? "\"\"" : tail
            var firsts: [String] = []
            for o in opt.reversed() {
                firsts.append(o + " " + rest)
                rest = rule("opt", "(\",\" ws " + o + ")? " + rest)
            }
            if let additional { firsts.append(additional + " " + tail) }
            body = firsts.isEmpty ? "" : "((" + firsts.reversed().joined(separator: ") | (") + ") ws)?"
        }
        return rule("object", "\"{\" ws " + body + " \"}\"")
    }

    /// A JSON key that is none of `names` (so an additional property never collides with a named one). Keys are
    /// built of plain characters only (no escapes), so the exclusion is exact.
    private mutating func excludingKey(_ names: [String]) -> String {
        let plain: (UInt32) -> Bool = { $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }
        if names.isEmpty { return rule("key", "\"\\\"\" [^\"\\\\\\x00-\\x1f]* \"\\\"\"") }
        // A trie of the names; node rule: end here (if no name ends here), or a child's character, or any other char.
        struct Node { var children: [(UInt32, Int)] = []; var terminal = false }
        var nodes = [Node()]
        for n in names {
            var k = 0
            for u in n.unicodeScalars {
                guard plain(u.value) else { break }
                if let c = nodes[k].children.first(where: { $0.0 == u.value }) { k = c.1 } else {
                    nodes.append(Node())
                    nodes[k].children.append((u.value, nodes.count - 1))
                    k = nodes.count - 1
                }
            }
            nodes[k].terminal = true
        }
        let free = rule("keychars", "[^\"\\\\\\x00-\\x1f]*")
        func build(_ k: Int) -> String {
            var alts: [String] = []
            if !nodes[k].terminal { alts.append("\"\"") }
            var exclude = ""
            for (c, child) in nodes[k].children {
                let lit = JSONGrammarPrimitives.literal(String(Character(Unicode.Scalar(c)!)))
                alts.append(lit + " " + build(child))
                exclude += JSONGrammarPrimitives.classChar(c)
            }
            alts.append("[^" + exclude + "\"\\\\\\x00-\\x1f] " + free)
            return rule("key", alts.map { "(" + $0 + ")" }.joined(separator: " | "))
        }
        return rule("key", "\"\\\"\" " + build(0) + " \"\\\"\"")
    }
}
