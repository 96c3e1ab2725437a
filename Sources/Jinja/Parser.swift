/// Recursive descent over the lexer's tokens, following jinja2's parser rule for rule (precedence from loosest:
/// conditional, or, and, not, comparisons, + -, ~, * / // %, **, unary - +, then postfix . [] () and | filters /
/// `is` tests), so that a template parses here exactly when it parses in jinja2.
struct Parser {
    private let tokens: [Token]
    private var i = 0
    private var depth = 0
    static let maxDepth = 128

    init(tokens: [Token]) { self.tokens = tokens }

    private var current: Token { tokens[i] }
    private var next: Token { tokens[min(i + 1, tokens.count - 1)] }

    private func fail(_ message: String, _ t: Token? = nil) -> JinjaError {
        JinjaError(.syntax, message, at: (t ?? current).position)
    }

    private func describe(_ k: TokenKind) -> String {
        switch k {
        case .text: return "text"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string: return "a string"
        case .integer, .float: return "a number"
        case .op(let o): return "'\(o)'"
        case .end: return "the end of the template"
        }
    }

    private func isName(_ n: String, _ t: Token? = nil) -> Bool { (t ?? current).kind == .name(n) }
    private func isOp(_ o: String) -> Bool { current.kind == .op(o) }

    private mutating func skipName(_ n: String) -> Bool {
        if isName(n) { i += 1; return true }
        return false
    }

    private mutating func skipOp(_ o: String) -> Bool {
        if isOp(o) { i += 1; return true }
        return false
    }

    private mutating func expectOp(_ o: String) throws(JinjaError) {
        guard skipOp(o) else { throw fail("expected '\(o)', got \(describe(current.kind))") }
    }

    private mutating func expectName() throws(JinjaError) -> String {
        guard case .name(let n) = current.kind else { throw fail("expected a name, got \(describe(current.kind))") }
        i += 1
        return n
    }

    private mutating func expect(_ k: TokenKind) throws(JinjaError) {
        guard current.kind == k else { throw fail("expected \(describe(k)), got \(describe(current.kind))") }
        i += 1
    }

    private mutating func enter() throws(JinjaError) {
        depth += 1
        if depth > Parser.maxDepth { throw JinjaError(.limit, "the template nests more than \(Parser.maxDepth) levels deep", at: current.position) }
    }

    // MARK: statements

    mutating func parseTemplate() throws(JinjaError) -> [Node] {
        let body = try subparse(until: [])
        guard current.kind == .end else { throw fail("unexpected \(describe(current.kind))") }
        return body
    }

    /// Nodes up to a block tag whose name is in `ends` (left as the current token) or the end of the template.
    private mutating func subparse(until ends: Set<String>) throws(JinjaError) -> [Node] {
        try enter()
        defer { depth -= 1 }
        var body: [Node] = []
        while true {
            switch current.kind {
            case .text(let s):
                body.append(.text(s))
                i += 1
            case .variableBegin:
                i += 1
                body.append(.output(try parseTuple()))
                try expect(.variableEnd)
            case .blockBegin:
                let open = current
                i += 1
                if case .name(let n) = current.kind, ends.contains(n) { return body }
                if case .name(let n) = current.kind, n.hasPrefix("end") || n == "else" || n == "elif" {
                    throw fail(ends.isEmpty ? "unexpected '\(n)': no block is open" : "unexpected '\(n)', expected one of \(ends.sorted().map { "'\($0)'" }.joined(separator: ", "))")
                }
                body.append(contentsOf: try parseStatement(open))
                try expect(.blockEnd)
            case .end:
                if !ends.isEmpty { throw fail("unexpected end of template, expected one of \(ends.sorted().map { "'\($0)'" }.joined(separator: ", "))") }
                return body
            default:
                throw fail("unexpected \(describe(current.kind))")
            }
        }
    }

    /// After a statement's header: `%}`, then the body up to one of `ends`; with `dropEnd`, the end name is consumed.
    private mutating func statements(until ends: Set<String>, dropEnd: Bool = false) throws(JinjaError) -> [Node] {
        _ = skipOp(":")
        try expect(.blockEnd)
        let body = try subparse(until: ends)
        if dropEnd { i += 1 }
        return body
    }

