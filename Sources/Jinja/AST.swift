/// A constant in the template source.
enum Literal: Sendable {
    case none, bool(Bool), int(Int), float(Double), string(String)
}

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
    case concat = "~"
}

enum CompareOperator: String, Sendable {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=", `in` = "in", notIn = "not in"
}

struct Arguments: Sendable {
    var positional: [Expr] = []
    var keyword: [(String, Expr)] = []
}

/// An expression; every node keeps its source position for error messages.
indirect enum Expr: Sendable {
    case literal(Literal, SourcePosition)
    case name(String, SourcePosition)
    case list([Expr], SourcePosition)
    case tuple([Expr], SourcePosition)
    case dict([(Expr, Expr)], SourcePosition)
    case attribute(Expr, String, SourcePosition)
    case item(Expr, Expr, SourcePosition)
    case slice(Expr, Expr?, Expr?, Expr?, SourcePosition)
    case call(Expr, Arguments, SourcePosition)
    case filter(Expr, String, Arguments, SourcePosition)
    case test(Expr, String, Arguments, negated: Bool, SourcePosition)
    case not(Expr, SourcePosition)
    case negate(Expr, SourcePosition)
    case plus(Expr, SourcePosition)
    case binary(BinaryOperator, Expr, Expr, SourcePosition)
    case compare(Expr, [(CompareOperator, Expr)], SourcePosition)
    case and(Expr, Expr, SourcePosition)
    case or(Expr, Expr, SourcePosition)
    /// `then if condition else otherwise`; no else: undefined.
    case conditional(then: Expr, condition: Expr, otherwise: Expr?, SourcePosition)

    var position: SourcePosition {
        switch self {
        case .literal(_, let p), .name(_, let p), .list(_, let p), .tuple(_, let p), .dict(_, let p),
             .attribute(_, _, let p), .item(_, _, let p), .slice(_, _, _, _, let p), .call(_, _, let p),
             .filter(_, _, _, let p), .test(_, _, _, _, let p), .not(_, let p), .negate(_, let p), .plus(_, let p),
             .binary(_, _, _, let p), .compare(_, _, let p), .and(_, _, let p), .or(_, _, let p),
             .conditional(_, _, _, let p):
            return p
        }
    }
}

/// Where `set` and `for` put values: a name, several names (unpacking), or a namespace attribute.
enum AssignTarget: Sendable {
    case name(String)
    case tuple([AssignTarget])
    case attribute(String, String)
}

struct MacroDefinition: Sendable {
    let name: String
    let parameters: [(String, Expr?)]
    let body: [Node]
    let position: SourcePosition
}

/// A statement or piece of output.
indirect enum Node: Sendable {
    case text(String)
    case output(Expr)
    case `if`([(Expr, [Node])], otherwise: [Node])
    case `for`(AssignTarget, Expr, filter: Expr?, body: [Node], otherwise: [Node], SourcePosition)
    case set(AssignTarget, Expr, SourcePosition)
    case setBlock(AssignTarget, filters: [(String, Arguments, SourcePosition)], body: [Node], SourcePosition)
    case macro(MacroDefinition)
    /// `{% call(params) expr %}body{% endcall %}`: expr is called with `caller` bound to a macro of the body.
    case callBlock(Expr, MacroDefinition, SourcePosition)
    case filterBlock(filters: [(String, Arguments, SourcePosition)], body: [Node], SourcePosition)
    case with([(AssignTarget, Expr)], body: [Node], SourcePosition)
    case `break`(SourcePosition)
    case `continue`(SourcePosition)
}
