import Foundation
import TestSupport
import XCTest

@testable import ModelStore

/// `slm pull` of Hugging Face references and URLs against a local hub on loopback (Tests/Fixtures/http-test-server.py):
/// checksums from the hub's listing, resume of an interrupted transfer, wrong checksums, 404s, slow and stalled servers.
final class HubPullTests: StoreTestCase {
    var server: HubTestServer!

    override func setUpWithError() throws {
        try super.setUpWithError()
        do { server = try HubTestServer() } catch { throw XCTSkip("python3 test server did not start: \(error)") }
        store.hubEndpoint = server.endpoint
        store.timeout = 5
    }

    override func tearDownWithError() throws {
        server = nil
        try super.tearDownWithError()
    }

    /// Random bytes in a file outside the store; returns its URL, bytes and sha256.
    func upstream(_ name: String, count: Int, seed: UInt64) throws -> (URL, [UInt8], String) {
        let bytes = randomBytes(count, seed: seed)
        let url = home.appendingPathComponent("upstream-\(name)")
        try Data(bytes).write(to: url)
        return (url, bytes, SHA256.hexDigest(bytes))
    }

    func publish(_ name: String, count: Int, seed: UInt64, repo: String = "org/repo", sha: String? = nil) throws -> ([UInt8], String) {
        let (url, bytes, digest) = try upstream(name, count: count, seed: seed)
        try server.publish(repo, [HubTestServer.File(name: name, source: url, size: count, sha256: sha ?? digest)])
        return (bytes, digest)
    }

    func target(_ text: String) throws -> PullTarget {
        try store.target(for: try XCTUnwrap(HubReference(text)), progress: sink)
    }

