import GGUF
import SLMJinja
import SLMModels
import Tokenizers

/// Errors of the engine layer; each wraps the failing layer's own error or states the engine's problem.
public enum EngineError: Error, CustomStringConvertible {
    case file(GGUFError)
    case model(ModelError)
    case tokenizer(TokenizerError)
    case emptyPrompt
    case invalidArgument(String)
    /// The forward pass produced NaN logits (non-finite weights in the file, or a numeric fault).
    case nanLogits(position: Int)
    /// The request was cancelled (its client went away) before it finished.
    case cancelled
    /// The scheduler stopped before the request could run.
    case shuttingDown
    /// A chat template failed to parse or render (the error names the template's line and column).
    case chatTemplate(JinjaError)

    public var description: String {
        switch self {
        case .file(let e): return e.description
        case .model(let e): return e.description
        case .tokenizer(let e): return e.description
        case .emptyPrompt: return "the prompt is empty (nothing to evaluate)"
        case .invalidArgument(let s): return s
        case .chatTemplate(let e): return "chat template: \(e)"
        case .nanLogits(let p): return "the model produced NaN logits at position \(p) (its weights or activations are not finite)"
        case .cancelled: return "the request was cancelled"
        case .shuttingDown: return "the server is shutting down"
        }
    }
}
