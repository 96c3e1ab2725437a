import Foundation
import GGUF
import TestSupport
import XCTest
@testable import Tokenizers

/// The two reference tokenizers, built once per test process (a debug build of gemma3's 262,144 tokens takes
/// about a second) together with the time the build took.
enum ReferenceModels {
    struct Loaded: Sendable {
        let tokenizer: any Tokenizer
        let buildSeconds: Double
    }

    static let smollm: Result<Loaded, LoadError> = load(TestPaths.smollmFile)
    static let gemma: Result<Loaded, LoadError> = load(TestPaths.gemmaFile)

    enum LoadError: Error { case missing(String), failed(String) }

    private static func load(_ file: String) -> Result<Loaded, LoadError> {
        guard let path = TestPaths.model(file) else { return .failure(.missing(file)) }
        do {
            let gguf = try GGUFFile(path: path)
            let start = DispatchTime.now().uptimeNanoseconds
            let tokenizer = try makeTokenizer(from: gguf)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            return .success(Loaded(tokenizer: tokenizer, buildSeconds: seconds))
        } catch {
            return .failure(.failed("\(file): \(error)"))
        }
    }

    /// The tokenizer, or a skip (a failure under CI) when the model file is not in the store.
    static func get(_ which: Result<Loaded, LoadError>) throws -> Loaded {
        switch which {
        case .success(let loaded): return loaded
        case .failure(.missing(let file)):
            if TestPaths.isCI { XCTFail("reference model \(file) missing under CI") }
            throw XCTSkip("reference model \(file) not in the store")
        case .failure(.failed(let message)):
            XCTFail(message)
            throw XCTSkip(message)
        }
    }
}

/// One case of Tests/Fixtures/tokenizer-visible.json: llama.cpp's `llama_tokenize` output.
struct FixtureCase: Decodable {
    let text: String
    let add_special: Bool
    let parse_special: Bool
    let ids: [Int32]

    static func load(_ model: String) throws -> [FixtureCase] {
        struct File: Decodable { let models: [String: [FixtureCase]] }
        let data = try Data(contentsOf: TestPaths.fixtures.appendingPathComponent("tokenizer-visible.json"))
        let file = try JSONDecoder().decode(File.self, from: data)
        return try XCTUnwrap(file.models[model], "no fixture cases for \(model)")
    }
}
