import Foundation
import XCTest

@testable import ModelStore

final class ResolveTests: StoreTestCase {
    func testExistingFileIsUsedAsIs() throws {
        let file = home.appendingPathComponent("mine.gguf")
        try Data([1, 2, 3]).write(to: file)
        XCTAssertEqual(try store.resolve(file.path, progress: sink).path, file.path)
        XCTAssertTrue(sink.messages.isEmpty, "nothing is fetched for a path")
    }

    func testUnknownNameListsKnownNames() {
        XCTAssertThrowsError(try store.resolve("no-such-model", progress: sink)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("no-such-model"), text)
            for manifest in ModelStore.manifests() { XCTAssertTrue(text.contains(manifest.name), text) }
            XCTAssertEqual(
                error as? ModelStoreError,
                .unknownModel(name: "no-such-model", known: ModelStore.manifests().map(\.name)))
        }
    }

    func testDirectoryIsRejected() {
        XCTAssertThrowsError(try store.resolve(home.path, progress: sink)) { error in
            XCTAssertEqual(error as? ModelStoreError, .notAFile(path: home.path))
            XCTAssertTrue("\(error)".contains(home.path))
        }
    }

    func testMissingPathIsNamed() {
        let path = home.appendingPathComponent("absent.gguf").path
        XCTAssertThrowsError(try store.resolve(path, progress: sink)) { error in
            XCTAssertEqual(error as? ModelStoreError, .fileNotFound(path: path))
        }
    }

    /// A built-in name whose file is already in the store (right size) resolves without fetching.
    func testKnownNameInStoreResolvesWithoutFetching() throws {
        let manifest = try XCTUnwrap(ModelStore.manifest(named: "smollm2-135m"))
        try FileManager.default.createDirectory(at: store.modelsDirectory, withIntermediateDirectories: true)
        let path = store.modelsDirectory.appendingPathComponent(manifest.file)
        // A sparse file of the manifest's size stands in for the model: localPath checks only the size.
        XCTAssertTrue(FileManager.default.createFile(atPath: path.path, contents: nil))
        let handle = try FileHandle(forWritingTo: path)
        try handle.truncate(atOffset: UInt64(manifest.size))
        try handle.close()

        XCTAssertEqual(try store.resolve("smollm2-135m", progress: sink).path, path.path)
        XCTAssertTrue(sink.messages.isEmpty, "no pull: \(sink.messages)")

        // A directory of the same name in the working directory does not hide the model name.
        let previous = FileManager.default.currentDirectoryPath
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        try FileManager.default.createDirectory(
            at: home.appendingPathComponent("smollm2-135m"), withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(home.path))
        XCTAssertEqual(try store.resolve("smollm2-135m", progress: sink).path, path.path)
    }

    func testLocalPathRequiresTheManifestSize() throws {
        let (_, manifest) = try makeSourceFile(randomBytes(100, seed: 1))
        XCTAssertNil(store.localPath(for: manifest))
        try FileManager.default.createDirectory(at: store.modelsDirectory, withIntermediateDirectories: true)
        let path = store.modelsDirectory.appendingPathComponent(manifest.file)
        try Data(randomBytes(99, seed: 1)).write(to: path)
        XCTAssertNil(store.localPath(for: manifest), "a truncated file is not the model")
        try Data(randomBytes(100, seed: 1)).write(to: path)
        XCTAssertEqual(store.localPath(for: manifest)?.path, path.path)
    }

    func testInstalledModelsListsFilesWithTheirNames() throws {
        XCTAssertTrue(store.installedModels().isEmpty, "no store directory yet")
        let directory = store.modelsDirectory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let smollm = try XCTUnwrap(ModelStore.manifest(named: "smollm2-135m"))
        XCTAssertTrue(FileManager.default.createFile(atPath: directory.appendingPathComponent(smollm.file).path, contents: nil))
        let handle = try FileHandle(forWritingTo: directory.appendingPathComponent(smollm.file))
        try handle.truncate(atOffset: UInt64(smollm.size))
        try handle.close()
        try Data([1, 2, 3, 4]).write(to: directory.appendingPathComponent("other.gguf"))
        try Data([1]).write(to: directory.appendingPathComponent(".other.gguf.partial-123"))
        try Data().write(to: directory.appendingPathComponent(".other.gguf.lock"))
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("subdir"), withIntermediateDirectories: true)

        let installed = store.installedModels()
        XCTAssertEqual(installed.map(\.file), [smollm.file, "other.gguf"].sorted())
        let byFile = Dictionary(uniqueKeysWithValues: installed.map { ($0.file, $0) })
        XCTAssertEqual(byFile[smollm.file]?.manifestName, "smollm2-135m")
        XCTAssertEqual(byFile[smollm.file]?.size, smollm.size)
        XCTAssertNil(byFile["other.gguf"]?.manifestName ?? nil)
        XCTAssertEqual(byFile["other.gguf"]?.size, 4)
    }

    func testDefaultHomeFollowsSLMHome() {
        let explicit = ModelStore(home: URL(fileURLWithPath: "/tmp/slm-x"))
        XCTAssertEqual(explicit.modelsDirectory.path, "/tmp/slm-x/models")
        let fromEnvironment = ModelStore()
        if let env = ProcessInfo.processInfo.environment["SLM_HOME"], !env.isEmpty {
            XCTAssertEqual(fromEnvironment.modelsDirectory.path, URL(fileURLWithPath: env).appendingPathComponent("models").path)
        } else {
            XCTAssertTrue(fromEnvironment.modelsDirectory.path.hasSuffix("/.cache/slm/models"))
        }
    }
}
