/// The methods templates call on values: `str` (strip, split, startswith, ...), `dict` (items, keys, values, get) and
/// `list` (index, count). Methods that would change a value (append, update, pop, ...) are refused, as in jinja2's
/// ImmutableSandboxedEnvironment that Hugging Face renders with.
enum Methods {
    static func bound(_ base: Value, _ name: String) -> Value? {
        let body: Function.Body?
        switch base {
        case .string(let s), .markup(let s): body = stringMethod(s, name)
        case .dict(let d): body = dictMethod(d, name)
        case .list(let a), .tuple(let a): body = listMethod(a, name)
        default: body = nil
        }
        return body.map { .function(Function(name: name, $0)) }
    }

    static let mutating: Set<String> = ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
                                        "update", "setdefault", "popitem", "add", "discard"]

    private static func refuse(_ name: String, _ type: String) -> Function.Body {
        { (_, _, _) throws(JinjaError) in
            throw JinjaError(.security, "'\(type).\(name)' would modify a value, which the sandbox does not allow")
        }
    }

    static func argument(_ args: [Value], _ kwargs: [(String, Value)], _ i: Int, _ name: String) -> Value? {
        if i < args.count { return args[i] }
        return kwargs.first { $0.0 == name }?.1
    }

    static func string(_ v: Value?, _ what: String) throws(JinjaError) -> String? {
        guard let v, !v.isNone else { return nil }
        guard case .string(let s) = v else { throw JinjaError(.render, "\(what) must be a string, not \(v.typeName)") }
        return s
    }

    static func int(_ v: Value?, _ what: String, default d: Int) throws(JinjaError) -> Int {
        guard let v, !v.isNone else { return d }
        guard let i = Access.index(v) else { throw JinjaError(.render, "\(what) must be an integer, not \(v.typeName)") }
        return i
    }

    private static func stringMethod(_ s: String, _ name: String) -> Function.Body? {
        typealias P = PythonStrings
        switch name {
        case "strip", "lstrip", "rstrip":
            return { (a, k, _) throws(JinjaError) in
                .string(P.strip(s, try string(argument(a, k, 0, "chars"), "chars"), left: name != "rstrip", right: name != "lstrip"))
            }
        case "split", "rsplit":
            return { (a, k, _) throws(JinjaError) in
                let sep = try string(argument(a, k, 0, "sep"), "sep")
                let maxSplit = try int(argument(a, k, 1, "maxsplit"), "maxsplit", default: -1)
                if name == "rsplit" && maxSplit >= 0 {
                    let parts = try P.split(String(s.unicodeScalars.reversed().map(Character.init)), sep.map { String($0.unicodeScalars.reversed().map(Character.init)) }, maxSplit: maxSplit)
                    return .list(parts.reversed().map { .string(String($0.unicodeScalars.reversed().map(Character.init))) })
                }
                return .list(try P.split(s, sep, maxSplit: maxSplit).map(Value.string))
            }
        case "splitlines": return { (_, _, _) in .list(P.splitlines(s).map(Value.string)) }
        case "startswith", "endswith":
            return { (a, k, _) throws(JinjaError) in
                guard let arg = argument(a, k, 0, name == "startswith" ? "prefix" : "suffix") else {
                    throw JinjaError(.render, "\(name) needs an argument")
                }
                let options: [Value]
                if case .tuple(let t) = arg { options = t } else { options = [arg] }
                for o in options {
                    guard case .string(let x) = o else { throw JinjaError(.render, "\(name) takes a string or a tuple of strings") }
                    if name == "startswith" ? P.startsWith(s, x) : P.endsWith(s, x) { return .bool(true) }
                }
                return .bool(false)
            }
        case "upper": return { (_, _, _) in .string(s.uppercased()) }
        case "lower": return { (_, _, _) in .string(s.lowercased()) }
        case "title": return { (_, _, _) in .string(P.title(s)) }
        case "capitalize": return { (_, _, _) in .string(P.capitalize(s)) }
        case "replace":
            return { (a, k, _) throws(JinjaError) in
                guard let old = try string(argument(a, k, 0, "old"), "old"), let new = try string(argument(a, k, 1, "new"), "new") else {
                    throw JinjaError(.render, "replace needs two strings")
                }
                return .string(P.replace(s, old, new, count: try int(argument(a, k, 2, "count"), "count", default: -1)))
            }
        case "find", "rfind", "index", "rindex", "count":
            return { (a, k, _) throws(JinjaError) in
                guard let sub = try string(argument(a, k, 0, "sub"), "sub") else { throw JinjaError(.render, "\(name) needs a string") }
                if name == "count" { return .int(P.count(s, sub)) }
                let i = P.find(s, sub, reverse: name.hasPrefix("r"))
                if i < 0 && name.hasSuffix("index") { throw JinjaError(.render, "substring not found") }
                return .int(i)
            }
        case "join":
            return { (a, _, _) throws(JinjaError) in
                guard let items = a.first?.iterated else { throw JinjaError(.render, "join needs an iterable") }
                var parts: [String] = []
                for item in items {
                    guard case .string(let x) = item else { throw JinjaError(.render, "sequence item: expected str instance, \(item.typeName) found") }
                    parts.append(x)
                }
                return .string(parts.joined(separator: s))
            }
        case "isdigit", "isnumeric", "isdecimal":
            return { (_, _, _) in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType != nil }) }
        case "isalpha": return { (_, _, _) in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic }) }
        case "isalnum":
            return { (_, _, _) in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil }) }
        case "isspace": return { (_, _, _) in .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(isPythonSpace)) }
        case "islower":
            return { (_, _, _) in .bool(s.unicodeScalars.contains { P.isCased($0) } && s == s.lowercased()) }
        case "isupper":
            return { (_, _, _) in .bool(s.unicodeScalars.contains { P.isCased($0) } && s == s.uppercased()) }
        case "format":
            return { (a, k, _) throws(JinjaError) in .string(try format(s, a, k)) }
        default: return nil
        }
    }

    private static func dictMethod(_ d: Dict, _ name: String) -> Function.Body? {
        switch name {
        case "items": return { (_, _, _) in .list(d.pairs.map { .tuple([$0.0, $0.1]) }) }
        case "keys": return { (_, _, _) in .list(d.keys) }
        case "values": return { (_, _, _) in .list(d.values) }
        case "get":
            return { (a, k, _) throws(JinjaError) in
                guard let key = argument(a, k, 0, "key") else { throw JinjaError(.render, "get needs a key") }
                return d[key] ?? argument(a, k, 1, "default") ?? Value.none
            }
        case "copy": return { (_, _, _) in .dict(d) }
        default: return mutating.contains(name) ? refuse(name, "dict") : nil
        }
    }

    private static func listMethod(_ a: [Value], _ name: String) -> Function.Body? {
        switch name {
        case "index":
            return { (args, _, _) throws(JinjaError) in
                guard let x = args.first, let i = a.firstIndex(where: { Operators.equals($0, x) }) else {
                    throw JinjaError(.render, "value is not in list")
                }
                return .int(i)
            }
        case "count":
            return { (args, _, _) throws(JinjaError) in
                guard let x = args.first else { throw JinjaError(.render, "count needs an argument") }
                return .int(a.filter { Operators.equals($0, x) }.count)
            }
        default: return mutating.contains(name) ? refuse(name, "list") : nil
        }
    }

    /// `str.format`: `{}` (next argument), `{0}`, `{name}`, `{{` and `}}`, with `!s` / `!r`; no format specs.
    static func format(_ s: String, _ args: [Value], _ kwargs: [(String, Value)]) throws(JinjaError) -> String {
        var out = ""
        var next = 0
        var it = Array(s.unicodeScalars)[...]
        while let c = it.popFirst() {
            if c == "}" {
                guard it.first == "}" else { throw JinjaError(.render, "single '}' encountered in format string") }
                it.removeFirst()
                out += "}"
                continue
            }
            guard c == "{" else { out.unicodeScalars.append(c); continue }
            if it.first == "{" { it.removeFirst(); out += "{"; continue }
            var field = ""
            while let d = it.first, d != "}" { field.unicodeScalars.append(d); it.removeFirst() }
            guard it.popFirst() == "}" else { throw JinjaError(.render, "unmatched '{' in format string") }
            var conversion: Character? = nil
            if let bang = field.firstIndex(of: "!") {
                conversion = field[field.index(after: bang)...].first
                field = String(field[..<bang])
            }
            if field.contains(":") { throw JinjaError(.unsupported, "format specs in str.format are not supported") }
            let value: Value?
            if field.isEmpty {
                value = next < args.count ? args[next] : nil
                next += 1
            } else if let i = Int(field) {
                value = i >= 0 && i < args.count ? args[i] : nil
            } else {
                value = kwargs.first { $0.0 == field }?.1
            }
            guard let value else { throw JinjaError(.render, "str.format: no argument for '{\(field)}'") }
            out += conversion == "r" ? value.pythonRepr : value.pythonString
        }
        return out
    }
}
