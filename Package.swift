// swift-tools-version: 6.0
import PackageDescription

// C kernels are compiled optimized even in debug builds: tests that run a real model need them fast, and the
// numerics must not depend on the build configuration. Each family's folder is on the header path (internal headers
// are shared across families).
let kernelFolders = [".", "quants", "kquants", "packed", "ops", "matmul"]
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno", "-Wall", "-Wno-unused-function"])]
    + kernelFolders.map { .headerSearchPath($0) }

let package = Package(
    name: "slm",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "slm", targets: ["slm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: kernelFlags),
        .target(name: "GGUF", path: "Sources/GGUF"),
        .target(
            name: "Tokenizers",
            dependencies: ["GGUF", .product(name: "HeapModule", package: "swift-collections")],
            path: "Sources/Tokenizers"),
        .target(name: "SLMModels", dependencies: ["CKernels", "GGUF"], path: "Sources/Models"),
        .target(name: "SLMJinja", path: "Sources/Jinja"),
        .target(
            name: "SLMEngine",
            dependencies: [
                "SLMModels", "Tokenizers", "CKernels", "SLMJinja",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            path: "Sources/Engine"),
        .target(
            name: "ModelStore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Sources/ModelStore"),
        .target(
            name: "SLMServer",
            dependencies: [
                "SLMEngine", "SLMModels", "Tokenizers",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Sources/Server"),
        .executableTarget(
            name: "slm",
            dependencies: [
                "SLMEngine", "ModelStore", "GGUF", "Tokenizers", "SLMModels", "SLMServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Sources/slm"),

        .target(name: "TestSupport", dependencies: ["GGUF"], path: "Tests/TestSupport"),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernels"], path: "Tests/CKernelsTests"),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "TestSupport"], path: "Tests/GGUFTests"),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "GGUF", "TestSupport"], path: "Tests/TokenizersTests"),
        .testTarget(name: "ModelsTests", dependencies: ["SLMModels", "GGUF", "Tokenizers", "TestSupport"], path: "Tests/ModelsTests"),
        .testTarget(name: "JinjaTests", dependencies: ["SLMJinja", "SLMEngine", "TestSupport"], path: "Tests/JinjaTests"),
        .testTarget(name: "EngineTests", dependencies: ["SLMEngine", "TestSupport"], path: "Tests/EngineTests"),
        .testTarget(
            name: "ServerTests",
            dependencies: ["SLMServer", "SLMEngine", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Tests/ServerTests",
            // The tests call XCTest helpers from HummingbirdTesting's @Sendable closures.
            swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "ModelStoreTests", dependencies: ["ModelStore", "TestSupport"], path: "Tests/ModelStoreTests"),
        .testTarget(name: "EndToEndTests", dependencies: ["slm", "TestSupport", "GGUF"], path: "Tests/EndToEndTests"),
    ]
)
