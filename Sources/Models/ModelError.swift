import GGUF

/// Everything that can go wrong turning a GGUF file into a runnable model, or running it.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(String)
    case metadata(GGUFError)
    case invalidHyperparameter(key: String, value: String, reason: String)
    case missingTensor(String)
    case tensorShape(name: String, expected: [Int], actual: [Int])
    case unsupportedTensorType(name: String, type: String)
    case tokenOutOfRange(token: Int32, vocabularySize: Int)
    case contextFull(needed: Int, capacity: Int)
    case cannotRewind(to: Int, oldestKept: Int)
    case outOfMemory(what: String, bytes: Int)
    case threadPool(Int)
    case invalidBatch(String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a):
            return "unsupported architecture '\(a)' (general.architecture); supported: \(ModelRegistry.architectures.joined(separator: ", "))"
        case .metadata(let e): return e.description
        case .invalidHyperparameter(let key, let value, let reason): return "invalid \(key) = \(value): \(reason)"
        case .missingTensor(let n): return "required tensor '\(n)' is missing"
        case .tensorShape(let n, let e, let a): return "tensor '\(n)' has shape \(a), expected \(e) from the hyperparameters"
        case .unsupportedTensorType(let n, let t): return "tensor '\(n)' has type \(t), which slm cannot compute with"
        case .tokenOutOfRange(let t, let v): return "token id \(t) is out of range (vocabulary has \(v) tokens)"
        case .contextFull(let needed, let cap):
            return "context is full: \(needed) positions needed, context holds \(cap) (raise --ctx or shorten the prompt)"
        case .cannotRewind(let to, let oldest):
            return "cannot rewind the KV cache to \(to) positions: sliding-window layers keep positions from \(oldest) on"
        case .outOfMemory(let what, let bytes): return "cannot allocate \(bytes) bytes for \(what)"
        case .threadPool(let n): return "cannot start a thread pool of \(n) threads"
        case .invalidBatch(let why): return "invalid batch: \(why)"
        }
    }
}

/// Adapts `throws(GGUFError)` calls to `throws(ModelError)`.
@inline(__always)
func meta<T>(_ body: () throws(GGUFError) -> T) throws(ModelError) -> T {
    do { return try body() } catch { throw .metadata(error) }
}
