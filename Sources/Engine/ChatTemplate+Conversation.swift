extension ChatTemplate {
    /// The prompt text for a whole conversation of (role, content) turns, ending with the assistant's opening.
    /// ChatML: one `<|im_start|>role` block per turn (the template's default system turn first when the conversation
    /// has none). Gemma: no system role, so system text is prepended to the first user turn; `assistant` is `model`.
    public func render(conversation turns: [(role: String, content: String)]) -> String {
        switch self {
        case .chatML(let defaultSystem):
            var s = ""
            if turns.first?.role != "system", let sys = defaultSystem { s += "<|im_start|>system\n\(sys)<|im_end|>\n" }
            for t in turns { s += "<|im_start|>\(t.role)\n\(t.content)<|im_end|>\n" }
            return s + "<|im_start|>assistant\n"
        case .gemma:
            var s = ""
            var pendingSystem: [String] = []
            for t in turns {
                switch t.role {
                case "system", "developer": pendingSystem.append(t.content)
                default:
                    let role = t.role == "assistant" ? "model" : "user"
                    var content = t.content
                    if role == "user" && !pendingSystem.isEmpty {
                        content = pendingSystem.joined(separator: "\n\n") + "\n\n" + content
                        pendingSystem = []
                    }
                    s += "<start_of_turn>\(role)\n\(content)<end_of_turn>\n"
                }
            }
            if !pendingSystem.isEmpty { s += "<start_of_turn>user\n\(pendingSystem.joined(separator: "\n\n"))<end_of_turn>\n" }
            return s + "<start_of_turn>model\n"
        }
    }
}
