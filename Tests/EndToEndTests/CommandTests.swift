import Foundation
import GGUF
import TestSupport
import XCTest

/// info, models, pull and --help.
final class CommandTests: EndToEndTestCase {
    /// `slm info` lines are "name<padding>value"; returns the value of the line starting with `name`.
    func infoValue(_ out: String, _ name: String) -> String? {
        out.split(separator: "\n").first { $0.hasPrefix(name + "  ") }
            .map { $0.dropFirst(name.count).trimmingCharacters(in: .whitespaces) }
    }

    func testInfoAgreesWithTheFile() throws {
        let path = try requireSmolLM()
        let r = try SLM.succeed(["info"])
        let file = try GGUFFile(path: path)
        let arch = try file.string("general.architecture")
        XCTAssertEqual(infoValue(r.out, "architecture"), arch)
        XCTAssertEqual(infoValue(r.out, "layers"), String(try file.int("\(arch).block_count")))
        XCTAssertEqual(infoValue(r.out, "embedding length"), String(try file.int("\(arch).embedding_length")))
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        XCTAssertTrue(infoValue(r.out, "file size")?.hasPrefix("\(size) bytes") ?? false, r.out)
        XCTAssertTrue(infoValue(r.out, "tensors")?.hasPrefix("\(file.tensors.count):") ?? false, r.out)
        XCTAssertNotNil(infoValue(r.out, "tokenizer"))
        XCTAssertNotNil(infoValue(r.out, "chat template"))
        // gemma3 too, with its sliding-window layers.
        if TestPaths.model(TestPaths.gemmaFile) != nil {
            let g = try SLM.succeed(["info", "--model", "gemma3-270m"])
            XCTAssertEqual(infoValue(g.out, "architecture"), "gemma3")
            XCTAssertNotNil(infoValue(g.out, "sliding window"), g.out)
        }
    }

    func testModelsListsTheStore() throws {
        _ = try requireSmolLM()
        let r = try SLM.succeed(["models"])
        for (name, file) in [("smollm2-135m", TestPaths.smollmFile), ("gemma3-270m", TestPaths.gemmaFile)] {
            let line = try XCTUnwrap(r.out.split(separator: "\n").first { $0.contains(name) && $0.contains("installed") },
                                     "\(name) listed: \(r.out)")
            XCTAssertEqual(line.hasSuffix("- installed"), TestPaths.model(file) != nil, String(line))
        }
        XCTAssertTrue(r.out.contains(TestHome.shared.path + "/models"), "names the store directory: \(r.out)")
    }

    func testPullOfAPresentModelPrintsItsPath() throws {
        _ = try requireSmolLM()
        let r = try SLM.succeed(["pull", "smollm2-135m"], timeout: 30)
        XCTAssertEqual(r.out, TestHome.shared.path + "/models/" + TestPaths.smollmFile + "\n")
        // The sha256 is recorded (checked against the manifest) in the test's own store, not the shared one.
        let record = TestHome.shared.path + "/models/." + TestPaths.smollmFile + ".json"
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: record))) as? [String: Any])
        XCTAssertEqual(object["checked"] as? Bool, true)
        XCTAssertEqual(object["names"] as? [String], ["smollm2-135m"])
        SLM.assertError(try SLM.run(["pull", "no-such-model"]), status: 2, mentions: ["no-such-model"])
    }

    func testHelpForEveryCommand() throws {
        for command in [[], ["generate"], ["tokenize"], ["detokenize"], ["logits"], ["perplexity"], ["info"],
                        ["models"], ["pull"], ["rm"], ["verify"], ["bench"], ["cache"], ["cache", "stats"]] {
            let r = try SLM.run(command + ["--help"], timeout: 30)
            XCTAssertEqual(r.status, 0, r.summary)
            XCTAssertTrue(r.out.contains("USAGE:"), "help text on stdout for \(command): \(r.out.prefix(200))")
            XCTAssertEqual(r.err, "", "nothing on stderr for \(command) --help")
            checkHelpLayout(r.out, command)
        }
        // A bare `slm` prints the overview too.
        let bare = try SLM.succeed([], timeout: 30)
        XCTAssertTrue(bare.out.contains("SUBCOMMANDS:"), bare.out)
    }

    /// Examples sit whole on their own indented lines (none wrapped by the 80-column layout), and no option states
    /// its default twice (our text and the parser's "(default: ...)").
    func checkHelpLayout(_ help: String, _ command: [String], file: StaticString = #filePath, line: UInt = #line) {
        let lines = help.components(separatedBy: "\n")
        if let start = lines.firstIndex(where: { $0 == "Examples:" || $0 == "Example:" }) {
            let block = lines[(start + 1)...].prefix { !$0.isEmpty }
            XCTAssertFalse(block.isEmpty, "\(command): examples follow", file: file, line: line)
            for l in block {
                XCTAssertTrue(l.hasPrefix("  "), "\(command): an example broken across lines: '\(l)'", file: file, line: line)
                XCTAssertLessThanOrEqual(l.count, 80, "\(command): '\(l)'", file: file, line: line)
            }
        }
        XCTAssertFalse(help.contains("Example: slm"), "\(command): an inline example wraps: \(help)", file: file, line: line)
        var entries: [String] = []
        for l in lines {
            if l.hasPrefix("  -") { entries.append(l) } else if l.hasPrefix("      "), !entries.isEmpty { entries[entries.count - 1] += l }
        }
        for e in entries {
            let defaults = e.components(separatedBy: "default").count - 1
            XCTAssertLessThanOrEqual(defaults, 1, "\(command): a default stated twice: \(e)", file: file, line: line)
        }
    }
}
