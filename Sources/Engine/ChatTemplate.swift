/// Chat formatting for the templates slm recognises (general Jinja templates come later), recognised from the GGUF
/// `tokenizer.chat_template` text. A file without a template (e.g. the gemma-3-270m base model) gets none: its prompt
/// is used as is, as the contract says.
public enum ChatTemplate: Sendable, Equatable, CustomStringConvertible {
    /// ChatML (SmolLM2): `<|im_start|>role\ncontent<|im_end|>\n`, generation prompt `<|im_start|>assistant\n`.
    /// SmolLM2's template inserts its default system turn when the conversation has none.
    case chatML(defaultSystem: String?)
    /// Gemma: `<start_of_turn>user\n...<end_of_turn>\n<start_of_turn>model\n`; a system text is prepended to the first
    /// user turn (Gemma has no system role).
    case gemma

    public static func detect(template: String?, architecture: String) -> ChatTemplate? {
        if let t = template {
            if t.contains("<|im_start|>") {
                // The template's literal default system turn, if any: `<|im_start|>system` then a newline (a real one
                // or the two characters \n inside a Jinja string), the text, `<|im_end|>`.
                var defaultSystem: String? = nil
                if let r = t.range(of: "<|im_start|>system"),
                   let end = t.range(of: "<|im_end|>", range: r.upperBound..<t.endIndex) {
                    var text = t[r.upperBound..<end.lowerBound]
                    if text.hasPrefix("\n") { text = text.dropFirst() } else if text.hasPrefix("\\n") { text = text.dropFirst(2) }
                    if !text.contains("{{") && !text.contains("'") { defaultSystem = String(text) }
                }
                return .chatML(defaultSystem: defaultSystem)
            }
            if t.contains("<start_of_turn>") { return .gemma }
            return nil
        }
        return nil
    }

    public var description: String {
        switch self {
        case .chatML(let system): return "ChatML" + (system.map { " (default system: \"\($0)\")" } ?? "")
        case .gemma: return "Gemma turns"
        }
    }

    /// The prompt text for one user turn (and an optional system turn), ending with the assistant's opening.
    public func render(system: String?, user: String) -> String {
        switch self {
        case .chatML(let defaultSystem):
            var s = ""
            if let sys = system ?? defaultSystem { s += "<|im_start|>system\n\(sys)<|im_end|>\n" }
            s += "<|im_start|>user\n\(user)<|im_end|>\n<|im_start|>assistant\n"
            return s
        case .gemma:
            let content = system.map { "\($0)\n\n\(user)" } ?? user
            return "<start_of_turn>user\n\(content)<end_of_turn>\n<start_of_turn>model\n"
        }
    }
}
