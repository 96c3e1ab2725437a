import GGUF

/// Architectures by `general.architecture`. To add one: write <Name>.swift, which reads that
/// architecture's keys and tensors into a LanguageModel (LlamaFamilyModel for llama-shaped
/// ones, GemmaFamilyModel for Gemma-shaped ones), and add it here.
public enum ModelRegistry {
    public static let architectures = ["llama", "qwen2", "qwen3", "phi3", "gemma2", "gemma3"]

    public static func load(_ file: GGUFFile) throws(ModelError) -> any LanguageModel {
        let arch = try meta { () throws(GGUFError) in try file.string("general.architecture") }
        switch arch {
        case "llama": return try Llama.load(file)
        case "qwen2": return try Qwen2.load(file)
        case "qwen3": return try Qwen3.load(file)
        case "phi3": return try Phi3.load(file)
        case "gemma2": return try Gemma2.load(file)
        case "gemma3": return try Gemma3.load(file)
        default: throw .unsupportedArchitecture(arch)
        }
    }
}
