/// A parsed Jinja template, configured as Hugging Face's `apply_chat_template` configures jinja2 (trim_blocks,
/// lstrip_blocks, one trailing newline dropped, the loop controls and `{% generation %}` tags, `tojson`,
/// `raise_exception`, `strftime_now`). Parsing is separate from rendering so a model's template is parsed once.
public struct Template: Sendable {
    let nodes: [Node]

    public init(_ source: String) throws(JinjaError) {
        var lexer = Lexer(source, trimBlocks: true, lstripBlocks: true)
        var parser = Parser(tokens: try lexer.tokenize())
        nodes = try parser.parseTemplate()
    }

    /// Renders with `variables` as the template's globals (messages, tools, add_generation_prompt, bos_token, ...).
    /// `now` (seconds since 1970) fixes what `strftime_now` sees; nil reads the clock.
    public func render(_ variables: [String: Value], limits: RenderLimits = RenderLimits(), now: Double? = nil) throws(JinjaError) -> String {
        let renderer = Renderer(limits: limits, now: now)
        let scope = Scope(parent: nil)
        scope.variables = variables
        _ = try renderer.execute(nodes, scope)
        return renderer.output
    }
}
