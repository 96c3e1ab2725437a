import SLMJinja

/// A model's chat template: Jinja text (from the GGUF's `tokenizer.chat_template`, a `--chat-template` file, or a
/// built-in ChatML / Gemma template) parsed once and rendered per conversation as Hugging Face's
/// `apply_chat_template` renders it.
public struct ChatTemplate: Sendable {
    public enum Origin: Sendable, Equatable {
        /// The model file's `tokenizer.chat_template`.
        case modelFile
        /// A template file given by the user.
        case file(String)
        /// A built-in template standing in for a file template this engine cannot parse.
        case builtin(String)
    }

    public let source: String
    public let origin: Origin
    private let template: Template

    public init(source: String, origin: Origin) throws(JinjaError) {
        self.source = source
        self.origin = origin
        template = try Template(source)
    }

    /// The template's first non-empty line, for `slm info`.
    public var firstLine: String {
        source.split(separator: "\n").first { !$0.allSatisfy(\.isWhitespace) }.map(String.init) ?? ""
    }

    /// The template a model file asks for: its own when it parses; when it does not but is recognisably ChatML or
    /// Gemma, the built-in one (with a note saying why); nil when the file has none (the prompt is used as is).
    public static func resolve(fileTemplate text: String?) -> (template: ChatTemplate?, note: String?) {
        guard let text, !text.isEmpty else { return (nil, nil) }
        do { return (try ChatTemplate(source: text, origin: .modelFile), nil) } catch {
            let builtin = text.contains("<|im_start|>") ? ("ChatML", chatMLSource)
                : text.contains("<start_of_turn>") ? ("Gemma", gemmaSource) : nil
            guard let (name, source) = builtin, let t = try? ChatTemplate(source: source, origin: .builtin(name)) else {
                return (nil, "the model's chat template does not parse (\(error)); prompts are used as is")
            }
            return (t, "the model's chat template does not parse (\(error)); using the built-in \(name) template")
        }
    }

    static let chatMLSource = """
        {%- for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}\
        {%- endfor %}{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}
        """

    /// Gemma has no system role: a system text leads the first user turn.
    static let gemmaSource = """
        {%- if messages and messages[0]['role'] == 'system' %}{%- set prefix = messages[0]['content'] + '\\n\\n' %}\
        {%- set turns = messages[1:] %}{%- else %}{%- set prefix = '' %}{%- set turns = messages %}{%- endif %}\
        {%- for message in turns %}{%- set role = 'model' if message['role'] == 'assistant' else message['role'] %}\
        {{ '<start_of_turn>' + role + '\\n' + (prefix if loop.first else '') + message['content'] | trim + '<end_of_turn>\\n' }}\
        {%- endfor %}{%- if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{%- endif %}
        """

    /// Renders a conversation: `messages`, `tools` (none when empty), `documents` (none), `add_generation_prompt`,
    /// `bos_token`, `eos_token`, then `variables` (which may override any of them, e.g. `enable_thinking`).
    public func render(_ messages: [ChatMessage], tools: [ChatTool] = [], addGenerationPrompt: Bool = true,
                       variables: [String: JSONValue] = [:], bosToken: String = "", eosToken: String = "",
                       now: Double? = nil) throws(EngineError) -> String {
        var vars: [String: Value] = [
            "messages": .list(messages.map(\.templateValue)),
            "tools": tools.isEmpty ? .none : .list(tools.map(\.json.templateValue)),
            "documents": .none,
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
        ]
        for (k, v) in variables { vars[k] = v.templateValue }
        do { return try template.render(vars, now: now) } catch { throw .chatTemplate(error) }
    }
}

extension ChatMessage {
    /// The message as a template sees it: a dict with role and content (None when null), then reasoning_content,
    /// tool_calls, tool_call_id and name when present; a tool call's arguments as a dict when they are a JSON object
    /// (what Hugging Face templates expect), else as the text given.
    var templateValue: Value {
        var d = Dict()
        d["role"] = .string(role)
        d["content"] = content.map(Value.string) ?? Value.none
        if let r = reasoningContent { d["reasoning_content"] = .string(r) }
        if let calls = toolCalls {
            d["tool_calls"] = .list(calls.map { call in
                var arguments = Value.string(call.function.arguments)
                if let parsed = try? JSONValue.parse(call.function.arguments), case .object = parsed { arguments = parsed.templateValue }
                return .dict(Dict([("id", .string(call.id)), ("type", .string(call.type)),
                                   ("function", .dict(Dict([("name", .string(call.function.name)), ("arguments", arguments)])))]))
            })
        }
        if let id = toolCallID { d["tool_call_id"] = .string(id) }
        if let n = name { d["name"] = .string(n) }
        return .dict(d)
    }
}
