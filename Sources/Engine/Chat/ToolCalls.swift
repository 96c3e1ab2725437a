/// How a model writes a tool call, recognised from its chat template.
public enum ToolCallFormat: String, Sendable {
    /// Qwen 2.5 / 3, Hermes, SmolLM3 and the default: `<tool_call>\n{"name": N, "arguments": {...}}\n</tool_call>`.
    case hermes
    /// Llama 3.1 / 3.2 / 3.3: `{"name": N, "parameters": {...}}`.
    case llama3
    /// Mistral: `[TOOL_CALLS][{"name": N, "arguments": {...}}]`.
    case mistral

    public static func detect(_ template: ChatTemplate?) -> ToolCallFormat {
        guard let s = template?.source else { return .hermes }
        if s.contains("<tool_call>") { return .hermes }
        if s.contains("[TOOL_CALLS]") { return .mistral }
        if s.contains("<|start_header_id|>") && s.contains("\"parameters\"") { return .llama3 }
        return .hermes
    }

    var argumentsKey: String { self == .llama3 ? "parameters" : "arguments" }
}

/// OpenAI's `tool_choice`: `auto` (the model answers in text or calls tools), `none` (text only), `required` (at least
/// one call), or one named function.
public enum ToolChoice: Sendable, Equatable {
    case auto, none, required, function(String)

    public init(_ text: String) {
        switch text {
        case "auto": self = .auto
        case "none": self = .none
        case "required": self = .required
        default: self = .function(text)
        }
    }
}

/// A reply split into its text and its tool calls (OpenAI's assistant message).
public struct ParsedReply: Sendable, Equatable {
    public var content: String?
    public var toolCalls: [ToolCall]

    public init(content: String?, toolCalls: [ToolCall]) {
        self.content = content
        self.toolCalls = toolCalls
    }

    public var message: ChatMessage {
        ChatMessage(role: "assistant", content: content, toolCalls: toolCalls.isEmpty ? nil : toolCalls)
    }
}

/// Tool calls: the grammar that makes a model's calls parse and fit each tool's parameter schema, the parser that
/// turns a reply into OpenAI's `tool_calls`, and the instructions for templates that do not render tools themselves.
public enum ToolCalls {
    /// Calls in one reply. One: small models asked for several repeat the same call until the token budget runs out,
    /// and a call cut off by the budget does not parse.
    static let maxCalls = 1

    /// GBNF for a reply under `choice`: with `required` or a named function, one or more calls in `format`, each
    /// `{"name": <a tool's name>, "arguments": <JSON valid under that tool's parameters schema>}`; with `auto`, either
    /// that or plain text that does not start like a call; nil for `none`.
    public static func gbnf(tools: [ChatTool], format: ToolCallFormat, choice: ToolChoice) throws(EngineError) -> String? {
        var chosen = tools
        switch choice {
        case .none: return nil
        case .function(let name):
            chosen = tools.filter { $0.name == name }
            guard !chosen.isEmpty else {
                throw .invalidArgument("tool_choice names '\(name)', which is not among the tools (\(tools.map(\.name).joined(separator: ", ")))")
            }
        case .auto, .required:
            guard !tools.isEmpty else { throw .invalidArgument("tool_choice \(choice == .auto ? "auto" : "required") needs at least one tool") }
        }
        var rules: [(String, String)] = []
        var alternatives: [String] = []
        for (i, tool) in chosen.enumerated() {
            var args = "object"
            if let schema = tool.parameters {
                var converter = SchemaConverter(document: schema)
                converter.namePrefix = "t\(i)s"
                do { args = try converter.visit(schema, path: "") } catch {
                    throw .invalidArgument("tool '\(tool.name)': parameters: \(error.description)")
                }
                rules += converter.rules
            }
            let head = "{\"name\": " + JSONValue.quote(tool.name) + ", \"\(format.argumentsKey)\": "
            rules.append(("call\(i)", JSONGrammarPrimitives.literal(head) + " " + args + " \"}\""))
            alternatives.append("call\(i)")
        }
        let call = alternatives.joined(separator: " | ")
        let calls: String
        let opener: String
        switch format {
        case .hermes:
            calls = #""<tool_call>\n" call "\n</tool_call>""# + (maxCalls > 1 ? #" ("\n<tool_call>\n" call "\n</tool_call>"){0,\#(maxCalls - 1)}"# : "")
            opener = "<"
        case .llama3:
            calls = "call"
            opener = "{"
        case .mistral:
            calls = #""[TOOL_CALLS][" call"# + (maxCalls > 1 ? #" (", " call){0,\#(maxCalls - 1)}"# : "") + #" "]""#
            opener = "["
        }
        var out = "root ::= " + (choice == .auto ? "calls | plain" : "calls") + "\n"
        out += "calls ::= \(calls)\ncall ::= \(call)\n"
        if choice == .auto { out += "plain ::= [^" + (opener == "[" ? "\\[" : opener) + "] .*\n" }
        for (n, b) in rules + JSONGrammarPrimitives.rules { out += "\(n) ::= \(b)\n" }
        return out
    }

