/// A text <-> token-id mapping built from a model file's `tokenizer.ggml.*` metadata.
///
/// Two families sit behind this protocol: GPT-2 style byte-level BPE (`tokenizer.ggml.model` = "gpt2") and
/// SentencePiece (`tokenizer.ggml.model` = "llama"). Both reproduce llama.cpp's `llama_tokenize` id for id.
public protocol Tokenizer: Sendable {
    var vocabularySize: Int { get }
    var bosToken: Int32? { get }
    var eosToken: Int32? { get }
    /// End-of-generation ids: EOS, EOT and the tokens llama.cpp recognises by text (`<|im_end|>`, `<end_of_turn>`...).
    var eogTokens: Set<Int32> { get }
    /// Whether `encode(_:addSpecial: true, ...)` puts BOS first (`tokenizer.ggml.add_bos_token`).
    var addBOS: Bool { get }
    /// Text to ids. `addSpecial` adds BOS/EOS as the model asks; `parseSpecial` turns control-token texts
    /// (e.g. "<|im_start|>") into their ids instead of tokenizing them as plain text.
    func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32]
    /// The raw vocabulary string, nil if `id` is out of range.
    func tokenText(_ id: Int32) -> String?
    /// The bytes this token contributes to output text; control tokens contribute nothing unless `renderSpecial`.
    func tokenBytes(_ id: Int32, renderSpecial: Bool) -> [UInt8]
    /// Concatenated token bytes as a string (invalid UTF-8 replaced with U+FFFD).
    func decode(_ ids: [Int32], renderSpecial: Bool) -> String
    func isControl(_ id: Int32) -> Bool
    func id(forTokenText: String) -> Int32?
}

extension Tokenizer {
    public func encode(_ text: String) -> [Int32] { encode(text, addSpecial: true, parseSpecial: true) }

    public func decode(_ ids: [Int32]) -> String { decode(ids, renderSpecial: false) }
}

public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// A required key is absent or has the wrong type; `detail` carries the reader's message.
    case metadata(key: String, detail: String)
    case unsupportedModel(String)
    case unsupportedPreTokenizer(String)
    case emptyVocabulary
    case tooManyTokens(Int)
    case lengthMismatch(key: String, count: Int, tokenCount: Int)
    case duplicateToken(text: String, firstID: Int, secondID: Int)
    case malformedMerge(index: Int, text: String)
    case unknownMergeToken(index: Int, text: String)
    case tokenIDOutOfRange(key: String, id: Int, tokenCount: Int)
    case missingSpecialToken(flagKey: String, idKey: String)

    public var description: String {
        switch self {
        case .metadata(let key, let detail):
            return "tokenizer metadata '\(key)': \(detail)"
        case .unsupportedModel(let model):
            return "unsupported tokenizer.ggml.model '\(model)' (supported: gpt2, llama)"
        case .unsupportedPreTokenizer(let pre):
            return "unsupported tokenizer.ggml.pre '\(pre)' for a gpt2 tokenizer (supported: \(BPEPreTokenizer.supportedNames.sorted().joined(separator: ", ")))"
        case .emptyVocabulary:
            return "tokenizer.ggml.tokens is empty"
        case .tooManyTokens(let n):
            return "tokenizer.ggml.tokens has \(n) tokens, more than an Int32 id can name"
        case .lengthMismatch(let key, let count, let tokenCount):
            return "\(key) has \(count) entries but tokenizer.ggml.tokens has \(tokenCount)"
        case .duplicateToken(let text, let a, let b):
            return "duplicate token \(text.debugDescription) in tokenizer.ggml.tokens at ids \(a) and \(b)"
        case .malformedMerge(let index, let text):
            return "tokenizer.ggml.merges[\(index)] = \(text.debugDescription) is not two tokens separated by a space"
        case .unknownMergeToken(let index, let text):
            return "tokenizer.ggml.merges[\(index)] = \(text.debugDescription) names a token not in the vocabulary"
        case .tokenIDOutOfRange(let key, let id, let tokenCount):
            return "\(key) = \(id) is outside the vocabulary of \(tokenCount) tokens"
        case .missingSpecialToken(let flagKey, let idKey):
            return "\(flagKey) is true but \(idKey) is not set"
        }
    }
}
