import Foundation

/// A parsed Jinja template, configured as Hugging Face's `apply_chat_template` configures jinja2 (trim_blocks,
/// lstrip_blocks, one trailing newline dropped, the loop controls and `{% generation %}` tags, `tojson`,
/// `raise_exception`, `strftime_now`). Parsing is separate from rendering so a model's template is parsed once.
public struct Template: Sendable {
    let nodes: [Node]

    public init(_ source: String) throws(JinjaError) {
        nodes = try onLargeStack { () throws(JinjaError) in
            var lexer = Lexer(source, trimBlocks: true, lstripBlocks: true)
            var parser = Parser(tokens: try lexer.tokenize())
            return try parser.parseTemplate()
        }
    }

    /// Renders with `variables` as the template's globals (messages, tools, add_generation_prompt, bos_token, ...).
    /// `now` (seconds since 1970) fixes what `strftime_now` sees; nil reads the clock.
    public func render(_ variables: [String: Value], limits: RenderLimits = RenderLimits(), now: Double? = nil) throws(JinjaError) -> String {
        try onLargeStack { () throws(JinjaError) in
            let renderer = Renderer(limits: limits, now: now)
            let scope = Scope(parent: nil)
            scope.variables = variables
            _ = try renderer.execute(nodes, scope)
            return renderer.output
        }
    }
}

/// Runs `body` on a thread of its own with a 64 MB stack and waits for it. Parsing and rendering recurse once per
/// nesting level (bounded by Parser.maxDepth and RenderLimits.maxCallDepth); the bounds keep the work finite, this
/// keeps the worst allowed depth from overflowing a caller's small stack (a server's threads have 512 KB). The stack
/// is reserved address space: pages are committed only as deep as the recursion goes. Costs ~50 us per call.
func onLargeStack<T>(_ body: () throws(JinjaError) -> T) throws(JinjaError) -> T {
    var result: Result<T, JinjaError>? = nil
    withoutActuallyEscaping(body) { body in
        let box = StackJob()
        box.run = { result = Result { () throws(JinjaError) in try body() } }
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.run?()
            box.run = nil  // release `body` before the caller's withoutActuallyEscaping checks that it did not escape
            done.signal()
        }
        thread.stackSize = 64 << 20
        thread.start()
        done.wait()
    }
    return try result!.get()
}

/// The closure `onLargeStack` hands to its thread; the caller waits for the thread, so nothing outlives the call.
private final class StackJob: @unchecked Sendable {
    var run: (() -> Void)?
}
