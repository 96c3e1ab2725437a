import Foundation
import TestSupport
import XCTest

@testable import ModelStore

#if canImport(Glibc)
import Glibc
#endif

final class PullTests: StoreTestCase {
    func testPullFromFileURLPlacesVerifiedFile() throws {
        let bytes = randomBytes(300_000, seed: 3)
        let (_, manifest) = try makeSourceFile(bytes)
        let path = try store.pull(manifest, progress: sink)

        XCTAssertEqual(path.path, store.modelsDirectory.appendingPathComponent(manifest.file).path)
        XCTAssertEqual(try Data(contentsOf: path), Data(bytes))
        XCTAssertEqual(storeEntries(), [".tiny.gguf.json", ".tiny.gguf.lock", "tiny.gguf"], "no temporary file is left behind")
        XCTAssertEqual(store.localPath(for: manifest)?.path, path.path)
        XCTAssertEqual(sink.progressReports.last?.0, Int64(bytes.count), "progress reaches the full size")
    }

    /// The URLSession path: a download over HTTP from a local server, then a 404 that falls through to the next source.
    func testPullOverHTTP() throws {
        let bytes = randomBytes(200_000, seed: 10)
        let (source, manifest) = try makeSourceFile(bytes)
        let server = try HubTestServer()
        try server.publish("files", [.init(name: "tiny.gguf", source: source, size: nil, sha256: nil)])
        func url(_ file: String) -> String { "\(server.endpoint)/files/\(file)" }

        var viaHTTP = manifest
        viaHTTP.sources = [.url(url("tiny.gguf"))]
        let path = try store.pull(viaHTTP, progress: sink)
        XCTAssertEqual(try Data(contentsOf: path), Data(bytes))
        XCTAssertEqual(sink.progressReports.last?.0, Int64(bytes.count))
        XCTAssertEqual(sink.progressReports.last?.1, Int64(bytes.count), "total from Content-Length")

        try FileManager.default.removeItem(at: path)
        var notFound = manifest
        notFound.sources = [.url(url("absent.gguf")), .url(url("tiny.gguf"))]
        XCTAssertEqual(try store.pull(notFound, progress: sink).path, path.path)
        let failed = sink.messages.filter { $0.contains(" failed: ") }
        XCTAssertEqual(failed.count, 1, "\(sink.messages)")
        XCTAssertTrue(failed.first?.contains("HTTP status 404") ?? false, "\(failed)")
        XCTAssertEqual(storeEntries(), [".tiny.gguf.json", ".tiny.gguf.lock", "tiny.gguf"])
    }

    func testWrongSha256FailsAndLeavesNothing() throws {
        var (_, manifest) = try makeSourceFile(randomBytes(5000, seed: 4))
        manifest.sha256 = String(repeating: "0", count: 64)
        XCTAssertThrowsError(try store.pull(manifest, progress: sink)) { error in
            guard case .allSourcesFailed(let model, let failures)? = error as? ModelStoreError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(model, "tiny")
            XCTAssertEqual(failures.count, 1)
            XCTAssertTrue(failures[0].contains("sha256"), failures[0])
        }
        XCTAssertEqual(storeEntries(), [".tiny.gguf.lock"], "neither the model nor a partial file remains")
        XCTAssertNil(store.localPath(for: manifest))
    }

    func testWrongSizeFailsTheSource() throws {
        var (_, manifest) = try makeSourceFile(randomBytes(5000, seed: 5))
        manifest.size = 4000
        XCTAssertThrowsError(try store.pull(manifest, progress: sink)) { error in
            XCTAssertTrue("\(error)".contains("4000"), "\(error)")
        }
        XCTAssertEqual(storeEntries(), [".tiny.gguf.lock"])
    }

    /// A missing file and a refused connection each fail with one stderr line; the next source is then used.
    func testFailingSourcesFallThroughToTheNext() throws {
        let bytes = randomBytes(10_000, seed: 6)
        var (source, manifest) = try makeSourceFile(bytes)
        let missing = source.deletingLastPathComponent().appendingPathComponent("missing.gguf").absoluteString
        // Port 1 on the loopback interface: nothing listens there, so the connection is refused at once.
        let refused = "http://127.0.0.1:1/tiny.gguf"
        manifest.sources = [.url(missing), .url(refused), .url("not a url"), .url(source.absoluteString)]

        let start = Date()
        let path = try store.pull(manifest, progress: sink)
        XCTAssertEqual(try Data(contentsOf: path), Data(bytes))
        // Bound: each failing source must fail without waiting for the 10 s timeout.
        XCTAssertLessThan(Date().timeIntervalSince(start), 8)
        let failed = sink.messages.filter { $0.hasPrefix("source ") && $0.contains(" failed: ") }
        XCTAssertEqual(failed.count, 3, "\(sink.messages)")
        XCTAssertTrue(failed[0].contains(missing), failed[0])
        XCTAssertTrue(failed[1].contains(refused), failed[1])
        XCTAssertEqual(storeEntries(), [".tiny.gguf.json", ".tiny.gguf.lock", "tiny.gguf"])
    }

