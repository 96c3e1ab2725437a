/// Python's `str()` and `repr()` of template values: what `{{ value }}` prints.
extension Value {
    /// `str(value)`; an undefined value prints as the empty string (jinja2's default Undefined).
    public var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let s), .markup(let s): return s
        default: return pythonRepr
        }
    }

    public var pythonRepr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return pythonFloat(d)
        case .string(let s): return pythonQuote(s)
        case .markup(let s): return "Markup(" + pythonQuote(s) + ")"
        case .list(let a): return "[" + a.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .tuple(let a):
            return a.count == 1 ? "(\(a[0].pythonRepr),)" : "(" + a.map(\.pythonRepr).joined(separator: ", ") + ")"
        case .dict(let d):
            return "{" + d.pairs.map { "\($0.0.pythonRepr): \($0.1.pythonRepr)" }.joined(separator: ", ") + "}"
        case .object(let o):
            return "<\(o.typeName) " + Value.dict(o.attributes).pythonRepr + ">"
        case .function(let f): return "<function \(f.name)>"
        case .generator: return "<generator object>"
        }
    }
}

/// `repr(float)`: the shortest text that reads back as the same double (Swift's description has the same digits and
/// switches to exponent form at the same points: 1e+16, 1e-05).
func pythonFloat(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    return "\(d)"
}

/// `repr(str)`: single quotes unless the text holds a single quote and no double quote.
func pythonQuote(_ s: String) -> String {
    let q: Unicode.Scalar = s.unicodeScalars.contains("'") && !s.unicodeScalars.contains("\"") ? "\"" : "'"
    var out = String(q)
    for u in s.unicodeScalars {
        switch u {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case q: out += "\\" + String(q)
        case _ where u.value < 0x20 || (0x7f...0xa0).contains(u.value):
            out += "\\x" + hex(u.value, width: 2)
        default: out.unicodeScalars.append(u)
        }
    }
    return out + String(q)
}

func hex(_ v: UInt32, width: Int) -> String {
    let h = String(v, radix: 16)
    return String(repeating: "0", count: max(0, width - h.count)) + h
}

/// Python's `str.isspace()` for one scalar.
func isPythonSpace(_ u: Unicode.Scalar) -> Bool {
    switch u.value {
    case 0x09...0x0d, 0x1c...0x20, 0x85, 0xa0, 0x1680, 0x2000...0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
        return true
    default: return false
    }
}
