import SLMJinja

extension JSONValue {
    /// The value a template sees, as Python's json.loads would give it: integers as int, other numbers as float,
    /// objects as dicts in their written order.
    public var templateValue: Value {
        switch self {
        case .null: return .none
        case .bool(let b): return .bool(b)
        case .number(let text):
            if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let i = Int(text) { return .int(i) }
            return .float(Double(text) ?? .nan)
        case .string(let s): return .string(s)
        case .array(let a): return .list(a.map(\.templateValue))
        case .object(let kv): return .dict(Dict(kv.map { ($0.0, $0.1.templateValue) }))
        }
    }
}
