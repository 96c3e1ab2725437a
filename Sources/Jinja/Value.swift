/// A value inside a template, with Python's semantics for the types chat templates use.
public enum Value {
    /// A name or key that does not exist; `hint` says which, for the error raised when it is used.
    case undefined(hint: String)
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    /// Text marked safe (`|safe`, `|escape`): adding a plain string to it HTML-escapes that string, as markupsafe does.
    case markup(String)
    case list([Value])
    case tuple([Value])
    /// What jinja2's map / select / reject filters return: iterable, always true, but no len() and no JSON.
    case generator([Value])
    case dict(Dict)
    /// `namespace(...)` and the `loop` object: attributes by name, shared by reference.
    case object(Namespace)
    /// A macro, a built-in function or a bound method.
    case function(Function)

    public static func undefined(_ name: String) -> Value { .undefined(hint: "'\(name)' is undefined") }

    public var isUndefined: Bool { if case .undefined = self { return true } else { return false } }
    var isMarkup: Bool { if case .markup = self { return true } else { return false } }

    /// Markup as the plain string it holds; anything else unchanged.
    var asPlainString: Value { if case .markup(let s) = self { return .string(s) } else { return self } }

    public var isNone: Bool { if case .none = self { return true } else { return false } }

    /// Python's truth value.
    public var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s), .markup(let s): return !s.isEmpty
        case .list(let a), .tuple(let a): return !a.isEmpty
        case .dict(let d): return d.count > 0
        case .object, .function, .generator: return true
        }
    }

    /// Python's type name, for error messages.
    public var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .markup: return "Markup"
        case .list: return "list"
        case .tuple: return "tuple"
        case .generator: return "generator"
        case .dict: return "dict"
        case .object(let o): return o.typeName
        case .function: return "function"
        }
    }

    /// The elements of a list or tuple, the keys of a dict, the characters of a string; nil for the rest.
    var iterated: [Value]? {
        switch self {
        case .list(let a), .tuple(let a), .generator(let a): return a
        case .dict(let d): return d.keys
        case .string(let s), .markup(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        default: return nil
        }
    }

    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .float(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
}

/// Python's dict: insertion-ordered, keys compared as Python compares them (1 == 1.0 == True).
public struct Dict {
    public private(set) var keys: [Value] = []
    public private(set) var values: [Value] = []
    private var index: [HashKey: Int] = [:]

    public init() {}

    public init(_ pairs: [(String, Value)]) {
        for (k, v) in pairs { self[.string(k)] = v }
    }

    public var count: Int { keys.count }
    public var pairs: Zip2Sequence<[Value], [Value]> { zip(keys, values) }

    public subscript(key: Value) -> Value? {
        get { HashKey(key).flatMap { index[$0] }.map { values[$0] } }
        set {
            guard let h = HashKey(key) else { return }
            if let i = index[h] {
                if let v = newValue { values[i] = v } else { remove(at: i) }
            } else if let v = newValue {
                index[h] = keys.count
                keys.append(key)
                values.append(v)
            }
        }
    }

    public subscript(key: String) -> Value? {
        get { self[.string(key)] }
        set { self[.string(key)] = newValue }
    }

    private mutating func remove(at i: Int) {
        keys.remove(at: i)
        values.remove(at: i)
        index = [:]
        for (j, k) in keys.enumerated() { if let h = HashKey(k) { index[h] = j } }
    }
}

/// The hashable part of a key: Python hashes 1, 1.0 and True alike.
enum HashKey: Hashable {
    case none, int(Int), float(Double), string(String), tuple([HashKey])

    init?(_ v: Value) {
        switch v {
        case .none: self = .none
        case .bool(let b): self = .int(b ? 1 : 0)
        case .int(let i): self = .int(i)
        case .float(let d):
            if d == d.rounded(), abs(d) < 9.2e18 { self = .int(Int(d)) } else { self = .float(d) }
        case .string(let s): self = .string(s)
        case .tuple(let a):
            var parts: [HashKey] = []
            for x in a { guard let h = HashKey(x) else { return nil }; parts.append(h) }
            self = .tuple(parts)
        default: return nil
        }
    }
}

/// Attributes by name, shared by reference: `namespace()` objects (assignable with `{% set ns.attr = ... %}`) and
/// `loop`, whose attributes are computed when read (a loop iteration then costs no dictionary).
public class Namespace {
    let typeName: String
    var attributes: Dict
    let assignable: Bool

    init(typeName: String, attributes: Dict, assignable: Bool) {
        self.typeName = typeName
        self.attributes = attributes
        self.assignable = assignable
    }

    func attribute(_ name: String) -> Value? { attributes[name] }
}

/// Something a template can call: a macro, `range`, `raise_exception`, a string's `strip`, ...
public final class Function {
    public typealias Body = (_ args: [Value], _ kwargs: [(String, Value)], _ context: CallContext) throws(JinjaError) -> Value
    let name: String
    let body: Body

    public init(name: String, _ body: @escaping Body) {
        self.name = name
        self.body = body
    }
}

/// What a called function may need from the renderer: the caller block of a `{% call %}`, the position for errors.
public struct CallContext {
    let renderer: Renderer
    let position: SourcePosition
    var caller: Value?
}
