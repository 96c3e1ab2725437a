/// jinja2's tests, the right side of `is`: `x is defined`, `x is none`, `x is string`, `n is divisibleby 3`, ...
enum Predicates {
    static func apply(_ name: String, _ v: Value, _ args: [Value], _ kwargs: [(String, Value)], renderer: Renderer) throws(JinjaError) -> Bool {
        func arg() throws(JinjaError) -> Value {
            guard let a = args.first ?? kwargs.first?.1 else { throw JinjaError(.render, "the test '\(name)' needs an argument") }
            return a
        }
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": return v.isNone
        case "boolean": if case .bool = v { return true } else { return false }
        case "true": if case .bool(true) = v { return true } else { return false }
        case "false": if case .bool(false) = v { return true } else { return false }
        case "integer": if case .int = v { return true } else { return false }
        case "float": if case .float = v { return true } else { return false }
        case "number":
            switch v {
            case .int, .float, .bool: return true
            default: return false
            }
        case "string": if case .string = v.asPlainString { return true } else { return false }
        case "mapping": if case .dict = v { return true } else { return false }
        case "iterable":
            switch v {
            case .list, .tuple, .dict, .string, .undefined, .generator: return true
            default: return false
            }
        case "sequence":
            switch v {
            case .list, .tuple, .dict, .string: return true
            default: return false
            }
        case "callable": if case .function = v { return true } else { return false }
        case "odd", "even":
            guard case .int(let i) = v else { throw JinjaError(.render, "the test '\(name)' needs an integer") }
            return (i & 1 == 1) == (name == "odd")
        case "divisibleby":
            guard let i = Access.index(v), let d = Access.index(try arg()), d != 0 else {
                throw JinjaError(.render, "divisibleby needs two integers, the second non-zero")
            }
            return i % d == 0
        case "eq", "equalto", "==": return Operators.equals(v, try arg())
        case "ne", "!=": return !Operators.equals(v, try arg())
        case "lt", "lessthan", "<": return try Operators.compare(v, try arg(), "<") < 0
        case "le", "<=": return try Operators.compare(v, try arg(), "<=") <= 0
        case "gt", "greaterthan", ">": return try Operators.compare(v, try arg(), ">") > 0
        case "ge", ">=": return try Operators.compare(v, try arg(), ">=") >= 0
        case "in": return try Operators.contains(try arg(), v)
        case "sameas":
            let other = try arg()
            switch (v, other) {
            case (.none, .none): return true
            case (.bool(let x), .bool(let y)): return x == y
            case (.object(let x), .object(let y)): return x === y
            case (.function(let x), .function(let y)): return x === y
            default: return false
            }
        case "lower":
            let s = v.pythonString
            return s.unicodeScalars.contains { PythonStrings.isCased($0) } && s == s.lowercased()
        case "upper":
            let s = v.pythonString
            return s.unicodeScalars.contains { PythonStrings.isCased($0) } && s == s.uppercased()
        case "escaped": return false
        default: throw JinjaError(.unsupported, "no test named '\(name)'")
        }
    }
}
