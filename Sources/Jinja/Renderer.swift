/// Bounds on one rendering: a template is data from a file, so no template may loop, recurse or grow without end.
public struct RenderLimits: Sendable {
    /// Largest output, and largest string or list any expression may build, in bytes (elements for lists).
    public var maxOutputBytes = 16 << 20
    /// Loop iterations over the whole rendering, all loops together.
    public var maxIterations = 1_000_000
    /// Nested macro calls.
    public var maxCallDepth = 64
    /// Largest `range()` (jinja2's sandbox allows 100,000).
    public var maxRange = 100_000

    public init() {}
}

/// Variables visible at one point: a frame per loop iteration, macro call and `with`; `set` writes the innermost.
final class Scope {
    var variables: [String: Value] = [:]
    let parent: Scope?

    init(parent: Scope?) { self.parent = parent }

    func lookup(_ name: String) -> Value? {
        var s: Scope? = self
        while let frame = s {
            if let v = frame.variables[name] { return v }
            s = frame.parent
        }
        return nil
    }
}

enum Flow { case normal, breakLoop, continueLoop }

/// Walks the AST once per rendering, writing into `output`.
final class Renderer {
    let limits: RenderLimits
    let now: Double?
    var output = ""
    private var iterations = 0
    private var callDepth = 0

    init(limits: RenderLimits, now: Double?) {
        self.limits = limits
        self.now = now
    }

    // MARK: statements