    func testNoWorkingSourceListsEveryFailure() throws {
        var (_, manifest) = try makeSourceFile([1, 2, 3])
        manifest.sources = [.url("file:///nonexistent/a.gguf"), .url("file:///nonexistent/b.gguf")]
        XCTAssertThrowsError(try store.pull(manifest, progress: sink)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("'tiny'") && text.contains("a.gguf") && text.contains("b.gguf"), text)
            XCTAssertFalse(text.contains("\n"), "one line")
        }
    }

    /// Partial files of dead processes are removed by the next pull; one of a live process is left alone.
    func testStalePartialFilesAreCleaned() throws {
        let (_, manifest) = try makeSourceFile(randomBytes(1000, seed: 8))
        try FileManager.default.createDirectory(at: store.modelsDirectory, withIntermediateDirectories: true)
        let deadPID = try pidOfFinishedProcess()
        let stale = store.modelsDirectory.appendingPathComponent(".tiny.gguf.partial-\(deadPID)")
        let staleWork = store.modelsDirectory.appendingPathComponent(".tiny.gguf.pip-\(deadPID)")
        let live = store.modelsDirectory.appendingPathComponent(".tiny.gguf.partial-1")  // pid 1 is always alive
        try Data(repeating: 7, count: 10).write(to: stale)
        try FileManager.default.createDirectory(at: staleWork, withIntermediateDirectories: true)
        try Data(repeating: 7, count: 10).write(to: live)

        _ = try store.pull(manifest, progress: sink)
        XCTAssertEqual(storeEntries(), [".tiny.gguf.json", ".tiny.gguf.lock", ".tiny.gguf.partial-1", "tiny.gguf"])
    }

    /// While another holder has the model's lock, a pull waits; when the holder has placed the file meanwhile, the
    /// pull returns it without fetching again.
    func testConcurrentPullWaitsForTheLockHolder() throws {
        let bytes = randomBytes(2000, seed: 9)
        let (_, manifest) = try makeSourceFile(bytes)
        try FileManager.default.createDirectory(at: store.modelsDirectory, withIntermediateDirectories: true)
        let lockPath = store.modelsDirectory.appendingPathComponent(".tiny.gguf.lock").path
        let holder = try FileLock(path: lockPath) {}

        let finished = expectation(description: "pull returns")
        let store = self.store!, sink = self.sink!
        DispatchQueue.global().async {
            XCTAssertNotNil(try? store.pull(manifest, progress: sink))
            finished.fulfill()
        }
        // The waiting pull announces itself; until then give it up to 5 s (a loaded machine) to reach the lock.
        let deadline = Date().addingTimeInterval(5)
        while !sink.messages.contains(where: { $0.hasPrefix("waiting for another process") }) && Date() < deadline {
            usleep(10_000)
        }
        XCTAssertTrue(sink.messages.contains { $0.hasPrefix("waiting for another process") }, "\(sink.messages)")
        // The "other process" finishes its pull, then releases the lock.
        try Data(bytes).write(to: store.modelsDirectory.appendingPathComponent("tiny.gguf"))
        holder.release()
        wait(for: [finished], timeout: 10)
        XCTAssertFalse(sink.messages.contains { $0.hasPrefix("pulling ") }, "no second fetch: \(sink.messages)")
    }

    func testPlainFileNameIsRequired() throws {
        var (_, manifest) = try makeSourceFile([1])
        manifest.file = "../escape.gguf"
        XCTAssertThrowsError(try store.pull(manifest, progress: sink)) { error in
            guard case .invalidManifest? = error as? ModelStoreError else { return XCTFail("\(error)") }
        }
    }

    func testStderrProgressLineFormat() {
        XCTAssertEqual(
            StderrProgress.describe(done: 49_181_216, total: 98_362_432, elapsed: 0, bar: true),
            "  49.2 MB / 98.4 MB   50%  [############------------]")
        XCTAssertEqual(
            StderrProgress.describe(done: 3_000_000, total: nil, elapsed: 2, bar: false), "  3.0 MB  1.5 MB/s")
    }

    /// The pid of a child that has exited and been reaped, so no process has it (pids are not reused at once).
    private func pidOfFinishedProcess() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}
