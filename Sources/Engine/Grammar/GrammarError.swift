/// What can go wrong with a grammar, a JSON Schema or a constraint; positions are 1-based line and column.
public enum GrammarError: Error, CustomStringConvertible, Equatable {
    case syntax(line: Int, column: Int, message: String)
    case undefinedRule(name: String, line: Int, column: Int)
    case duplicateRule(name: String, line: Int, column: Int)
    case missingRoot
    case leftRecursion(rule: String)
    case matchesNothing(rule: String)
    case tooLarge(String)
    case schema(path: String, message: String)
    case unsupportedKeyword(keyword: String, path: String)
    /// JSON text that does not parse (`JSONValue.parse`): where and why.
    case json(String)

    public var description: String {
        switch self {
        case .syntax(let l, let c, let m): return "grammar \(l):\(c): \(m)"
        case .undefinedRule(let n, let l, let c): return "grammar \(l):\(c): undefined rule '\(n)'"
        case .duplicateRule(let n, let l, let c): return "grammar \(l):\(c): rule '\(n)' is defined twice"
        case .missingRoot: return "grammar: no rule named 'root'"
        case .leftRecursion(let r): return "grammar: rule '\(r)' is left-recursive (it can reach itself without consuming input)"
        case .matchesNothing(let r): return "grammar: rule '\(r)' can match no string"
        case .tooLarge(let m): return "grammar too large: \(m)"
        case .schema(let p, let m): return "JSON Schema at \(p.isEmpty ? "#" : p): \(m)"
        case .unsupportedKeyword(let k, let p): return "JSON Schema at \(p.isEmpty ? "#" : p): unsupported keyword '\(k)'"
        case .json(let m): return m
        }
    }
}
