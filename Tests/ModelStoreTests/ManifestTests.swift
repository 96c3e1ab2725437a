import Foundation
import TestSupport
import XCTest

@testable import ModelStore

final class ManifestTests: XCTestCase {
    /// Models/*.json (the human-readable source) and the manifests embedded in the binary are the same.
    func testBuiltinManifestsEqualModelsDirectory() throws {
        let directory = TestPaths.packageRoot.appendingPathComponent("Models")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertFalse(files.isEmpty, "no manifests in \(directory.path)")
        var fromFiles: [ModelManifest] = []
        for file in files {
            let manifest = try JSONDecoder().decode(
                ModelManifest.self, from: Data(contentsOf: directory.appendingPathComponent(file)))
            XCTAssertEqual(file, manifest.name + ".json", "a manifest file is named for its model")
            fromFiles.append(manifest)
        }
        let builtin = ModelStore.manifests().sorted { $0.name < $1.name }
        XCTAssertEqual(builtin.map(\.name), fromFiles.map(\.name))
        for (embedded, file) in zip(builtin, fromFiles) {
            XCTAssertEqual(embedded, file, "BuiltinManifests.swift differs from Models/\(file.name).json")
        }
    }

    func testDefaultModelIsFirstAndSourcesAreUrlThenPip() throws {
        let manifests = ModelStore.manifests()
        XCTAssertEqual(manifests.first?.name, "smollm2-135m")
        for manifest in manifests {
            XCTAssertEqual(manifest.sha256.count, 64)
            XCTAssertEqual(manifest.sha256, manifest.sha256.lowercased())
            guard manifest.sources.count == 2, case .url(let url) = manifest.sources[0],
                case .pip(let parts) = manifest.sources[1]
            else { return XCTFail("\(manifest.name): sources should be [url, pip]") }
            XCTAssertTrue(url.hasPrefix("https://huggingface.co/") && url.hasSuffix("/" + manifest.file), url)
            XCTAssertFalse(parts.isEmpty)
        }
        XCTAssertEqual(ModelStore.manifest(named: "gemma3-270m")?.file, "gemma-3-270m-q4_k_m.gguf")
        XCTAssertNil(ModelStore.manifest(named: "gpt-5"))
    }

    func testSourceJSONRoundTrip() throws {
        let sources: [ModelSource] = [
            .url("file:///tmp/x.gguf"),
            .pip(parts: [PipPart(package: "a", version: "1", path: "a/x"), PipPart(package: "b", version: "2", path: "b/y")]),
        ]
        let data = try JSONEncoder().encode(sources)
        XCTAssertEqual(try JSONDecoder().decode([ModelSource].self, from: data), sources)
        XCTAssertThrowsError(try JSONDecoder().decode(ModelSource.self, from: Data(#"{"ftp": "x"}"#.utf8)))
    }
}