    private mutating func parseStatement(_ open: Token) throws(JinjaError) -> [Node] {
        let t = current
        guard case .name(let keyword) = t.kind else { throw fail("expected a tag name, got \(describe(t.kind))") }
        i += 1
        switch keyword {
        case "if": return [try parseIf()]
        case "for": return [try parseFor(t.position)]
        case "set": return [try parseSet(t.position)]
        case "macro":
            let name = try expectName()
            let params = try parseSignature()
            return [.macro(MacroDefinition(name: name, parameters: params, body: try statements(until: ["endmacro"], dropEnd: true), position: t.position))]
        case "call":
            let params = isOp("(") ? try parseSignature() : []
            let callee = try parseExpression()
            guard case .call = callee else { throw JinjaError(.syntax, "expected a call after 'call'", at: callee.position) }
            let body = try statements(until: ["endcall"], dropEnd: true)
            return [.callBlock(callee, MacroDefinition(name: "caller", parameters: params, body: body, position: t.position), t.position)]
        case "filter":
            let filters = try parseFilterChain(inline: true)
            return [.filterBlock(filters: filters, body: try statements(until: ["endfilter"], dropEnd: true), t.position)]
        case "with":
            var pairs: [(AssignTarget, Expr)] = []
            while current.kind != .blockEnd {
                if !pairs.isEmpty { try expectOp(",") }
                let target = try parseAssignTarget(ends: [])
                try expectOp("=")
                pairs.append((target, try parseExpression()))
            }
            return [.with(pairs, body: try statements(until: ["endwith"], dropEnd: true), t.position)]
        case "generation":
            // Hugging Face's AssistantTracker: the body renders as is (it only marks assistant text for masks).
            return [.with([], body: try statements(until: ["endgeneration"], dropEnd: true), t.position)]
        case "break": return [.break(t.position)]
        case "continue": return [.continue(t.position)]
        case "include", "import", "from", "extends", "block", "autoescape", "trans", "do":
            throw JinjaError(.unsupported, "the '\(keyword)' tag is not supported (chat templates are self-contained)", at: t.position)
        default:
            throw JinjaError(.syntax, "unknown tag '\(keyword)'", at: t.position)
        }
    }

    private mutating func parseIf() throws(JinjaError) -> Node {
        var branches: [(Expr, [Node])] = []
        var otherwise: [Node] = []
        while true {
            let test = try parseTuple(withConditional: false)
            let body = try statements(until: ["elif", "else", "endif"])
            branches.append((test, body))
            let end = current
            i += 1
            if isName("elif", end) { continue }
            if isName("else", end) { otherwise = try statements(until: ["endif"], dropEnd: true) }
            break
        }
        return .if(branches, otherwise: otherwise)
    }

    private mutating func parseFor(_ p: SourcePosition) throws(JinjaError) -> Node {
        let target = try parseAssignTarget(ends: ["in"])
        guard skipName("in") else { throw fail("expected 'in' in the for loop, got \(describe(current.kind))") }
        let iterable = try parseTuple(withConditional: false, ends: ["recursive"])
        var filter: Expr? = nil
        if skipName("if") { filter = try parseExpression() }
        if isName("recursive") { throw JinjaError(.unsupported, "recursive for loops are not supported", at: current.position) }
        let body = try statements(until: ["endfor", "else"])
        let end = current
        i += 1
        let otherwise = isName("else", end) ? try statements(until: ["endfor"], dropEnd: true) : []
        return .for(target, iterable, filter: filter, body: body, otherwise: otherwise, p)
    }

    private mutating func parseSet(_ p: SourcePosition) throws(JinjaError) -> Node {
        let target: AssignTarget
        if case .name(let ns) = current.kind, next.kind == .op(".") {
            i += 2
            target = .attribute(ns, try expectName())
        } else {
            target = try parseAssignTarget(ends: [])
        }
        if skipOp("=") { return .set(target, try parseTuple(), p) }
        let filters = isOp("|") ? try parseFilterChain(inline: false) : []
        return .setBlock(target, filters: filters, body: try statements(until: ["endset"], dropEnd: true), p)
    }

    private mutating func parseAssignTarget(ends: Set<String>) throws(JinjaError) -> AssignTarget {
        var names: [AssignTarget] = []
        var isTuple = false
        let parenthesized = skipOp("(")
        while true {
            if !names.isEmpty { try expectOp(",") }
            if current.kind == .blockEnd || isOp(")") || isOp("=") { break }
            if case .name(let n) = current.kind, ends.contains(n) { break }
            let t = current
            let n = try expectName()
            if ["true", "false", "none", "True", "False", "None"].contains(n) { throw fail("cannot assign to '\(n)'", t) }
            names.append(.name(n))
            if isOp(",") { isTuple = true } else { break }
        }
        if parenthesized { try expectOp(")") }
        guard !names.isEmpty else { throw fail("expected a name to assign to, got \(describe(current.kind))") }
        return isTuple || parenthesized && names.count > 1 ? .tuple(names) : names[0]
    }

    private mutating func parseSignature() throws(JinjaError) -> [(String, Expr?)] {
        try expectOp("(")
        var params: [(String, Expr?)] = []
        while !isOp(")") {
            if !params.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let name = try expectName()
            params.append((name, skipOp("=") ? try parseExpression() : nil))
        }
        try expectOp(")")
        return params
    }

