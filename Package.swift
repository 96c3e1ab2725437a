// swift-tools-version: 6.0
import PackageDescription

// C kernels are compiled optimized even in debug builds: tests that run a real model need them fast, and the
// numerics must not depend on the build configuration.
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno", "-Wall", "-Wno-unused-function"])]

let package = Package(
    name: "slm",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "slm", targets: ["slm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CKernels", dependencies: ["COpenBLAS"], path: "Sources/CKernels", cSettings: kernelFlags),
        .target(name: "GGUF", path: "Sources/GGUF"),
        .target(name: "Tokenizers", dependencies: ["GGUF"], path: "Sources/Tokenizers"),
        .target(name: "SLMModels", dependencies: ["CKernels", "GGUF"], path: "Sources/Models"),
        .target(name: "SLMJinja", path: "Sources/Jinja"),
        .target(name: "SLMEngine", dependencies: ["SLMModels", "Tokenizers", "CKernels", "SLMJinja"], path: "Sources/Engine"),
        .target(name: "ModelStore", path: "Sources/ModelStore"),
        .executableTarget(
            name: "slm",
            dependencies: [
                "SLMEngine", "ModelStore", "GGUF", "Tokenizers", "SLMModels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/slm"),

        .target(name: "TestSupport", dependencies: ["GGUF"], path: "Tests/TestSupport"),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernels"], path: "Tests/CKernelsTests"),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "TestSupport"], path: "Tests/GGUFTests"),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "GGUF", "TestSupport"], path: "Tests/TokenizersTests"),
        .testTarget(name: "ModelsTests", dependencies: ["SLMModels", "GGUF", "Tokenizers", "TestSupport"], path: "Tests/ModelsTests"),
        .testTarget(name: "JinjaTests", dependencies: ["SLMJinja", "SLMEngine", "TestSupport"], path: "Tests/JinjaTests"),
        .testTarget(name: "EngineTests", dependencies: ["SLMEngine", "TestSupport"], path: "Tests/EngineTests"),
        .testTarget(name: "ModelStoreTests", dependencies: ["ModelStore", "TestSupport"], path: "Tests/ModelStoreTests"),
        .testTarget(name: "EndToEndTests", dependencies: ["slm", "TestSupport", "GGUF"], path: "Tests/EndToEndTests"),
    ]
)
