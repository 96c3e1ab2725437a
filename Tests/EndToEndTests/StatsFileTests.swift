import Foundation
import TestSupport
import XCTest

/// `--stats-file` writes to the path it is given; it never replaces what the path is (a link, a FIFO, /dev/stdout),
/// and a path that cannot be written fails before any generation.
final class StatsFileTests: EndToEndTestCase {
    static let run = ["generate", "--raw", "--temp", "0", "-n", "4", "--no-cache", "The capital of France is"]

    func statsObject(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let stats = try XCTUnwrap(object, "one JSON object: \(text.prefix(300))", file: file, line: line)
        XCTAssertEqual(stats["generated_tokens"] as? Int, 4, file: file, line: line)
        return stats
    }

    func isSymlink(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
    }

    func testSymlinkStaysALinkAndItsTargetGetsTheStats() throws {
        _ = try requireSmolLM()
        let dir = try makeScratch()
        let target = dir.appendingPathComponent("real.json").path
        try Data("old content that is longer than nothing\n".utf8).write(to: URL(fileURLWithPath: target))
        let link = dir.appendingPathComponent("link.json").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try SLM.succeed(Self.run + ["--stats-file", link])
        XCTAssertTrue(isSymlink(link), "the link is not replaced by a regular file")
        _ = try statsObject(try String(contentsOfFile: target, encoding: .utf8))
    }

    func testFIFOReceivesTheStats() throws {
        _ = try requireSmolLM()
        let fifo = try makeScratch().appendingPathComponent("stats.fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // The reader, like `--stats-file >(jq .)`: opens the FIFO (blocking until slm opens it) and reads to the end.
        let received = ReadBox()
        let reader = Thread {
            let fd = open(fifo, O_RDONLY)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while fd >= 0 {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                received.data.append(contentsOf: buffer[0..<n])
            }
            if fd >= 0 { close(fd) }
            received.done.signal()
        }
        reader.start()
        try SLM.succeed(Self.run + ["--stats-file", fifo])
        XCTAssertEqual(received.done.wait(timeout: .now() + 30), .success, "the reader saw the end of the stats")
        _ = try statsObject(String(decoding: received.data, as: UTF8.self))
        var st = stat()
        XCTAssertEqual(lstat(fifo, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO, "still a FIFO")
    }

    /// A link to the process's own stdout (what /dev/stdout is): the stats follow the text on stdout, and the link
    /// stays a link.
    func testPathToOwnStdoutAppendsToStdout() throws {
        _ = try requireSmolLM()
        let link = try makeScratch().appendingPathComponent("stdout").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/proc/self/fd/1")
        let r = try SLM.succeed(Self.run + ["--stats-file", link])
        let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertGreaterThanOrEqual(lines.count, 3, r.out)
        _ = try statsObject(String(lines[lines.count - 2]))
        XCTAssertFalse(lines[0].isEmpty, "the generated text comes first, not overwritten: \(r.out)")
        XCTAssertTrue(isSymlink(link))
    }

    /// The bug itself: `--stats-file /dev/stdout` as root once replaced the system's /dev/stdout link. Run in a mount
    /// namespace whose /dev is a fresh tmpfs (with /dev/null bound in), so a regression would only touch that copy.
    func testDevStdoutInAMountNamespace() throws {
        _ = try requireSmolLM()
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else {
            throw XCTSkip("needs root and unshare for a private mount namespace")
        }
        let dir = try makeScratch().path
        let args = Self.run.map { "'\($0)'" }.joined(separator: " ")
        let script = """
            unshare --mount --propagation private sh -c '
              mkdir \(dir)/realdev && mount --bind /dev \(dir)/realdev && mount -t tmpfs tmpfs /dev &&
              ln -s /proc/self/fd/1 /dev/stdout && ln -s /proc/self/fd/2 /dev/stderr && ln -s /proc/self/fd /dev/fd &&
              touch /dev/null /dev/urandom && mount --bind \(dir)/realdev/null /dev/null &&
              mount --bind \(dir)/realdev/urandom /dev/urandom || exit 90
              "$SLM" \(args.replacingOccurrences(of: "'", with: "\"")) --stats-file /dev/stdout; status=$?
              if [ -L /dev/stdout ]; then echo "still a link" >&2; else echo "REPLACED" >&2; fi
              exit $status'
            """
        let r = try SLM.run(["(unshare)"] + Self.run, shell: script)
        if r.status == 90 { throw XCTSkip("cannot mount in a namespace here: \(r.err)") }
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.err.contains("still a link"), r.summary)
        let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false)
        _ = try statsObject(String(lines[max(0, lines.count - 2)]))
    }

    func testUnwritablePathFailsBeforeGenerating() throws {
        _ = try requireSmolLM()
        let dir = try makeScratch()
        for path in ["/nonexistent-dir/stats.json", dir.path] {
            let r = try SLM.run(["generate", "-n", "200", "--ignore-eos", "hi", "--stats-file", path])
            SLM.assertError(r, status: 1, mentions: ["--stats-file", path])
            XCTAssertEqual(r.stdout.count, 0, "nothing generated: \(r.out.prefix(100))")
        }
    }

    /// A regular file of ours is replaced whole (a shorter document leaves no tail of the old one), atomically.
    func testRegularFileIsReplacedWhole() throws {
        _ = try requireSmolLM()
        let path = try makeScratch().appendingPathComponent("stats.json")
        try Data(String(repeating: "x", count: 5000).utf8).write(to: path)
        try SLM.succeed(Self.run + ["--stats-file", path.path])
        _ = try statsObject(try String(contentsOf: path, encoding: .utf8))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: path.deletingLastPathComponent().path)
        XCTAssertEqual(leftovers, ["stats.json"], "no temporary file left")
    }
}

private final class ReadBox: @unchecked Sendable {
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}
