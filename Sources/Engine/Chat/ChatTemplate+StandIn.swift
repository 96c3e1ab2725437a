extension ChatTemplate {
    /// The template a server renders chat requests with when the model file has none: Gemma's turns for the gemma
    /// family, ChatML otherwise (llama-server's fallback), so /v1/chat/completions always has a prompt format.
    public static func standIn(architecture: String) -> ChatTemplate {
        let (name, source) = architecture.hasPrefix("gemma") ? ("Gemma", gemmaSource) : ("ChatML", chatMLSource)
        // Both sources are constants that parse (ChatTemplateTests).
        return try! ChatTemplate(source: source, origin: .builtin(name))
    }
}
