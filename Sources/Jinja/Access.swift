/// `a.b`, `a[b]` and `a[i:j:k]` as jinja2's sandbox resolves them: a dict's method names first for `.`, the key first
/// for `[]`; a missing key or index is undefined; names starting with `_` are refused (no `__class__`, no way out of the
/// values passed in).
enum Access {
    static func attribute(_ base: Value, _ name: String) throws(JinjaError) -> Value {
        if name.hasPrefix("_") {
            throw JinjaError(.security, "access to attribute '\(name)' of '\(base.typeName)' object is unsafe")
        }
        switch base {
        case .undefined(let hint): throw JinjaError(.render, hint)
        case .dict(let d):
            if let m = Methods.bound(base, name) { return m }
            return d[name] ?? .undefined(hint: "'dict object' has no attribute '\(name)'")
        case .object(let o):
            return o.attribute(name) ?? .undefined(hint: "'\(o.typeName)' object has no attribute '\(name)'")
        default:
            return Methods.bound(base, name) ?? .undefined(hint: "'\(base.typeName) object' has no attribute '\(name)'")
        }
    }

    static func item(_ base: Value, _ key: Value) throws(JinjaError) -> Value {
        switch base {
        case .undefined(let hint): throw JinjaError(.render, hint)
        case .dict(let d):
            if let v = d[key] { return v }
            if case .string(let name) = key { return try attribute(base, name) }
            return .undefined(hint: "'dict object' has no attribute \(key.pythonRepr)")
        case .list(let a), .tuple(let a):
            guard let i = index(key) else {
                if case .string(let name) = key { return try attribute(base, name) }
                throw JinjaError(.render, "list indices must be integers or slices, not \(key.typeName)")
            }
            let j = i < 0 ? i + a.count : i
            return a.indices.contains(j) ? a[j] : .undefined(hint: "list index \(i) out of range")
        case .string(let s), .markup(let s):
            guard let i = index(key) else {
                if case .string(let name) = key { return try attribute(base, name) }
                throw JinjaError(.render, "string indices must be integers, not \(key.typeName)")
            }
            let u = Array(s.unicodeScalars)
            let j = i < 0 ? i + u.count : i
            return u.indices.contains(j) ? .string(String(u[j])) : .undefined(hint: "string index \(i) out of range")
        case .object:
            if case .string(let name) = key { return try attribute(base, name) }
            return .undefined(hint: "'\(base.typeName)' object has no item \(key.pythonRepr)")
        default:
            if case .string(let name) = key { return try attribute(base, name) }
            return .undefined(hint: "'\(base.typeName)' object is not subscriptable")
        }
    }

    static func index(_ v: Value) -> Int? {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Python's slice semantics, negative steps included (`[::-1]` reverses).
    static func slice(_ base: Value, _ start: Value?, _ stop: Value?, _ step: Value?) throws(JinjaError) -> Value {
        func bound(_ v: Value?) throws(JinjaError) -> Int? {
            guard let v, !v.isNone else { return nil }
            guard let i = index(v) else { throw JinjaError(.render, "slice indices must be integers or None") }
            return i
        }
        let st = try bound(step) ?? 1
        guard st != 0 else { throw JinjaError(.render, "slice step cannot be zero") }
        func pick<T>(_ a: [T]) throws(JinjaError) -> [T] {
            let n = a.count
            func clamp(_ i: Int?, _ dflt: Int) -> Int {
                guard var i else { return dflt }
                if i < 0 { i += n }
                return st > 0 ? min(max(i, 0), n) : min(max(i, -1), n - 1)
            }
            let lo = clamp(try bound(start), st > 0 ? 0 : n - 1)
            let hi = clamp(try bound(stop), st > 0 ? n : -1)
            var out: [T] = []
            var i = lo
            while st > 0 ? i < hi : i > hi {
                out.append(a[i])
                let (next, overflow) = i.addingReportingOverflow(st)
                if overflow { break }
                i = next
            }
            return out
        }
        switch base {
        case .list(let a): return .list(try pick(a))
        case .tuple(let a): return .tuple(try pick(a))
        case .string(let s):
            var v = String.UnicodeScalarView()
            v.append(contentsOf: try pick(Array(s.unicodeScalars)))
            return .string(String(v))
        case .undefined(let hint): throw JinjaError(.render, hint)
        default: throw JinjaError(.render, "'\(base.typeName)' object is not subscriptable")
        }
    }
}