    private mutating func parseFilterChain(inline: Bool) throws(JinjaError) -> [(String, Arguments, SourcePosition)] {
        var filters: [(String, Arguments, SourcePosition)] = []
        var first = inline
        while first || isOp("|") {
            if !first { i += 1 }
            first = false
            let p = current.position
            let name = try dottedName()
            filters.append((name, isOp("(") ? try parseCallArguments() : Arguments(), p))
        }
        return filters
    }

    private mutating func dottedName() throws(JinjaError) -> String {
        var name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        return name
    }

    // MARK: expressions

    /// Comma-separated expressions: one is itself, several (or a trailing comma) a tuple.
    private mutating func parseTuple(withConditional: Bool = true, ends: Set<String> = [], parenthesized: Bool = false) throws(JinjaError) -> Expr {
        let p = current.position
        var items: [Expr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if current.kind == .variableEnd || current.kind == .blockEnd || isOp(")") { break }
            if case .name(let n) = current.kind, ends.contains(n) { break }
            items.append(withConditional ? try parseExpression() : try parseOr())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !parenthesized { throw fail("expected an expression, got \(describe(current.kind))") }
        }
        return .tuple(items, p)
    }

    mutating func parseExpression() throws(JinjaError) -> Expr {
        try enter()
        defer { depth -= 1 }
        var e = try parseOr()
        while isName("if") {
            let p = current.position
            i += 1
            let condition = try parseOr()
            let otherwise = skipName("else") ? try parseExpression() : nil
            e = .conditional(then: e, condition: condition, otherwise: otherwise, p)
        }
        return e
    }

    private mutating func parseOr() throws(JinjaError) -> Expr {
        var e = try parseAnd()
        while isName("or") {
            let p = current.position
            i += 1
            e = .or(e, try parseAnd(), p)
        }
        return e
    }

    private mutating func parseAnd() throws(JinjaError) -> Expr {
        var e = try parseNot()
        while isName("and") {
            let p = current.position
            i += 1
            e = .and(e, try parseNot(), p)
        }
        return e
    }

