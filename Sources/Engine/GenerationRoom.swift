extension Engine {
    /// Positions a server request or a workload replay keeps free for a reasoning section's markers when it has a
    /// think budget, before the markers are counted: a few tokens.
    public static let reasoningReserve = 8

    /// Positions the context leaves for generated tokens after the prompt and what the engine appends to it (a
    /// reasoning section's opening marker; with a think budget of 0, the empty section's open and close markers).
    public func generationRoom(_ request: GenerationRequest) -> Int {
        var suffix = 0
        if let budget = request.thinkBudget {
            let markers = ReasoningMarkers(tokenizer: tokenizer)
            suffix = markers.openTokens.count + (budget == 0 ? markers.closeTokens.count : 0)
        }
        return request.contextLength - request.prompt.count - suffix
    }
}