    func partialSize(_ file: String) -> Int? {
        let path = store.modelsDirectory.appendingPathComponent(".\(file).partial").path
        return (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
    }

    func testPullByQuantizationChecksAndRecordsTheHubChecksum() throws {
        let (url4, bytes4, sha4) = try upstream("m-Q4_K_M.gguf", count: 120_000, seed: 1)
        let (url8, bytes8, sha8) = try upstream("m-Q8_0.gguf", count: 150_000, seed: 2)
        try server.publish("org/repo", [
            .init(name: "m-Q4_K_M.gguf", source: url4, size: bytes4.count, sha256: sha4),
            .init(name: "m-Q8_0.gguf", source: url8, size: bytes8.count, sha256: sha8),
        ])
        let t = try target("hf.co/org/repo:Q8_0")
        XCTAssertEqual(t.file, "m-Q8_0.gguf")
        XCTAssertEqual(t.size, bytes8.count)
        XCTAssertEqual(t.sha256, sha8)
        let path = try store.pull(t, progress: sink)
        XCTAssertEqual(try Data(contentsOf: path), Data(bytes8))
        let record = try XCTUnwrap(store.record(for: "m-Q8_0.gguf"))
        XCTAssertEqual(record.sha256, sha8)
        XCTAssertTrue(record.checked, "checked against the hub's sha256")
        XCTAssertTrue(record.names.contains("hf.co/org/repo:Q8_0"), "\(record.names)")
        XCTAssertEqual(storeEntries(), [".m-Q8_0.gguf.json", ".m-Q8_0.gguf.lock", "m-Q8_0.gguf"], "no partial left")

        // Usable by every name, and resolving a recorded name asks the hub nothing.
        let before = server.requests.count
        for name in ["hf.co/org/repo:q8_0", "m-Q8_0", "m-Q8_0.gguf"] {
            XCTAssertEqual(store.storedFile(named: name), "m-Q8_0.gguf", name)
        }
        XCTAssertEqual(try store.resolve("hf.co/org/repo:Q8_0", progress: sink).path, path.path)
        XCTAssertEqual(server.requests.count, before, "no request for a model in the store")

        // No quantization: Q4_K_M, as Ollama picks it.
        XCTAssertEqual(try target("hf.co/org/repo").file, "m-Q4_K_M.gguf")
    }

    func testInterruptedTransferResumesWithARangeRequest() throws {
        let (bytes, _) = try publish("r-Q4_0.gguf", count: 400_000, seed: 3)
        let t = try target("hf.co/org/repo:Q4_0")
        try server.control(["drop_after": 150_000])
        XCTAssertThrowsError(try store.pull(t, progress: sink)) { error in
            XCTAssertTrue("\(error)".contains("stopped after"), "\(error)")
        }
        let kept = try XCTUnwrap(partialSize("r-Q4_0.gguf"), "the bytes received are kept")
        XCTAssertTrue(kept > 0 && kept < bytes.count, "\(kept)")
        XCTAssertFalse(storeEntries().contains("r-Q4_0.gguf"))

        let path = try store.pull(t, progress: sink)
        XCTAssertEqual(try Data(contentsOf: path), Data(bytes), "resumed bytes + the rest = the file")
        XCTAssertEqual(server.requests.last, "GET /org/repo/resolve/main/r-Q4_0.gguf bytes=\(kept)-")
        XCTAssertTrue(sink.messages.contains { $0.hasPrefix("resuming at byte \(kept)") }, "\(sink.messages)")
        XCTAssertNil(partialSize("r-Q4_0.gguf"))
    }

    /// A server that answers a range request with the whole file (200): the download starts again from byte 0.
    func testServerIgnoringTheRangeRestartsFromTheStart() throws {
        let (bytes, _) = try publish("s-Q4_0.gguf", count: 100_000, seed: 4)
        try FileManager.default.createDirectory(at: store.modelsDirectory, withIntermediateDirectories: true)
        try Data(bytes[0..<30_000]).write(to: store.modelsDirectory.appendingPathComponent(".s-Q4_0.gguf.partial"))
        try server.control(["ignore_range": true])
        let path = try store.pull(try target("hf.co/org/repo:Q4_0"), progress: sink)
        XCTAssertEqual(try Data(contentsOf: path), Data(bytes))
        XCTAssertTrue(sink.messages.contains { $0.contains("starting again") }, "\(sink.messages)")
    }

    /// Bytes left by a different file (an older upload): the resumed file fails its checksum and is fetched whole.
    func testResumedFileWithWrongBytesIsFetchedAgainWhole() throws {
        let (bytes, _) = try publish("c-Q4_0.gguf", count: 100_000, seed: 5)
        try FileManager.default.createDirectory(at: store.modelsDirectory, withIntermediateDirectories: true)
        try Data(randomBytes(40_000, seed: 99)).write(to: store.modelsDirectory.appendingPathComponent(".c-Q4_0.gguf.partial"))
        let path = try store.pull(try target("hf.co/org/repo:Q4_0"), progress: sink)
        XCTAssertEqual(try Data(contentsOf: path), Data(bytes))
        let downloads = server.requests.filter { $0.contains("/resolve/") }
        XCTAssertEqual(downloads, ["GET /org/repo/resolve/main/c-Q4_0.gguf bytes=40000-",
                                   "GET /org/repo/resolve/main/c-Q4_0.gguf -"])
    }

    func testWrongChecksumFailsAndLeavesNothing() throws {
        _ = try publish("w-Q4_0.gguf", count: 50_000, seed: 6, sha: String(repeating: "ab", count: 32))
        XCTAssertThrowsError(try store.pull(try target("hf.co/org/repo:Q4_0"), progress: sink)) { error in
            XCTAssertTrue("\(error)".contains("sha256") && "\(error)".contains(String(repeating: "ab", count: 32)), "\(error)")
        }
        XCTAssertEqual(storeEntries(), [".w-Q4_0.gguf.lock"], "neither the file, a partial nor a record")
        // The same with a checksum given on the command line (`--sha256`) for a plain URL.
        let (url, _, _) = try upstream("x.gguf", count: 1000, seed: 7)
        try server.publish("files/here", [.init(name: "x.gguf", source: url, size: nil, sha256: nil)])
        var t = try target("\(server.endpoint)/files/here/x.gguf")
        t.sha256 = String(repeating: "0", count: 64)
        XCTAssertThrowsError(try store.pull(t, progress: sink)) { XCTAssertTrue("\($0)".contains("expected 0000"), "\($0)") }
    }

    func testNotFoundIsNamed() throws {
        XCTAssertThrowsError(try target("hf.co/org/absent:Q4_0")) { error in
            XCTAssertEqual(error as? ModelStoreError, .hub(reference: "hf.co/org/absent:Q4_0", reason: "no such repository (HTTP status 404)"))
        }
        // Listed but not served: the download's 404.
        try server.publish("org/ghost", [])
        let apiURL = server.root.appendingPathComponent("api.json")
        var api = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: apiURL)) as? [String: Any])
        api["org/ghost"] = [["rfilename": "g-Q4_0.gguf", "size": 10, "sha256": String(repeating: "1", count: 64)]]
        try JSONSerialization.data(withJSONObject: api).write(to: apiURL)
        XCTAssertThrowsError(try store.pull(try target("hf.co/org/ghost:Q4_0"), progress: sink)) { error in
            XCTAssertTrue("\(error)".contains("HTTP status 404"), "\(error)")
        }
        XCTAssertNil(partialSize("g-Q4_0.gguf"))
    }

    /// 16 KiB every 20 ms: slow, but never idle for the timeout, so the pull completes.
    func testSlowServerCompletes() throws {
        let (bytes, _) = try publish("slow-Q4_0.gguf", count: 200_000, seed: 8)
        try server.control(["chunk_delay": 0.02])
        let start = Date()
        let path = try store.pull(try target("hf.co/org/repo:Q4_0"), progress: sink)
        XCTAssertEqual(try Data(contentsOf: path), Data(bytes))
        XCTAssertGreaterThan(Date().timeIntervalSince(start), 0.2, "13 chunks 20 ms apart")
        XCTAssertGreaterThan(sink.progressReports.count, 3, "progress while it trickles")
    }

    /// A server that stops sending: the pull fails after the idle timeout, keeps what arrived, and resumes later.
    func testStalledServerTimesOutAndResumes() throws {
        let (bytes, _) = try publish("stall-Q4_0.gguf", count: 100_000, seed: 9)
        store.timeout = 1
        try server.control(["stall_after": 40_000])
        let start = Date()
        XCTAssertThrowsError(try store.pull(try target("hf.co/org/repo:Q4_0"), progress: sink)) { error in
            XCTAssertTrue("\(error)".contains("timed out"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 20, "the idle timeout, not the server's 60 s stall")
        XCTAssertEqual(partialSize("stall-Q4_0.gguf"), 40_000)
        let path = try store.pull(try target("hf.co/org/repo:Q4_0"), progress: sink)
        XCTAssertEqual(try Data(contentsOf: path), Data(bytes))
    }

    /// A URL with nothing to check it against must at least be a GGUF file (not an HTML error page); its sha256 is
    /// recorded unchecked.
    func testURLWithoutChecksumMustBeGGUF() throws {
        let (page, _, _) = try upstream("page.gguf", count: 2000, seed: 10)
        let good = home.appendingPathComponent("upstream-good.gguf")
        let goodBytes = Array("GGUF".utf8) + randomBytes(3000, seed: 11)
        try Data(goodBytes).write(to: good)
        try server.publish("files/x", [.init(name: "page.gguf", source: page, size: nil, sha256: nil),
                                       .init(name: "good.gguf", source: good, size: nil, sha256: nil)])
        XCTAssertThrowsError(try store.pull(try target("\(server.endpoint)/files/x/page.gguf"), progress: sink)) { error in
            XCTAssertTrue("\(error)".contains("not a GGUF file"), "\(error)")
        }
        let url = "\(server.endpoint)/files/x/good.gguf"
        let path = try store.pull(try target(url), progress: sink)
        XCTAssertEqual(try Data(contentsOf: path), Data(goodBytes))
        let record = try XCTUnwrap(store.record(for: "good.gguf"))
        XCTAssertFalse(record.checked)
        XCTAssertEqual(record.sha256, SHA256.hexDigest(goodBytes))
        XCTAssertEqual(store.storedFile(named: url), "good.gguf")
    }

    func testVerifyFindsACorruptedFileAndRemoveDeletesIt() throws {
        let (bytes, sha) = try publish("v-Q4_0.gguf", count: 30_000, seed: 12)
        let path = try store.pull(try target("hf.co/org/repo:Q4_0"), progress: sink)
        XCTAssertEqual(try store.verify([], progress: sink), [.init(file: "v-Q4_0.gguf", sha256: sha, expected: sha)])
        var corrupted = bytes
        corrupted[1234] ^= 0xFF
        try Data(corrupted).write(to: path)
        let result = try XCTUnwrap(try store.verify(["hf.co/org/repo:Q4_0"], progress: sink).first)
        XCTAssertFalse(result.ok)
        XCTAssertEqual(result.expected, sha)
        XCTAssertThrowsError(try store.verify(["nothing-by-that-name"], progress: sink)) {
            XCTAssertEqual($0 as? ModelStoreError, .notInStore(name: "nothing-by-that-name"))
        }
        XCTAssertEqual(try store.remove("v-Q4_0").path, path.path)
        XCTAssertEqual(storeEntries(), [], "file, record and lock removed")
        XCTAssertThrowsError(try store.remove("v-Q4_0"))
    }

    /// A file in the store is not fetched again, unless forced; a forced pull replaces it.
    func testForceFetchesAgain() throws {
        let (bytes, _) = try publish("f-Q4_0.gguf", count: 20_000, seed: 13)
        let t = try target("hf.co/org/repo:Q4_0")
        let path = try store.pull(t, progress: sink)
        let downloads = { self.server.requests.filter { $0.contains("/resolve/") }.count }
        XCTAssertEqual(downloads(), 1)
        XCTAssertEqual(try store.pull(t, progress: sink).path, path.path)
        XCTAssertEqual(downloads(), 1, "already in the store")
        try Data([1, 2, 3]).write(to: path)  // damaged by hand: the size no longer matches, so it is fetched again
        _ = try store.pull(t, progress: sink)
        XCTAssertEqual(downloads(), 2)
        _ = try store.pull(t, force: true, progress: sink)
        XCTAssertEqual(downloads(), 3, "--force fetches again")
        XCTAssertEqual(try Data(contentsOf: path), Data(bytes))
    }

    /// A partial file that already holds every byte: the range request is answered 416, and the file is verified and
    /// installed as it is.
    func testCompletePartialFileIsInstalledAfterA416() throws {
        let (bytes, _) = try publish("done-Q4_0.gguf", count: 50_000, seed: 14)
        try FileManager.default.createDirectory(at: store.modelsDirectory, withIntermediateDirectories: true)
        try Data(bytes).write(to: store.modelsDirectory.appendingPathComponent(".done-Q4_0.gguf.partial"))
        let path = try store.pull(try target("hf.co/org/repo:Q4_0"), progress: sink)
        XCTAssertEqual(try Data(contentsOf: path), Data(bytes))
        XCTAssertEqual(server.requests.filter { $0.contains("/resolve/") },
                       ["GET /org/repo/resolve/main/done-Q4_0.gguf bytes=50000-"])
        XCTAssertNil(partialSize("done-Q4_0.gguf"))
    }

    /// A file the server announces (Content-Length) as larger than the listing's size is refused before its body
    /// is written, and nothing is kept.
    func testAnnouncedSizeBeyondTheExpectedFails() throws {
        let (url, _, digest) = try upstream("big-Q4_0.gguf", count: 5000, seed: 15)
        try server.publish("org/repo", [.init(name: "big-Q4_0.gguf", source: url, size: 1000, sha256: digest)])
        XCTAssertThrowsError(try store.pull(try target("hf.co/org/repo:Q4_0"), progress: sink)) { error in
            XCTAssertTrue("\(error)".contains("the server announces 5000 bytes, expected at most 1000"), "\(error)")
        }
        XCTAssertNil(partialSize("big-Q4_0.gguf"))
    }
}
