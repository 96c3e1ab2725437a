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

    /// `bench -o json`: one object per test under llama-bench's field names, keys sorted, nanoseconds as integers and
    /// tokens per second with at most six decimals.
    func testBenchJSONHasLlamaBenchFields() throws {
        _ = try requireSmolLM()
        let r = try SLM.succeed(["bench", "-p", "8", "-n", "4", "-r", "2", "-t", "1", "-o", "json", "--quiet"])
        let tests = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]], r.out)
        let fields = ["avg_ns", "avg_ts", "model_filename", "model_size", "model_type", "n_depth", "n_gen", "n_parallel",
                      "n_prompt", "n_threads", "samples_ns", "samples_ts", "stddev_ns", "stddev_ts"]
        XCTAssertEqual(tests.count, 2, r.out)
        for (test, (prompt, generated)) in zip(tests, [(8, 0), (0, 4)]) {
            XCTAssertEqual(test.keys.sorted(), fields)
            XCTAssertEqual(test["model_filename"] as? String, TestPaths.smollmFile)
            XCTAssertEqual(test["n_prompt"] as? Int, prompt)
            XCTAssertEqual(test["n_gen"] as? Int, generated)
            XCTAssertEqual(test["n_threads"] as? Int, 1)
            XCTAssertEqual(test["n_parallel"] as? Int, 1)
            XCTAssertEqual((test["samples_ns"] as? [Int])?.count, 2)
            XCTAssertEqual((test["samples_ts"] as? [Double])?.count, 2)
            XCTAssertGreaterThan(test["avg_ts"] as? Double ?? 0, 0)
        }
        // The text: keys in sorted order; ns whole numbers; tok/s with at most six decimals.
        let keys = r.out.split(separator: "\n").compactMap { line -> String? in
            guard let colon = line.range(of: "\" :") else { return nil }
            return String(line[..<colon.lowerBound].drop { $0 == " " || $0 == "\"" })
        }
        XCTAssertEqual(keys, fields + fields, r.out)
        let numbers = try NSRegularExpression(pattern: #""(avg|stddev)_(ns|ts)" : ([0-9.e+-]+)"#)
        let text = r.out as NSString
        let matches = numbers.matches(in: r.out, range: NSRange(location: 0, length: text.length))
        XCTAssertEqual(matches.count, 8, r.out)
        for m in matches {
            let unit = text.substring(with: m.range(at: 2)), value = text.substring(with: m.range(at: 3))
            let decimals = value.split(separator: ".").dropFirst().first?.count ?? 0
            XCTAssertTrue(unit == "ns" ? decimals == 0 && Int(value) != nil : decimals <= 6 && Double(value) != nil, value)
        }
    }
}
