import Foundation
import SLMEngine
import TestSupport
import XCTest

/// Reference models for the engine tests, loaded once per process.
enum EngineModel {
    static func require(_ file: String) throws -> String {
        guard let path = TestPaths.model(file) else {
            if TestPaths.isCI { XCTFail("model \(file) missing; the CI test command fetches it first") }
            throw XCTSkip("model \(file) not in the store; run tools/fetch-models")
        }
        return path
    }

    nonisolated(unsafe) private static var loaded: [String: Engine] = [:]
    private static let lock = NSLock()

    /// The engine for a reference model (2 threads, batches of 64), shared by the tests of this target.
    static func load(_ file: String) throws -> Engine {
        let path = try require(file)
        lock.lock()
        defer { lock.unlock() }
        if let e = loaded[file] { return e }
        let e = try Engine(modelPath: path, threads: 2, maxBatch: 64)
        loaded[file] = e
        return e
    }

    static func smolLM() throws -> Engine { try load(TestPaths.smollmFile) }
}
