#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The global functions Hugging Face's environment offers: `range`, `namespace`, `dict`, `raise_exception`,
/// `strftime_now`; nothing that reaches files, the environment or the clock beyond formatting the current time.
enum Builtins {
    static func global(_ name: String) -> Value? {
        let body: Function.Body
        switch name {
        case "range": body = range
        case "namespace":
            body = { (args, kwargs, _) throws(JinjaError) in
                var attributes = Dict()
                for a in args {
                    guard case .dict(let d) = a else { throw JinjaError(.render, "namespace() takes a dict or keyword arguments") }
                    for (k, v) in d.pairs { attributes[k] = v }
                }
                for (k, v) in kwargs { attributes[k] = v }
                return .object(Namespace(typeName: "Namespace", attributes: attributes, assignable: true))
            }
        case "dict":
            body = { (args, kwargs, _) throws(JinjaError) in
                var d = Dict()
                if let first = args.first {
                    guard case .dict(let given) = first else { throw JinjaError(.render, "dict() takes a dict or keyword arguments") }
                    d = given
                }
                for (k, v) in kwargs { d[k] = v }
                return .dict(d)
            }
        case "raise_exception":
            body = { (args, _, _) throws(JinjaError) in
                throw JinjaError(.raised, args.first?.pythonString ?? "")
            }
        case "strftime_now":
            body = { (args, _, ctx) throws(JinjaError) in
                guard case .string(let format)? = args.first else { throw JinjaError(.render, "strftime_now needs a format string") }
                return .string(formatTime(format, at: ctx.renderer.now))
            }
        default: return nil
        }
        return .function(Function(name: name, body))
    }

    private static func range(_ args: [Value], _ kwargs: [(String, Value)], _ ctx: CallContext) throws(JinjaError) -> Value {
        var ints: [Int] = []
        for a in args {
            guard let i = Access.index(a) else { throw JinjaError(.render, "range() takes integers, not \(a.typeName)") }
            ints.append(i)
        }
        let (start, stop, step): (Int, Int, Int)
        switch ints.count {
        case 1: (start, stop, step) = (0, ints[0], 1)
        case 2: (start, stop, step) = (ints[0], ints[1], 1)
        case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
        default: throw JinjaError(.render, "range() takes 1 to 3 arguments")
        }
        guard step != 0 else { throw JinjaError(.render, "range() step must not be zero") }
        let span = step > 0 ? stop.subtractingReportingOverflow(start) : start.subtractingReportingOverflow(stop)
        let magnitude = step.magnitude
        let count = span.overflow ? Int.max
            : span.partialValue <= 0 ? 0
            : Int(UInt(span.partialValue) / magnitude + (UInt(span.partialValue) % magnitude == 0 ? 0 : 1))
        let limit = ctx.renderer.limits.maxRange
        guard count <= limit else {
            throw JinjaError(.limit, "range() of \(span.overflow ? "too many" : String(count)) items exceeds the limit of \(limit)")
        }
        return .list((0..<count).map { .int(start + $0 * step) })
    }

    /// C's strftime in local time, as Python's datetime.now().strftime; `now` is seconds since 1970 (nil: the clock).
    static func formatTime(_ format: String, at now: Double?) -> String {
        var t = time_t(now ?? Double(time(nil)))
        var parts = tm()
        localtime_r(&t, &parts)
        var buffer = [CChar](repeating: 0, count: 512)
        let n = format.withCString { strftime(&buffer, buffer.count, $0, &parts) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