    /// The compiled grammar of `gbnf(tools:format:choice:)`.
    public static func grammar(tools: [ChatTool], format: ToolCallFormat, choice: ToolChoice) throws(EngineError) -> Grammar? {
        guard let text = try gbnf(tools: tools, format: format, choice: choice) else { return nil }
        do { return try Grammar(gbnf: text) } catch { throw .invalidArgument("tool-call grammar: \(error.description)") }
    }

    /// Splits `text` into content and calls written in `format`. A call naming no known tool, or whose JSON does not
    /// parse, stays in the content. Call ids are `call_0`, `call_1`, ... in order.
    public static func parse(_ text: String, format: ToolCallFormat, tools: [ChatTool]) -> ParsedReply {
        var calls: [ToolCall] = []
        var content = text
        func call(_ json: JSONValue) -> ToolCall? {
            guard case .string(let name)? = json["name"], tools.isEmpty || tools.contains(where: { $0.name == name }) else { return nil }
            let args = json[format.argumentsKey] ?? json["arguments"] ?? json["parameters"] ?? .object([])
            let argumentsText: String
            if case .string(let s) = args { argumentsText = s } else { argumentsText = args.serialized }
            return ToolCall(id: "", name: name, arguments: argumentsText)
        }
        switch format {
        case .hermes:
            var rest = Substring(text)
            var kept = ""
            while let open = rest.range(of: "<tool_call>"), let close = rest.range(of: "</tool_call>", range: open.upperBound..<rest.endIndex) {
                let body = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
                if let json = try? JSONValue.parse(String(body)), let c = call(json) {
                    kept += rest[..<open.lowerBound]
                    calls.append(c)
                } else {
                    kept += rest[..<close.upperBound]
                }
                rest = rest[close.upperBound...]
            }
            content = kept + rest
        case .llama3:
            var body = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if body.hasPrefix("<|python_tag|>") { body = String(body.dropFirst("<|python_tag|>".count)) }
            if body.hasPrefix("{"), let json = try? JSONValue.parse(body), let c = call(json) {
                calls.append(c)
                content = ""
            }
        case .mistral:
            if let r = text.range(of: "[TOOL_CALLS]"), case .array(let items)? = try? JSONValue.parse(String(text[r.upperBound...])) {
                let parsed = items.compactMap(call)
                if parsed.count == items.count, !parsed.isEmpty {
                    calls = parsed
                    content = String(text[..<r.lowerBound])
                }
            }
        }
        for i in calls.indices { calls[i].id = "call_\(i)" }
        let trimmed = content.trimmingCharacters(in: .whitespacesAndNewlines)
        return ParsedReply(content: trimmed.isEmpty && !calls.isEmpty ? nil : (calls.isEmpty ? text : trimmed), toolCalls: calls)
    }

    /// System text describing the tools and the call format, for a template that does not render `tools` itself
    /// (SmolLM2's) or a model without a template.
    public static func instructions(tools: [ChatTool], format: ToolCallFormat) -> String {
        let example: String
        switch format {
        case .hermes: example = "<tool_call>\n{\"name\": <tool name>, \"arguments\": <arguments as a JSON object>}\n</tool_call>"
        case .llama3: example = "{\"name\": <tool name>, \"parameters\": <arguments as a JSON object>}"
        case .mistral: example = "[TOOL_CALLS][{\"name\": <tool name>, \"arguments\": <arguments as a JSON object>}]"
        }
        return "You can call tools. To call one, reply with exactly:\n\(example)\n\nTools:\n"
            + tools.map { $0.json.serialized }.joined(separator: "\n")
    }
}
