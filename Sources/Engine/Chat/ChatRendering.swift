import SLMJinja

extension Engine {
    /// The prompt text for a conversation, rendered through `template` (default: the model's). `bos_token` and
    /// `eos_token` are the model's own unless `variables` sets them. A model without a template (gemma-3-270m, a base
    /// model) takes one user message as is and refuses anything else. With tools, a template that does not render
    /// them (SmolLM2's ignores `tools`) gets them described in its system turn (`ToolCalls.instructions`), and a model
    /// without a template gets that description before the user's text.
    public func renderChat(_ messages: [ChatMessage], tools: [ChatTool] = [], addGenerationPrompt: Bool = true,
                           variables: [String: JSONValue] = [:], template: ChatTemplate? = nil) throws(EngineError) -> String {
        guard let t = template ?? chatTemplate else {
            if messages.count == 1, messages[0].role == "user", let text = messages[0].content {
                return tools.isEmpty ? text : ToolCalls.instructions(tools: tools, format: .hermes) + "\n\n" + text
            }
            throw .invalidArgument("this model's file has no chat template, so it takes one user message as is; give a template with --chat-template FILE")
        }
        let rendered = try t.render(messages, tools: tools, addGenerationPrompt: addGenerationPrompt, variables: variables,
                                    bosToken: bosText, eosToken: eosText)
        guard !tools.isEmpty, !tools.allSatisfy({ rendered.contains($0.name) }) else { return rendered }
        var described = messages
        let text = ToolCalls.instructions(tools: tools, format: ToolCallFormat.detect(t))
        if described.first?.role == "system" {
            described[0].content = (described[0].content.map { $0 + "\n\n" } ?? "") + text
        } else {
            described.insert(.system(text), at: 0)
        }
        return try t.render(described, tools: tools, addGenerationPrompt: addGenerationPrompt, variables: variables,
                            bosToken: bosText, eosToken: eosText)
    }

    /// The prompt tokens of a conversation rendered through `template` (default: the model's). A system turn needs a
    /// template: a file without one takes a single user text as is, and would lose it (`.unsupported`).
    /// OpenAI lets an assistant turn that only called tools have `content: null`; templates written without tools
    /// in mind concatenate it and fail, so a failed render is retried once with empty text for null contents.
    public func chatPrompt(_ messages: [ChatMessage], tools: [ChatTool] = [], variables: [String: JSONValue] = [:],
                           template: ChatTemplate? = nil) throws(EngineError) -> [Int32] {
        if template == nil && chatTemplate == nil && messages.contains(where: { $0.role == "system" }) {
            throw .unsupported("this model's file has no chat template, so --system cannot be applied; put the system text in the prompt")
        }
        do {
            return tokenizeChat(try renderChat(messages, tools: tools, variables: variables, template: template))
        } catch {
            guard messages.contains(where: { $0.content == nil }) else { throw error }
            var filled = messages
            for i in filled.indices where filled[i].content == nil { filled[i].content = "" }
            return tokenizeChat(try renderChat(filled, tools: tools, variables: variables, template: template))
        }
    }

    /// The template requests are rendered with where every conversation needs a prompt format (the server, a
    /// workload replay): the model's own, or the stand-in for its family when its file has none.
    public var servingTemplate: ChatTemplate { chatTemplate ?? .standIn(architecture: config.architecture) }

    /// Token ids of a rendered chat prompt: BOS added as the model asks, but only once when the template already
    /// wrote the BOS text (Llama 3's and Gemma's templates start with `{{ bos_token }}`).
    public func tokenizeChat(_ prompt: String) -> [Int32] {
        var ids = tokenize(prompt)
        if let bos = tokenizer.bosToken, ids.count >= 2, ids[0] == bos, ids[1] == bos { ids.removeFirst() }
        return ids
    }

    public var bosText: String { tokenizer.bosToken.flatMap { tokenizer.tokenText($0) } ?? "" }
    public var eosText: String { tokenizer.eosToken.flatMap { tokenizer.tokenText($0) } ?? "" }
}