    private mutating func parseNot() throws(JinjaError) -> Expr {
        if isName("not") {
            let p = current.position
            i += 1
            try enter()
            defer { depth -= 1 }
            return .not(try parseNot(), p)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws(JinjaError) -> Expr {
        let p = current.position
        let first = try parseMath1()
        var ops: [(CompareOperator, Expr)] = []
        while true {
            if case .op(let o) = current.kind, let op = CompareOperator(rawValue: o), op != .in, op != .notIn {
                i += 1
                ops.append((op, try parseMath1()))
            } else if skipName("in") {
                ops.append((.in, try parseMath1()))
            } else if isName("not") && isName("in", next) {
                i += 2
                ops.append((.notIn, try parseMath1()))
            } else {
                break
            }
        }
        return ops.isEmpty ? first : .compare(first, ops, p)
    }

    private mutating func binaryLevel(_ ops: Set<String>, _ operand: (inout Parser) throws(JinjaError) -> Expr) throws(JinjaError) -> Expr {
        var e = try operand(&self)
        while case .op(let o) = current.kind, ops.contains(o), let op = BinaryOperator(rawValue: o) {
            let p = current.position
            i += 1
            e = .binary(op, e, try operand(&self), p)
        }
        return e
    }

    private mutating func parseMath1() throws(JinjaError) -> Expr {
        try binaryLevel(["+", "-"]) { (p: inout Parser) throws(JinjaError) in try p.parseConcat() }
    }

    private mutating func parseConcat() throws(JinjaError) -> Expr {
        try binaryLevel(["~"]) { (p: inout Parser) throws(JinjaError) in try p.parseMath2() }
    }

    private mutating func parseMath2() throws(JinjaError) -> Expr {
        try binaryLevel(["*", "/", "//", "%"]) { (p: inout Parser) throws(JinjaError) in try p.parsePow() }
    }

    private mutating func parsePow() throws(JinjaError) -> Expr {
        try binaryLevel(["**"]) { (p: inout Parser) throws(JinjaError) in try p.parseUnary(withFilter: true) }
    }

    private mutating func parseUnary(withFilter: Bool) throws(JinjaError) -> Expr {
        try enter()
        defer { depth -= 1 }
        let p = current.position
        var e: Expr
        if skipOp("-") {
            e = .negate(try parseUnary(withFilter: false), p)
        } else if skipOp("+") {
            e = .plus(try parseUnary(withFilter: false), p)
        } else {
            e = try parsePrimary()
        }
        e = try parsePostfix(e)
        if withFilter { e = try parseFilterExpression(e) }
        return e
    }

    private mutating func parsePrimary() throws(JinjaError) -> Expr {
        let t = current
        switch t.kind {
        case .name(let n):
            i += 1
            switch n {
            case "true", "True": return .literal(.bool(true), t.position)
            case "false", "False": return .literal(.bool(false), t.position)
            case "none", "None": return .literal(.none, t.position)
            default: return .name(n, t.position)
            }
        case .string(var s):
            i += 1
            while case .string(let more) = current.kind { s += more; i += 1 }
            return .literal(.string(s), t.position)
        case .integer(let v): i += 1; return .literal(.int(v), t.position)
        case .float(let v): i += 1; return .literal(.float(v), t.position)
        case .op("("):
            i += 1
            let e = try parseTuple(parenthesized: true)
            try expectOp(")")
            return e
        case .op("["):
            i += 1
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return .list(items, t.position)
        case .op("{"):
            i += 1
            var pairs: [(Expr, Expr)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let k = try parseExpression()
                try expectOp(":")
                pairs.append((k, try parseExpression()))
            }
            try expectOp("}")
            return .dict(pairs, t.position)
        default:
            throw fail("unexpected \(describe(t.kind))")
        }
    }

    private mutating func parsePostfix(_ base: Expr) throws(JinjaError) -> Expr {
        var e = base
        while true {
            let p = current.position
            if skipOp(".") {
                switch current.kind {
                case .name(let n): i += 1; e = .attribute(e, n, p)
                case .integer(let v): i += 1; e = .item(e, .literal(.int(v), p), p)
                default: throw fail("expected a name or number after '.'")
                }
            } else if skipOp("[") {
                var subscripts: [Expr] = []
                while !isOp("]") {
                    if !subscripts.isEmpty { try expectOp(",") }
                    subscripts.append(try parseSubscript(base: e))
                }
                try expectOp("]")
                guard !subscripts.isEmpty else { throw fail("expected a subscript") }
                if subscripts.count == 1, case .slice = subscripts[0] {
                    e = subscripts[0]
                } else {
                    e = .item(e, subscripts.count == 1 ? subscripts[0] : .tuple(subscripts, p), p)
                }
            } else if isOp("(") {
                e = .call(e, try parseCallArguments(), p)
            } else {
                return e
            }
        }
    }

    /// One subscript: an expression or a slice `a:b:c` (each part optional); a slice comes back applied to `base`.
    private mutating func parseSubscript(base: Expr) throws(JinjaError) -> Expr {
        let p = current.position
        var start: Expr? = nil
        if !isOp(":") {
            let e = try parseExpression()
            if !isOp(":") { return e }
            start = e
        }
        i += 1
        var stop: Expr? = nil
        if !isOp(":") && !isOp("]") && !isOp(",") { stop = try parseExpression() }
        var step: Expr? = nil
        if skipOp(":") && !isOp("]") && !isOp(",") { step = try parseExpression() }
        return .slice(base, start, stop, step, p)
    }

    private mutating func parseCallArguments() throws(JinjaError) -> Arguments {
        try expectOp("(")
        var args = Arguments()
        while !isOp(")") {
            if !args.positional.isEmpty || !args.keyword.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            if isOp("*") || isOp("**") { throw JinjaError(.unsupported, "*args and **kwargs in calls are not supported", at: current.position) }
            if case .name(let n) = current.kind, next.kind == .op("=") {
                i += 2
                args.keyword.append((n, try parseExpression()))
            } else {
                if !args.keyword.isEmpty { throw fail("a positional argument follows a keyword argument") }
                args.positional.append(try parseExpression())
            }
        }
        try expectOp(")")
        return args
    }

    private mutating func parseFilterExpression(_ base: Expr) throws(JinjaError) -> Expr {
        var e = base
        while true {
            let p = current.position
            if skipOp("|") {
                let name = try dottedName()
                e = .filter(e, name, isOp("(") ? try parseCallArguments() : Arguments(), p)
            } else if isName("is") {
                i += 1
                let negated = skipName("not")
                let name = try dottedName()
                var args = Arguments()
                if isOp("(") {
                    args = try parseCallArguments()
                } else if startsTestArgument {
                    if isName("is") { throw fail("tests cannot be chained with 'is'") }
                    args.positional = [try parsePostfix(try parsePrimary())]
                }
                e = .test(e, name, args, negated: negated, p)
            } else if isOp("(") {
                e = .call(e, try parseCallArguments(), p)
            } else {
                return e
            }
        }
    }

    /// jinja2 takes one unparenthesized argument after a test name (`is divisibleby 3`) when a primary follows that is
    /// not `else`, `or` or `and`.
    private var startsTestArgument: Bool {
        switch current.kind {
        case .name(let n): return !["else", "or", "and"].contains(n)
        case .string, .integer, .float: return true
        case .op(let o): return o == "(" || o == "[" || o == "{"
        default: return false
        }
    }
}
