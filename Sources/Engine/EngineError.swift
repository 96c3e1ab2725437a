import GGUF
import SLMModels
import Tokenizers

/// Errors of the engine layer; each wraps the failing layer's own error or states the engine's problem.
public enum EngineError: Error, CustomStringConvertible {
    case file(GGUFError)
    case model(ModelError)
    case tokenizer(TokenizerError)
    case emptyPrompt
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .file(let e): return e.description
        case .model(let e): return e.description
        case .tokenizer(let e): return e.description
        case .emptyPrompt: return "the prompt is empty (nothing to evaluate)"
        case .invalidArgument(let s): return s
        }
    }
}
