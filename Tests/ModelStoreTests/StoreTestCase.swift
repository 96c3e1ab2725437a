import Foundation
import XCTest

@testable import ModelStore

/// A store in a fresh temporary SLM home per test, and helpers to make small "models" for it.
class StoreTestCase: XCTestCase {
    var home: URL!
    var store: ModelStore!
    var sink: RecordingProgress!

    override func setUpWithError() throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("slm-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        store = ModelStore(home: home)
        sink = RecordingProgress()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: home)
    }

    /// Writes `bytes` to a source file outside the store and returns a manifest whose only source is its file URL.
    func makeSourceFile(_ bytes: [UInt8], name: String = "tiny.gguf") throws -> (URL, ModelManifest) {
        let sourceDirectory = home.appendingPathComponent("upstream")
        try FileManager.default.createDirectory(at: sourceDirectory, withIntermediateDirectories: true)
        let url = sourceDirectory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        let manifest = ModelManifest(
            name: "tiny", description: "test model", architecture: "llama", file: name, size: bytes.count,
            sha256: SHA256.hexDigest(bytes), license: "test", sources: [.url(url.absoluteString)])
        return (url, manifest)
    }

    /// Names of the entries in the models directory, hidden ones included.
    func storeEntries() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store.modelsDirectory.path)) ?? []).sorted()
    }
}

/// Collects what the store reports.
final class RecordingProgress: ProgressSink, @unchecked Sendable {
    private let lock = NSLock()
    private var recordedMessages: [String] = []
    private var recordedProgress: [(Int64, Int64?)] = []

    var messages: [String] { lock.withLock { recordedMessages } }
    var progressReports: [(Int64, Int64?)] { lock.withLock { recordedProgress } }

    func message(_ text: String) { lock.withLock { recordedMessages.append(text) } }
    func progress(done: Int64, total: Int64?) { lock.withLock { recordedProgress.append((done, total)) } }
}

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}
