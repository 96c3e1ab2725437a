import Foundation
import TestSupport
import XCTest

/// `slm chat` in a real terminal (tmux: send-keys to type, capture-pane to read the screen): two turns where the
/// second prefills only the new tokens, /save, /reset, Ctrl-C during a reply, Ctrl-D to leave.
final class ChatTerminalTests: EndToEndTestCase {
    var socket = ""

    /// Runs `tmux -L socket args...` through posix_spawn and waitpid (Foundation's Process never saw the client
    /// exit once new-session had forked the server); returns what it printed.
    @discardableResult
    func tmux(_ args: [String]) throws -> String {
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-\(getpid())-\(UUID().uuidString)").path
        defer { unlink(outPath) }
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ["tmux", "-L", socket] + args
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, "tmux", &actions, nil, &cargs, environ)
        guard rc == 0 else { throw XCTSkip("cannot run tmux: \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-J", "-S", "-2000", "-t", "chat"]) }

    /// Polls the screen until `done` holds (or fails after `timeout` seconds), returning the screen.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 120, _ done: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var s = ""
        while Date() < deadline {
            s = try screen()
            if done(s) { return s }
            Thread.sleep(forTimeInterval: 0.2)
        }
        XCTFail("timed out waiting for \(what); screen:\n\(s)")
        throw XCTSkip("terminal did not reach: \(what)")
    }

    /// The numbers of each per-turn stats line: (prompt, reused, prefilled).
    func turnStats(_ screen: String) -> [(prompt: Int, reused: Int, prefilled: Int, reason: String)] {
        let regex = try! NSRegularExpression(pattern: #"\[prompt (\d+) tokens: (\d+) reused, (\d+) prefilled in [0-9.]+ ms \| reply \d+ tokens in [0-9.]+ ms, [0-9.]+ tok/s \| (\w+)\]"#)
        let ns = screen as NSString
        return regex.matches(in: screen, range: NSRange(location: 0, length: ns.length)).filter {
            !ns.substring(with: $0.range).isEmpty && !ns.substring(with: NSRange(location: max(0, $0.range.location - 11), length: min(11, $0.range.location))).hasSuffix("last turn: ")
        }.map { m in
            (Int(ns.substring(with: m.range(at: 1)))!, Int(ns.substring(with: m.range(at: 2)))!,
             Int(ns.substring(with: m.range(at: 3)))!, ns.substring(with: m.range(at: 4)))
        }
    }

    func testTwoTurnsResetInterruptAndExitInATerminal() throws {
        _ = try requireSmolLM()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
            if TestPaths.isCI { XCTFail("tmux missing; tools/test installs it") }
            throw XCTSkip("tmux is not installed")
        }
        socket = "slm-chat-test-\(getpid())"
        defer { _ = try? tmux(["kill-server"]) }
        let scratch = try makeScratch()
        let saved = scratch.appendingPathComponent("conversation.json").path
        let home = TestPaths.modelStore.deletingLastPathComponent().path
        let command = "SLM_HOME='\(home)' '\(SLM.binary.path)' chat --temperature 0 --max-tokens 300 --threads 2; echo \"[exit $?]\"; sleep 120"
        try tmux(["new-session", "-d", "-x", "160", "-y", "50", "-s", "chat", command])
        try waitFor("the prompt") { $0.contains("> ") }

        try tmux(["send-keys", "-t", "chat", "What is 2+2?", "Enter"])
        var s = try waitFor("turn 1's stats") { self.turnStats($0).count == 1 }
        let first = turnStats(s)[0]
        XCTAssertEqual(first.reused, 0)
        XCTAssertEqual(first.prefilled, first.prompt)

        try tmux(["send-keys", "-t", "chat", "And 3+3?", "Enter"])
        s = try waitFor("turn 2's stats") { self.turnStats($0).count == 2 }
        let second = turnStats(s)[1]
        XCTAssertGreaterThan(second.reused, first.prompt, "turn 2 reuses turn 1's prompt and reply")
        XCTAssertEqual(second.reused + second.prefilled, second.prompt)
        XCTAssertLessThan(second.prefilled, 25, "only the new turn is prefilled: \(s)")

        try tmux(["send-keys", "-t", "chat", "/save \(saved)", "Enter"])
        try waitFor("/save") { $0.contains("[saved 4 messages") }
        let messages = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: saved))) as! [[String: Any]]
        XCTAssertEqual(messages.map { $0["role"] as? String }, ["user", "assistant", "user", "assistant"])
        XCTAssertEqual(messages[2]["content"] as? String, "And 3+3?")

        try tmux(["send-keys", "-t", "chat", "/reset", "Enter"])
        try waitFor("/reset") { $0.contains("[conversation cleared]") }

        try tmux(["send-keys", "-t", "chat", "Write a very long story about a dragon and a knight.", "Enter"])
        // Let the reply start streaming, then Ctrl-C.
        try waitFor("the reply to start") { screen in
            guard let r = screen.range(of: "dragon and a knight.", options: .backwards) else { return false }
            return screen[r.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines).count > 20
        }
        try tmux(["send-keys", "-t", "chat", "C-c"])
        s = try waitFor("the interrupted reply") { $0.contains("[reply stopped]") && self.turnStats($0).count == 3 }
        let third = turnStats(s)[2]
        XCTAssertEqual(third.reason, "interrupted")
        XCTAssertFalse(s.contains("[exit"), "Ctrl-C stops the reply, not the chat")

        try tmux(["send-keys", "-t", "chat", "/stats", "Enter"])
        try waitFor("/stats") { $0.contains("3 turns:") }

        try tmux(["send-keys", "-t", "chat", "C-d"])
        try waitFor("the exit") { $0.contains("[exit 0]") }
    }
}
