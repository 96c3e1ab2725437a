import GGUF

/// Reads the `tokenizer.ggml.*` keys of a model file and builds the tokenizer family `tokenizer.ggml.model` names.
public func makeTokenizer(from file: GGUFFile) throws(TokenizerError) -> any Tokenizer {
    try makeTokenizer(from: TokenizerData(file))
}

extension TokenizerData {
    /// Required: tokenizer.ggml.model, tokenizer.ggml.tokens (and tokenizer.ggml.merges for gpt2, checked by the
    /// tokenizer). Everything else is optional, defaulted as documented on each field.
    public init(_ file: GGUFFile) throws(TokenizerError) {
        func read<T>(_ key: String, _ get: (String) throws(GGUFError) -> T) throws(TokenizerError) -> T {
            do {
                return try get(key)
            } catch {
                throw .metadata(key: key, detail: error.description)
            }
        }
        // Read in the order of the fields (which key a broken file's error names). Tokens stay one byte buffer (no
        // String per token), checked as UTF-8 here, on the tokenizer's thread, rather than while the header is parsed.
        let model = try read("tokenizer.ggml.model", file.string)
        let pre = try read("tokenizer.ggml.pre", file.optionalString)
        let tokens = try read("tokenizer.ggml.tokens", file.strings).repairingInvalidUTF8()
        self.init(
            model: model,
            pre: pre,
            tokens: [],
            scores: try read("tokenizer.ggml.scores", file.optionalFloatArray),
            tokenTypes: try read("tokenizer.ggml.token_type", file.optionalIntArray),
            merges: try read("tokenizer.ggml.merges", file.optionalStringArray),
            bosID: try read("tokenizer.ggml.bos_token_id", file.optionalInt),
            eosID: try read("tokenizer.ggml.eos_token_id", file.optionalInt),
            eotID: try read("tokenizer.ggml.eot_token_id", file.optionalInt),
            eomID: try read("tokenizer.ggml.eom_token_id", file.optionalInt),
            unknownID: try read("tokenizer.ggml.unknown_token_id", file.optionalInt),
            addBOS: try read("tokenizer.ggml.add_bos_token", file.optionalBool),
            addEOS: try read("tokenizer.ggml.add_eos_token", file.optionalBool),
            addSpacePrefix: try read("tokenizer.ggml.add_space_prefix", file.optionalBool),
            modelName: try read("general.name", file.optionalString))
        self.tokens = tokens
    }
}
