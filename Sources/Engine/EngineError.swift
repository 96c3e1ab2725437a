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
    /// A setting this model cannot honour (a context beyond its training, a system turn or a conversation without a
    /// chat template): the caller's to change, so the CLI reports it as a usage error.
    case unsupported(String)
    /// max_tokens cannot hold the reasoning's close marker (when a section is open) and the shortest valid answer.
    case budgetTooSmall(maxTokens: Int, closeTokens: Int, answerTokens: Int, thinkBudget: Int?)

    public var description: String {
        switch self {
        case .file(let e): return e.description
        case .model(let e): return e.description
        case .tokenizer(let e): return e.description
        case .emptyPrompt: return "the prompt is empty (nothing to evaluate)"
        case .invalidArgument(let s), .unsupported(let s): return s
        case .chatTemplate(let e): return "chat template: \(e)"
        case .nanLogits(let p): return "the model produced NaN logits at position \(p) (its weights or activations are not finite)"
        case .cancelled: return "the request was cancelled"
        case .shuttingDown: return "the server is shutting down"
        case .budgetTooSmall(let m, let close, let answer, let think):
            if close > 0, let think {
                return "--max-tokens \(m) cannot hold the reasoning's close marker (\(close) tokens) and the shortest valid "
                    + "answer (\(answer) tokens) after --think-budget \(think); give --max-tokens \(close + answer) or more"
            }
            return "--max-tokens \(m) cannot hold the shortest output the grammar allows (\(answer) tokens); give "
                + "--max-tokens \(answer) or more"
        }
    }
}
