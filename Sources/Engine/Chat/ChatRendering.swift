import SLMJinja

extension Engine {
    /// The prompt text for a conversation, rendered through `template` (default: the model's). `bos_token` and
    /// `eos_token` are the model's own unless `variables` sets them. A model without a template (gemma-3-270m, a base
    /// model) takes one user message as is and refuses anything else.
    public func renderChat(_ messages: [ChatMessage], tools: [ChatTool] = [], addGenerationPrompt: Bool = true,
                           variables: [String: JSONValue] = [:], template: ChatTemplate? = nil) throws(EngineError) -> String {
        guard let t = template ?? chatTemplate else {
            if messages.count == 1, messages[0].role == "user", tools.isEmpty, let text = messages[0].content { return text }
            throw .invalidArgument("this model's file has no chat template, so it takes one user message as is; give a template with --chat-template FILE")
        }
        return try t.render(messages, tools: tools, addGenerationPrompt: addGenerationPrompt, variables: variables,
                            bosToken: bosText, eosToken: eosText)
    }

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
