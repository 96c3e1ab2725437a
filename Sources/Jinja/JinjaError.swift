/// A position in the template source: 1-based line and column (columns count Unicode scalars).
public struct SourcePosition: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// A template that does not parse or fails while rendering. The description is one line naming the position.
public struct JinjaError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case syntax        // the template does not parse
        case unsupported   // a construct outside the subset (include, extends, recursive loops, ...)
        case render        // a type error, an undefined value used, a bad argument
        case security      // an attribute the sandbox refuses (anything starting with '_')
        case limit         // a loop, recursion or output bound was hit
        case raised        // the template called raise_exception(message)
    }

    public var kind: Kind
    public var message: String
    public var position: SourcePosition?

    public init(_ kind: Kind, _ message: String, at position: SourcePosition? = nil) {
        self.kind = kind
        self.message = message
        self.position = position
    }

    public var description: String {
        let text = message.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n")
        let prefix = kind == .raised ? "template raised an exception" : "template error"
        guard let p = position else { return "\(prefix): \(text)" }
        return "\(prefix) at \(p): \(text)"
    }

    /// The same error, placed at `p` unless it already has a position.
    func at(_ p: SourcePosition) -> JinjaError {
        var e = self
        if e.position == nil { e.position = p }
        return e
    }
}
