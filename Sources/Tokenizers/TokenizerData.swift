import GGUF

/// The `tokenizer.ggml.*` metadata a tokenizer is built from, as plain values (keys spelled as on disk).
/// `makeTokenizer(from: GGUFFile)` fills it from a model file; tests may build one by hand.
public struct TokenizerData: Sendable {
    public var model: String                 // tokenizer.ggml.model: "gpt2" or "llama"
    public var pre: String?                  // tokenizer.ggml.pre (gpt2 only; absent -> unsupported)
    public var tokens: GGUFStrings           // tokenizer.ggml.tokens (as parsed: one UTF-8 buffer)
    public var scores: [Float]?              // tokenizer.ggml.scores (absent -> 0 for every token)
    public var tokenTypes: [Int]?            // tokenizer.ggml.token_type (absent -> all normal)
    public var merges: [String]?             // tokenizer.ggml.merges (required for gpt2)
    public var bosID: Int?                   // tokenizer.ggml.bos_token_id
    public var eosID: Int?                   // tokenizer.ggml.eos_token_id
    public var eotID: Int?                   // tokenizer.ggml.eot_token_id
    public var eomID: Int?                   // tokenizer.ggml.eom_token_id
    public var unknownID: Int?               // tokenizer.ggml.unknown_token_id
    public var addBOS: Bool?                 // tokenizer.ggml.add_bos_token (absent -> llama: true, gpt2: false)
    public var addEOS: Bool?                 // tokenizer.ggml.add_eos_token (absent -> false)
    public var addSpacePrefix: Bool?         // tokenizer.ggml.add_space_prefix (absent -> llama: true, gpt2: false)
    public var modelName: String?            // general.name (llama.cpp's per-model rstrip rule for phi-3)

    public init(model: String, pre: String? = nil, tokens: [String], scores: [Float]? = nil,
                tokenTypes: [Int]? = nil, merges: [String]? = nil, bosID: Int? = nil, eosID: Int? = nil,
                eotID: Int? = nil, eomID: Int? = nil, unknownID: Int? = nil, addBOS: Bool? = nil,
                addEOS: Bool? = nil, addSpacePrefix: Bool? = nil, modelName: String? = nil) {
        self.model = model
        self.pre = pre
        self.tokens = GGUFStrings(tokens)
        self.scores = scores
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.bosID = bosID
        self.eosID = eosID
        self.eotID = eotID
        self.eomID = eomID
        self.unknownID = unknownID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.modelName = modelName
    }
}

/// Builds the tokenizer family named by `data.model`.
public func makeTokenizer(from data: TokenizerData) throws(TokenizerError) -> any Tokenizer {
    switch data.model {
    case "gpt2": return try BPETokenizer(data)
    case "llama": return try SentencePieceTokenizer(data)
    default: throw .unsupportedModel(data.model)
    }
}
