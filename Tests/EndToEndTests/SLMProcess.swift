import Foundation
import TestSupport
import XCTest

/// What one run of the built `slm` binary did.
struct SLMResult {
    var args: [String]
    /// The exit status, or the signal number when `signaled`.
    var status: Int32
    var signaled: Bool
    /// True when the run outlived its timeout and was killed.
    var timedOut: Bool
    var stdout: Data
    var stderr: Data
    var seconds: Double

    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }
    /// stderr split into lines (a trailing newline does not make an empty last line).
    var errLines: [String] {
        var lines = err.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }
    /// A one-line summary for assertion messages.
    var summary: String {
        "slm \(args.joined(separator: " ")): status \(status)\(signaled ? " (signal)" : "")\(timedOut ? " (timed out)" : ""), "
            + "\(String(format: "%.2f", seconds)) s, stderr: \(err.prefix(400))"
    }
}

/// Runs the built `slm` as a child process.
enum SLM {
    /// The binary SwiftPM built beside the test bundle (the test target depends on the `slm` product).
    static var binary: URL { TestPaths.productsDirectory.appendingPathComponent("slm") }

    /// The test's environment: SLM_HOME is a temporary home of this test process (`TestHome`) whose `models` is the
    /// real store, so named models resolve without a download while the prefix cache (`$SLM_HOME/cache`) is never
    /// the user's.
    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["SLM_HOME"] = TestHome.shared.path
        return env
    }

    /// Runs `slm args...`. `stdin` nil gives the child /dev/null (a command that reads stdin sees it empty rather than
    /// waiting on the test runner's stdin). `virtualMemoryKB` runs it under `ulimit -v` through /bin/sh, so an
    /// allocation beyond the bound fails inside the child. The child is killed (SIGKILL) after `timeout` seconds.
    /// `stdinPath`: stdin opened from that path instead. `closedStdout`: stdout is a pipe nobody reads (its read end
    /// closed before the start), as in `slm ... | head` after head has exited; `stdout` of the result is then empty.
    /// `env` adds to (or overrides) the environment; `directory` is the working directory. `shell`: run
    /// `/bin/sh -c shell` instead, with `$SLM` the binary's path (for pipes and namespaces; `args` only label it).
    /// `interruptAfter`: send SIGINT once stdout holds at least that many bytes.
    static func run(_ args: [String], stdin: Data? = nil, timeout: Double = 120, virtualMemoryKB: Int? = nil,
                    closedStdout: Bool = false, stdinPath: String? = nil, env: [String: String] = [:],
                    directory: URL? = nil, shell: String? = nil, interruptAfter: Int? = nil,
                    file: StaticString = #filePath, line: UInt = #line) throws -> SLMResult {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("slm-e2e-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)

        let process = Process()
        if let shell {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", shell]
        } else if let kb = virtualMemoryKB {
            // exec keeps the child's pid, so its exit status or signal is the one reported.
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -v \(kb) && exec \"$0\" \"$@\"", binary.path] + args
        } else {
            process.executableURL = binary
            process.arguments = args
        }
        var childEnvironment = SLM.environment
        childEnvironment["SLM"] = binary.path
        for (k, v) in env { childEnvironment[k] = v }
        process.environment = childEnvironment
        if let directory { process.currentDirectoryURL = directory }
        // Files rather than pipes: a child that writes a lot can never block on a full pipe.
        let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)
        defer { try? outHandle.close(); try? errHandle.close() }
        if closedStdout {
            let pipe = Pipe()
            try pipe.fileHandleForReading.close()
            process.standardOutput = pipe
        } else {
            process.standardOutput = outHandle
        }
        process.standardError = errHandle
        if let stdinPath {
            // Any path open(2) accepts for reading, e.g. a directory, whose read(2) then fails.
            process.standardInput = try XCTUnwrap(FileHandle(forReadingAtPath: stdinPath), stdinPath)
        } else if let stdin {
            let inURL = scratch.appendingPathComponent("stdin")
            try stdin.write(to: inURL)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }

        let start = Date()
        try process.run()
        var timedOut = false
        var interrupted = false
        while process.isRunning {
            if let n = interruptAfter, !interrupted,
               ((try? FileManager.default.attributesOfItem(atPath: outURL.path)[.size] as? Int) ?? 0) >= n {
                kill(process.processIdentifier, SIGINT)
                interrupted = true
            }
            if Date().timeIntervalSince(start) > timeout {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(start)
        let result = SLMResult(
            args: args, status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
            timedOut: timedOut, stdout: try Data(contentsOf: outURL), stderr: try Data(contentsOf: errURL),
            seconds: seconds)
        XCTAssertFalse(timedOut, "timed out after \(timeout) s: \(result.summary)", file: file, line: line)
        return result
    }

    /// Runs and asserts exit status 0, returning the result.
    @discardableResult
    static func succeed(_ args: [String], stdin: Data? = nil, timeout: Double = 120,
                        file: StaticString = #filePath, line: UInt = #line) throws -> SLMResult {
        let r = try run(args, stdin: stdin, timeout: timeout, file: file, line: line)
        XCTAssertTrue(r.status == 0 && !r.signaled, r.summary, file: file, line: line)
        return r
    }

    /// Asserts the contract's error shape: exit `status` (not a signal) and exactly one stderr line, "error: ...".
    static func assertError(_ r: SLMResult, status: Int32, mentions: [String] = [],
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.signaled, "died by a signal: \(r.summary)", file: file, line: line)
        XCTAssertEqual(r.status, status, r.summary, file: file, line: line)
        XCTAssertEqual(r.errLines.count, 1, "want one stderr line: \(r.summary)", file: file, line: line)
        XCTAssertTrue(r.errLines.first?.hasPrefix("error: ") ?? false, r.summary, file: file, line: line)
        for m in mentions {
            XCTAssertTrue(r.err.contains(m), "stderr should mention '\(m)': \(r.summary)", file: file, line: line)
        }
    }

    /// The path of a reference model, or a skip (a failure under CI, where the models are fetched first).
    static func requireModel(_ file: String) throws -> String {
        guard let path = TestPaths.model(file) else {
            if TestPaths.isCI { XCTFail("model \(file) missing; the CI test command fetches it first") }
            throw XCTSkip("model \(file) not in the store; run tools/fetch-models")
        }
        return path
    }

    /// Checks the binary exists (a clear failure instead of a launch error).
    static func requireBinary() throws {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            XCTFail("slm binary not found at \(binary.path); build the tests with `swift build --build-tests`")
            throw XCTSkip("no slm binary")
        }
    }
}

