extension Engine {
    /// How many tokens `request` may generate before its context is full: the context length minus the prompt and
    /// what the engine adds to it (a reasoning section's markers). Zero or less: the prompt alone fills the context.
    public func generationRoom(_ request: GenerationRequest) -> Int {
        let control = DecodeControl(request: request, tokenizer: tokenizer, vocabularyKey: file.path)
        return request.contextLength - request.prompt.count - control.promptSuffix.count - control.insertedTokenAllowance
    }
}
