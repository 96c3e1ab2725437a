import Foundation

/// Where tests find fixtures, the reference models and the built `slm` binary.
public enum TestPaths {
    /// Tests/Fixtures (copied from ../shared/reference; see Tests/Fixtures/PROVENANCE.md).
    public static let fixtures: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// $SLM_HOME/models, default ~/.cache/slm/models.
    public static var modelStore: URL {
        if let home = ProcessInfo.processInfo.environment["SLM_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent("models")
        }
        return FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/slm/models")
    }

    /// $SLM_HOME/test-data, default ~/.cache/slm/test-data: llama.cpp's tokenizer test vocabularies
    /// (`ggml-vocab-*.gguf` with `.inp`/`.out`), fetched by tools/fetch-vocabs (which tools/test runs first).
    public static var testData: URL {
        modelStore.deletingLastPathComponent().appendingPathComponent("test-data")
    }

    public static let smollmFile = "SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let gemmaFile = "gemma-3-270m-q4_k_m.gguf"

    /// The architecture test models built by tools/make-arch-test-models (SmolLM2-135M's tensors re-laid as each
    /// architecture, Q8_0; Tests/Fixtures/arch-models/PROVENANCE.md).
    public static let testArchitectures = ["qwen2", "qwen3", "llama", "phi3", "gemma2"]
    public static func archFile(_ arch: String) -> String { "\(arch)-smollm2.Q8_0.gguf" }

    /// Path of a reference model in the store, or nil when it has not been fetched (tools/fetch-models fetches it;
    /// under CI=true the test command fetches both first, so a nil there is a failure, not a skip).
    public static func model(_ file: String) -> String? {
        let path = modelStore.appendingPathComponent(file).path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The directory holding the built products (the `slm` binary sits beside the test bundle).
    public static var productsDirectory: URL {
        let bundle = Bundle.main.bundleURL
        for candidate in [bundle, bundle.deletingLastPathComponent()] {
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("slm").path) {
                return candidate
            }
        }
        for b in Bundle.allBundles where b.bundlePath.hasSuffix(".xctest") {
            return b.bundleURL.deletingLastPathComponent()
        }
        return bundle.deletingLastPathComponent()
    }
}
