import GGUF

/// Architectures by `general.architecture`. To add one: write <Name>.swift with a LanguageModel and add it here.
public enum ModelRegistry {
    public static let architectures = ["llama", "gemma3"]

    public static func load(_ file: GGUFFile) throws(ModelError) -> any LanguageModel {
        let arch = try meta { () throws(GGUFError) in try file.string("general.architecture") }
        switch arch {
        case "llama": return try LlamaModel(file: file)
        case "gemma3": return try Gemma3Model(file: file)
        default: throw .unsupportedArchitecture(arch)
        }
    }
}
