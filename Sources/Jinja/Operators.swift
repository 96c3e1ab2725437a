import Foundation

/// Python's arithmetic, comparison and membership on template values.
enum Operators {
    static func typeError(_ message: String) -> JinjaError { JinjaError(.render, message) }

    /// `==`: numbers by value (1 == 1.0 == True), strings by code points, containers element-wise; undefined equals
    /// only undefined.
    static func equals(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)), (.markup(let x), .markup(let y)), (.string(let x), .markup(let y)),
             (.markup(let x), .string(let y)):
            return x.utf8.elementsEqual(y.utf8)
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equals($0, $1) }
        case (.dict(let x), .dict(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x.pairs {
                guard let w = y[k], equals(v, w) else { return false }
            }
            return true
        case (.object(let x), .object(let y)): return x === y
        case (.function(let x), .function(let y)): return x === y
        default:
            if let x = exactNumber(a), let y = exactNumber(b) { return x == y }
            return false
        }
    }

    private enum Num: Equatable {
        case int(Int), float(Double)
        static func == (a: Num, b: Num) -> Bool {
            switch (a, b) {
            case (.int(let x), .int(let y)): return x == y
            case (.float(let x), .float(let y)): return x == y
            case (.int(let x), .float(let y)), (.float(let y), .int(let x)): return Double(x) == y
            }
        }
    }

    private static func exactNumber(_ v: Value) -> Num? {
        switch v {
        case .bool(let b): return .int(b ? 1 : 0)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        default: return nil
        }
    }

    /// Ordering for `<` and friends and for `sort`: numbers, strings (by code point) and sequences; else a type error.
    static func compare(_ a: Value, _ b: Value, _ op: String) throws(JinjaError) -> Int {
        switch (a.asPlainString, b.asPlainString) {
        case (.string(let x), .string(let y)):
            return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : x.utf8.elementsEqual(y.utf8) ? 0 : 1
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            for (p, q) in zip(x, y) where !equals(p, q) { return try compare(p, q, op) }
            return x.count < y.count ? -1 : x.count == y.count ? 0 : 1
        default:
            if case .int(let x) = a, case .int(let y) = b { return x < y ? -1 : x == y ? 0 : 1 }
            if let x = a.number, let y = b.number, !isString(a), !isString(b) { return x < y ? -1 : x == y ? 0 : 1 }
            throw typeError("'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
    }

    private static func isString(_ v: Value) -> Bool { if case .string = v { return true } else { return false } }

    static func contains(_ container: Value, _ item: Value) throws(JinjaError) -> Bool {
        switch container {
        case .string(let s), .markup(let s):
            guard case .string(let sub) = item.asPlainString else {
                throw typeError("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return sub.isEmpty || s.contains(sub) && scalarContains(s, sub)
        case .list(let a), .tuple(let a), .generator(let a): return a.contains { equals($0, item) }
        case .dict(let d): return d[item] != nil
        case .undefined: return false
        case .object(let o): if case .string(let k) = item { return o.attribute(k) != nil } else { return false }
        default: throw typeError("argument of type '\(container.typeName)' is not iterable")
        }
    }

    /// Substring by code points (Swift's `contains` compares by grapheme clusters).
    private static func scalarContains(_ s: String, _ sub: String) -> Bool {
        let a = Array(s.utf8), b = Array(sub.utf8)
        guard b.count <= a.count else { return false }
        for i in 0...(a.count - b.count) where a[i] == b[0] && a[i..<(i + b.count)].elementsEqual(b) { return true }
        return false
    }

    static func binary(_ op: BinaryOperator, _ a: Value, _ b: Value, maxLength: Int) throws(JinjaError) -> Value {
        if a.isUndefined || b.isUndefined, op != .concat {
            if case .undefined(let hint) = a.isUndefined ? a : b { throw JinjaError(.render, hint) }
        }
        switch op {
        case .concat:
            let s = a.pythonString + b.pythonString
            try checkLength(s.utf8.count, maxLength)
            return .string(s)
        case .add:
            switch (a, b) {
            case (.markup(let x), .string(let y)), (.markup(let x), .markup(let y)):
                return .markup(x + (b.isMarkup ? y : Filters.escapeHTML(y)))
            case (.string(let x), .markup(let y)):
                return .markup(Filters.escapeHTML(x) + y)
            case (.string(let x), .string(let y)):
                try checkLength(x.utf8.count + y.utf8.count, maxLength)
                return .string(x + y)
            case (.list(let x), .list(let y)):
                try checkLength(x.count + y.count, maxLength)
                return .list(x + y)
            case (.tuple(let x), .tuple(let y)): return .tuple(x + y)
            default: return try arithmetic(op, a, b)
            }
        case .multiply:
            switch (a, b) {
            case (.string(let s), .int(let n)), (.int(let n), .string(let s)):
                try checkLength(s.utf8.count.multipliedReportingOverflow(by: max(n, 0)), maxLength)
                return .string(String(repeating: s, count: max(n, 0)))
            case (.list(let x), .int(let n)), (.int(let n), .list(let x)):
                try checkLength(x.count.multipliedReportingOverflow(by: max(n, 0)), maxLength)
                return .list(Array([[Value]](repeating: x, count: max(n, 0)).joined()))
            default: return try arithmetic(op, a, b)
            }
        case .modulo:
            if case .string = a { throw JinjaError(.unsupported, "printf-style '%' formatting of strings is not supported") }
            return try arithmetic(op, a, b)
        default:
            return try arithmetic(op, a, b)
        }
    }

    private static func checkLength(_ n: Int, _ maxLength: Int) throws(JinjaError) {
        if n > maxLength { throw JinjaError(.limit, "a value would exceed the output limit of \(maxLength) bytes") }
    }

    private static func checkLength(_ r: (partialValue: Int, overflow: Bool), _ maxLength: Int) throws(JinjaError) {
        if r.overflow { throw JinjaError(.limit, "a value would exceed the output limit of \(maxLength) bytes") }
        try checkLength(r.partialValue, maxLength)
    }

    private static func integer(_ v: Value) -> Int? {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    private static func arithmetic(_ op: BinaryOperator, _ a: Value, _ b: Value) throws(JinjaError) -> Value {
        let unsupported = typeError("unsupported operand type(s) for \(op.rawValue): '\(a.typeName)' and '\(b.typeName)'")
        if let x = integer(a), let y = integer(b) {
            func checked(_ r: (partialValue: Int, overflow: Bool)) throws(JinjaError) -> Value {
                if r.overflow { throw JinjaError(.limit, "integer overflow in '\(op.rawValue)'") }
                return .int(r.partialValue)
            }
            switch op {
            case .add: return try checked(x.addingReportingOverflow(y))
            case .subtract: return try checked(x.subtractingReportingOverflow(y))
            case .multiply: return try checked(x.multipliedReportingOverflow(by: y))
            case .divide:
                guard y != 0 else { throw typeError("division by zero") }
                return .float(Double(x) / Double(y))
            case .floorDivide, .modulo:
                guard y != 0 else { throw typeError("integer division or modulo by zero") }
                if x == Int.min && y == -1 { throw JinjaError(.limit, "integer overflow in '\(op.rawValue)'") }
                var q = x / y, r = x % y
                if r != 0 && (r < 0) != (y < 0) { q -= 1; r += y }
                return .int(op == .modulo ? r : q)
            case .power:
                if y < 0 { return .float(Foundation.pow(Double(x), Double(y))) }
                var result = 1, base = x, e = y
                while e > 0 {
                    if e & 1 == 1 { result = try checkedInt(result.multipliedReportingOverflow(by: base)) }
                    e >>= 1
                    if e > 0 { base = try checkedInt(base.multipliedReportingOverflow(by: base)) }
                }
                return .int(result)
            case .concat: throw unsupported
            }
        }
        guard let x = a.number, let y = b.number else { throw unsupported }
        switch op {
        case .add: return .float(x + y)
        case .subtract: return .float(x - y)
        case .multiply: return .float(x * y)
        case .divide:
            guard y != 0 else { throw typeError("float division by zero") }
            return .float(x / y)
        case .floorDivide, .modulo:
            guard y != 0 else { throw typeError("float modulo") }
            let q = (x / y).rounded(.down)
            var r = x.truncatingRemainder(dividingBy: y)
            if r != 0 && (r < 0) != (y < 0) { r += y }
            return .float(op == .modulo ? r : q)
        case .power: return .float(Foundation.pow(x, y))
        case .concat: throw unsupported
        }
    }

    private static func checkedInt(_ r: (partialValue: Int, overflow: Bool)) throws(JinjaError) -> Int {
        if r.overflow { throw JinjaError(.limit, "integer overflow in '**'") }
        return r.partialValue
    }
}