    func execute(_ nodes: [Node], _ scope: Scope) throws(JinjaError) -> Flow {
        for node in nodes {
            let flow = try execute(node, scope)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func write(_ s: String) throws(JinjaError) {
        output += s
        if output.utf8.count > limits.maxOutputBytes {
            throw JinjaError(.limit, "the output exceeds \(limits.maxOutputBytes) bytes")
        }
    }

    /// Runs `body` with output going to a fresh buffer; returns what it wrote.
    func capture(_ body: () throws(JinjaError) -> Void) throws(JinjaError) -> String {
        let saved = output
        output = ""
        defer { output = saved }
        try body()
        return output
    }

    private func execute(_ node: Node, _ scope: Scope) throws(JinjaError) -> Flow {
        switch node {
        case .text(let s):
            try write(s)
        case .output(let e):
            try write(try evaluate(e, scope).pythonString)
        case .if(let branches, let otherwise):
            for (test, body) in branches where try evaluate(test, scope).truthy {
                return try execute(body, scope)
            }
            return try execute(otherwise, scope)
        case .for(let target, let iterable, let filter, let body, let otherwise, let p):
            return try loop(target, iterable, filter, body, otherwise, p, scope)
        case .set(let target, let e, let p):
            try assign(target, try evaluate(e, scope), scope, p)
        case .setBlock(let target, let filters, let body, let p):
            var v = Value.string(try capture { () throws(JinjaError) in _ = try execute(body, scope) })
            for (name, args, fp) in filters { v = try applyFilter(name, v, args, scope, fp) }
            try assign(target, v, scope, p)
        case .macro(let definition):
            scope.variables[definition.name] = .function(makeMacro(definition, scope))
        case .callBlock(let callee, let definition, let p):
            guard case .call(let fn, let args, _) = callee else { return .normal }
            let caller = Value.function(makeMacro(definition, scope))
            try write(try call(try evaluate(fn, scope), args, scope, p, caller: caller).pythonString)
        case .filterBlock(let filters, let body, _):
            var v = Value.string(try capture { () throws(JinjaError) in _ = try execute(body, scope) })
            for (name, args, fp) in filters { v = try applyFilter(name, v, args, scope, fp) }
            try write(v.pythonString)
        case .with(let pairs, let body, let p):
            let inner = Scope(parent: scope)
            for (target, e) in pairs { try assign(target, try evaluate(e, scope), inner, p) }
            return try execute(body, inner)
        case .break: return .breakLoop
        case .continue: return .continueLoop
        }
        return .normal
    }

    private func assign(_ target: AssignTarget, _ value: Value, _ scope: Scope, _ p: SourcePosition) throws(JinjaError) {
        switch target {
        case .name(let n):
            scope.variables[n] = value
        case .tuple(let targets):
            guard let items = value.iterated, !(value.isUndefined) else {
                throw JinjaError(.render, "cannot unpack a value of type '\(value.typeName)'", at: p)
            }
            guard items.count == targets.count else {
                throw JinjaError(.render, "expected \(targets.count) values to unpack, got \(items.count)", at: p)
            }
            for (t, v) in zip(targets, items) { try assign(t, v, scope, p) }
        case .attribute(let name, let attribute):
            guard case .object(let ns)? = scope.lookup(name), ns.assignable else {
                throw JinjaError(.render, "cannot assign attribute on non-namespace object '\(name)'", at: p)
            }
            ns.attributes[attribute] = value
        }
    }

    func countIteration(_ p: SourcePosition) throws(JinjaError) {
        iterations += 1
        if iterations > limits.maxIterations {
            throw JinjaError(.limit, "more than \(limits.maxIterations) loop iterations", at: p)
        }
    }

    private func loop(_ target: AssignTarget, _ iterable: Expr, _ filter: Expr?, _ body: [Node], _ otherwise: [Node],
                      _ p: SourcePosition, _ scope: Scope) throws(JinjaError) -> Flow {
        let source = try evaluate(iterable, scope)
        guard var items = source.iterated else {
            throw JinjaError(.render, "'\(source.typeName)' object is not iterable", at: iterable.position)
        }
        if let filter {
            var kept: [Value] = []
            for item in items {
                try countIteration(p)
                let frame = Scope(parent: scope)
                try assign(target, item, frame, p)
                if try evaluate(filter, frame).truthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty { return try execute(otherwise, scope) }
        let loopObject = LoopObject(items)
        let loopValue = Value.object(loopObject)
        for (i, item) in items.enumerated() {
            try countIteration(p)
            let frame = Scope(parent: scope)
            try assign(target, item, frame, p)
            loopObject.index = i
            frame.variables["loop"] = loopValue
            if try execute(body, frame) == .breakLoop { break }
        }
        return .normal
    }

    private func makeMacro(_ definition: MacroDefinition, _ scope: Scope) -> Function {
        Function(name: definition.name) { [unowned self] (args, kwargs, ctx) throws(JinjaError) in
            self.callDepth += 1
            defer { self.callDepth -= 1 }
            if self.callDepth > self.limits.maxCallDepth {
                throw JinjaError(.limit, "macro calls nest more than \(self.limits.maxCallDepth) deep", at: ctx.position)
            }
            let frame = Scope(parent: scope)
            var extraKeywords = Dict()
            var bound = Set<String>()
            for (i, (name, _)) in definition.parameters.enumerated() where i < args.count {
                frame.variables[name] = args[i]
                bound.insert(name)
            }
            for (k, v) in kwargs {
                if k == "caller" { frame.variables["caller"] = v; continue }
                if definition.parameters.contains(where: { $0.0 == k }) {
                    if bound.contains(k) { throw JinjaError(.render, "macro '\(definition.name)' got multiple values for argument '\(k)'", at: ctx.position) }
                    frame.variables[k] = v
                    bound.insert(k)
                } else {
                    extraKeywords[k] = v
                }
            }
            for (name, defaultValue) in definition.parameters where !bound.contains(name) {
                frame.variables[name] = try defaultValue.map { (e) throws(JinjaError) in try self.evaluate(e, frame) } ?? .undefined(name)
            }
            frame.variables["varargs"] = .tuple(Array(args.dropFirst(definition.parameters.count)))
            frame.variables["kwargs"] = .dict(extraKeywords)
            let text = try self.capture { () throws(JinjaError) in _ = try self.execute(definition.body, frame) }
            return .string(text)
        }
    }

    // MARK: expressions

    func evaluate(_ e: Expr, _ scope: Scope) throws(JinjaError) -> Value {
        switch e {
        case .literal(let l, _):
            switch l {
            case .none: return .none
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .float(let d): return .float(d)
            case .string(let s): return .string(s)
            }
        case .name(let n, _):
            return scope.lookup(n) ?? Builtins.global(n) ?? .undefined(n)
        case .list(let items, _):
            var out: [Value] = []
            for x in items { out.append(try evaluate(x, scope)) }
            return .list(out)
        case .tuple(let items, _):
            var out: [Value] = []
            for x in items { out.append(try evaluate(x, scope)) }
            return .tuple(out)
        case .dict(let pairs, let p):
            var d = Dict()
            for (k, v) in pairs {
                let key = try evaluate(k, scope)
                guard HashKey(key) != nil else { throw JinjaError(.render, "unhashable type: '\(key.typeName)'", at: p) }
                d[key] = try evaluate(v, scope)
            }
            return .dict(d)
        case .attribute(let base, let name, let p):
            let v = try evaluate(base, scope)
            return try wrap(p) { () throws(JinjaError) in try Access.attribute(v, name) }
        case .item(let base, let index, let p):
            let v = try evaluate(base, scope), key = try evaluate(index, scope)
            return try wrap(p) { () throws(JinjaError) in try Access.item(v, key) }
        case .slice(let base, let start, let stop, let step, let p):
            func optional(_ x: Expr?) throws(JinjaError) -> Value? { try x.map { (x) throws(JinjaError) in try evaluate(x, scope) } }
            return try wrap(p) { () throws(JinjaError) in
                try Access.slice(try evaluate(base, scope), try optional(start), try optional(stop), try optional(step))
            }
        case .call(let fn, let args, let p):
            return try call(try evaluate(fn, scope), args, scope, p)
        case .filter(let base, let name, let args, let p):
            return try applyFilter(name, try evaluate(base, scope), args, scope, p)
        case .test(let base, let name, let args, let negated, let p):
            let value = try evaluate(base, scope)
            let (positional, keyword) = try arguments(args, scope)
            let result = try wrap(p) { () throws(JinjaError) in try Predicates.apply(name, value, positional, keyword, renderer: self) }
            return .bool(result != negated)
        case .not(let x, _):
            return .bool(!(try evaluate(x, scope).truthy))
        case .negate(let x, let p):
            let v = try evaluate(x, scope)
            switch v {
            case .int(let i) where i != Int.min: return .int(-i)
            case .bool(let b): return .int(b ? -1 : 0)
            case .float(let d): return .float(-d)
            case .undefined(let hint): throw JinjaError(.render, hint, at: p)
            default: throw JinjaError(.render, "bad operand type for unary -: '\(v.typeName)'", at: p)
            }
        case .plus(let x, let p):
            let v = try evaluate(x, scope)
            guard v.number != nil else { throw JinjaError(.render, "bad operand type for unary +: '\(v.typeName)'", at: p) }
            return v
        case .binary(let op, let a, let b, let p):
            let x = try evaluate(a, scope), y = try evaluate(b, scope)
            return try wrap(p) { () throws(JinjaError) in try Operators.binary(op, x, y, maxLength: limits.maxOutputBytes) }
        case .compare(let first, let ops, let p):
            var left = try evaluate(first, scope)
            for (op, e) in ops {
                let right = try evaluate(e, scope)
                let ok = try wrap(p) { () throws(JinjaError) in try compare(op, left, right) }
                if !ok { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .and(let a, let b, _):
            let x = try evaluate(a, scope)
            return x.truthy ? try evaluate(b, scope) : x
        case .or(let a, let b, _):
            let x = try evaluate(a, scope)
            return x.truthy ? x : try evaluate(b, scope)
        case .conditional(let then, let condition, let otherwise, let p):
            if try evaluate(condition, scope).truthy { return try evaluate(then, scope) }
            guard let otherwise else { return .undefined(hint: "the conditional expression at \(p) has no else branch") }
            return try evaluate(otherwise, scope)
        }
    }

    /// Places an error raised without a position at `p`.
    func wrap<T>(_ p: SourcePosition, _ body: () throws(JinjaError) -> T) throws(JinjaError) -> T {
        do { return try body() } catch { throw error.at(p) }
    }

    private func compare(_ op: CompareOperator, _ a: Value, _ b: Value) throws(JinjaError) -> Bool {
        switch op {
        case .eq: return Operators.equals(a, b)
        case .ne: return !Operators.equals(a, b)
        case .lt: return try Operators.compare(a, b, "<") < 0
        case .le: return try Operators.compare(a, b, "<=") <= 0
        case .gt: return try Operators.compare(a, b, ">") > 0
        case .ge: return try Operators.compare(a, b, ">=") >= 0
        case .in: return try Operators.contains(b, a)
        case .notIn: return !(try Operators.contains(b, a))
        }
    }

    func arguments(_ args: Arguments, _ scope: Scope) throws(JinjaError) -> ([Value], [(String, Value)]) {
        var positional: [Value] = []
        for a in args.positional { positional.append(try evaluate(a, scope)) }
        var keyword: [(String, Value)] = []
        for (k, a) in args.keyword { keyword.append((k, try evaluate(a, scope))) }
        return (positional, keyword)
    }

    func call(_ fn: Value, _ args: Arguments, _ scope: Scope, _ p: SourcePosition, caller: Value? = nil) throws(JinjaError) -> Value {
        var (positional, keyword) = try arguments(args, scope)
        if let caller { keyword.append(("caller", caller)) }
        return try invoke(fn, positional, keyword, at: p)
    }

    func invoke(_ fn: Value, _ positional: [Value], _ keyword: [(String, Value)], at p: SourcePosition) throws(JinjaError) -> Value {
        switch fn {
        case .function(let f):
            return try wrap(p) { () throws(JinjaError) in try f.body(positional, keyword, CallContext(renderer: self, position: p)) }
        case .undefined(let hint): throw JinjaError(.render, hint, at: p)
        default: throw JinjaError(.render, "'\(fn.typeName)' object is not callable", at: p)
        }
    }

    private func applyFilter(_ name: String, _ value: Value, _ args: Arguments, _ scope: Scope, _ p: SourcePosition) throws(JinjaError) -> Value {
        let (positional, keyword) = try arguments(args, scope)
        return try wrap(p) { () throws(JinjaError) in try Filters.apply(name, value, positional, keyword, renderer: self, at: p) }
    }
}

/// jinja2's `loop`: index, index0, revindex, revindex0, first, last, length, previtem, nextitem, depth, cycle(),
/// changed(); one object per loop, its index advanced each iteration.
final class LoopObject: Namespace {
    let items: [Value]
    var index = 0
    private var lastChanged: [Value]? = nil

    init(_ items: [Value]) {
        self.items = items
        super.init(typeName: "LoopContext", attributes: Dict(), assignable: false)
    }

    override func attribute(_ name: String) -> Value? {
        let i = index, n = items.count
        switch name {
        case "index": return .int(i + 1)
        case "index0": return .int(i)
        case "revindex": return .int(n - i)
        case "revindex0": return .int(n - i - 1)
        case "first": return .bool(i == 0)
        case "last": return .bool(i == n - 1)
        case "length": return .int(n)
        case "depth": return .int(1)
        case "depth0": return .int(0)
        case "previtem": return i > 0 ? items[i - 1] : .undefined(hint: "there is no previous item")
        case "nextitem": return i < n - 1 ? items[i + 1] : .undefined(hint: "there is no next item")
        case "cycle":
            return .function(Function(name: "cycle") { (args, _, ctx) throws(JinjaError) in
                guard !args.isEmpty else { throw JinjaError(.render, "loop.cycle needs at least one argument", at: ctx.position) }
                return args[i % args.count]
            })
        case "changed":
            return .function(Function(name: "changed") { [self] (args, _, _) in
                defer { lastChanged = args }
                guard let last = lastChanged else { return .bool(true) }
                return .bool(!Operators.equals(.list(last), .list(args)))
            })
        default: return nil
        }
    }
}