/// Base class: every end-to-end test needs the binary and, mostly, the default model.
class EndToEndTestCase: XCTestCase {
    override func setUpWithError() throws {
        try SLM.requireBinary()
    }

    /// smollm2-135m (the default model) must be in the store: tests then run without --model.
    func requireSmolLM() throws -> String { try SLM.requireModel(TestPaths.smollmFile) }
    func requireGemma() throws -> String { try SLM.requireModel(TestPaths.gemmaFile) }

    /// A fresh scratch directory, removed after the test.
    func makeScratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slm-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Token ids printed by `slm tokenize` (one line of space-separated integers).
    func parseIDs(_ r: SLMResult, file: StaticString = #filePath, line: UInt = #line) -> [Int32] {
        XCTAssertTrue(r.out.hasSuffix("\n"), "tokenize output ends with a newline", file: file, line: line)
        let text = r.out.trimmingCharacters(in: .newlines)
        XCTAssertFalse(text.contains("\n"), "tokenize prints one line", file: file, line: line)
        if text.isEmpty { return [] }
        let ids = text.split(separator: " ", omittingEmptySubsequences: false).map { Int32($0) }
        XCTAssertFalse(ids.contains(nil), "ids separated by single spaces: \(text.prefix(200))", file: file, line: line)
        return ids.compactMap { $0 }
    }
}
