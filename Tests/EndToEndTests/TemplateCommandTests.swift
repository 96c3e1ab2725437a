import Foundation
import TestSupport
import XCTest

/// `slm template`, `slm generate --chat-template` and the template line of `slm info`.
final class TemplateCommandTests: EndToEndTestCase {
    static let templates = TestPaths.fixtures.appendingPathComponent("chat-templates")

    func write(_ text: String, _ name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func testRendersTheModelsTemplate() throws {
        _ = try requireSmolLM()
        let r = try SLM.succeed(["template", "Hi"])
        XCTAssertEqual(r.out, "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let dir = try makeScratch()
        let messages = try write(#"[{"role": "system", "content": "S"}, {"role": "user", "content": "U"}, {"role": "assistant", "content": "A"}]"#, "m.json", in: dir)
        let n = try SLM.succeed(["template", "--messages", messages, "--no-generation-prompt"])
        XCTAssertEqual(n.out, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n")
        let piped = try SLM.succeed(["template"], stdin: Data(#"[{"role": "user", "content": "P"}]"#.utf8))
        XCTAssertTrue(piped.out.contains("<|im_start|>user\nP<|im_end|>"), piped.out)
    }

    /// A template file alone needs no model: the rendering equals jinja2's golden (Qwen3, tools and a tool result,
    /// enable_thinking false).
    func testTemplateFileWithToolsAndKwargsMatchesTheGolden() throws {
        let dir = try makeScratch()
        // Re-serialising through JSONSerialization may reorder keys, so the messages file is cut from the fixture text.
        let fixture = try String(contentsOf: Self.templates.appendingPathComponent("conversations.json"), encoding: .utf8)
        let start = try XCTUnwrap(fixture.range(of: #"{"name": "tool-call-and-result", "tools": "weather-tools", "messages": "#))
        let end = try XCTUnwrap(fixture.range(of: "]},\n  {\"name\": \"reasoning-thinking-on\"", range: start.upperBound..<fixture.endIndex))
        let messages = try write(String(fixture[start.upperBound..<end.lowerBound]) + "]", "m.json", in: dir)
        let toolsFixture = try String(contentsOf: Self.templates.appendingPathComponent("tools.json"), encoding: .utf8)
        let ts = try XCTUnwrap(toolsFixture.range(of: "\"weather-tools\": "))
        let tools = try write(String(toolsFixture[ts.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines).dropLast().description, "t.json", in: dir)
        let template = Self.templates.appendingPathComponent("templates/Qwen-Qwen3-0.6B.jinja").path
        let r = try SLM.succeed(["template", "--template", template, "--messages", messages, "--tools", tools,
                                 "--kwargs", #"{"enable_thinking": false, "bos_token": "<s>", "eos_token": "</s>"}"#])
        let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.templates.appendingPathComponent("goldens/Qwen-Qwen3-0.6B.json"))) as! [String: Any]
        let cases = golden["cases"] as! [[String: Any]]
        let want = try XCTUnwrap(cases.first { $0["case"] as? String == "tool-call-and-result" }?["output"] as? String)
        // The golden's conversation has no enable_thinking; Qwen3 with it false appends an empty think block.
        XCTAssertEqual(r.out, want + "<think>\n\n</think>\n\n")
    }

    func testErrorsAreOneLineWithTheTemplatePosition() throws {
        let dir = try makeScratch()
        let bad = try write("line one\n{% for m in messages %}\n{{ m.content + }}\n{% endfor %}", "bad.jinja", in: dir)
        let r = try SLM.run(["template", "--template", bad, "x"])
        XCTAssertEqual(r.status, 2, r.summary)
        XCTAssertEqual(r.errLines, ["error: --template '\(bad)': template error at line 3, column 16: unexpected '}}'"])
        let raising = try write("{{ raise_exception('only user turns') }}", "raise.jinja", in: dir)
        let e = try SLM.run(["template", "--template", raising, "x"])
        XCTAssertEqual(e.status, 1, e.summary)
        XCTAssertEqual(e.errLines, ["error: chat template: template raised an exception at line 1, column 19: only user turns"])
        let g = try SLM.run(["generate", "--chat-template", bad, "x"])
        XCTAssertEqual(g.status, 2, g.summary)
        XCTAssertEqual(try SLM.run(["template", "--kwargs", "[1]", "x"]).status, 2)
        XCTAssertEqual(try SLM.run(["template", "--template", "/nonexistent.jinja", "x"]).status, 1)
        let notJSON = try write("{", "m.json", in: dir)
        XCTAssertEqual(try SLM.run(["template", "--template", raising, "--messages", notJSON]).status, 1)
    }

    func testGenerateWithAnOverrideTemplate() throws {
        _ = try requireSmolLM()
        let dir = try makeScratch()
        // A ChatML template without SmolLM2's default system turn: greedy output equals --raw on the text it renders
        // (jinja2 drops the file's one trailing newline, so the prompt ends at "assistant").
        let t = try write("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n", "t.jinja", in: dir)
        let viaTemplate = try SLM.succeed(["generate", "--chat-template", t, "--temperature", "0", "--max-tokens", "8", "--no-cache", "Name a color."])
        let raw = try SLM.succeed(["generate", "--raw", "--temperature", "0", "--max-tokens", "8", "--no-cache",
                                   "<|im_start|>user\nName a color.<|im_end|>\n<|im_start|>assistant"])
        XCTAssertEqual(viaTemplate.out, raw.out)
        XCTAssertEqual(try SLM.run(["generate", "--raw", "--chat-template", t, "x"]).status, 2)
    }

    func testInfoShowsTheTemplate() throws {
        _ = try requireSmolLM()
        let r = try SLM.succeed(["info"])
        let line = try XCTUnwrap(r.out.split(separator: "\n").first { $0.hasPrefix("chat template") })
        XCTAssertTrue(line.contains("from the file") && line.contains("{% for message in messages %}"), String(line))
        if TestPaths.model(TestPaths.gemmaFile) != nil {
            let g = try SLM.succeed(["info", "--model", "gemma3-270m"])
            XCTAssertTrue(g.out.contains("chat template         none"), g.out)
        }
    }
}

/// `slm generate --tools`: the reply is one JSON assistant message whose calls parse.
final class GenerateToolsTests: EndToEndTestCase {
    func testPrintsTheCallsAsJSON() throws {
        _ = try requireSmolLM()
        let dir = try makeScratch()
        let tools = dir.appendingPathComponent("tools.json")
        try Data(ToolCallFixture.json.utf8).write(to: tools)
        let r = try SLM.succeed(["generate", "--tools", tools.path, "--tool-choice", "required", "--max-tokens", "100",
                                 "--no-cache", "What is the weather in Paris?"])
        let message = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], r.out)
        XCTAssertEqual(message["role"] as? String, "assistant")
        let calls = try XCTUnwrap(message["tool_calls"] as? [[String: Any]], r.out)
        XCTAssertEqual(calls.count, 1)
        let function = try XCTUnwrap(calls[0]["function"] as? [String: Any])
        XCTAssertEqual(function["name"] as? String, "get_weather")
        let args = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data((function["arguments"] as? String ?? "").utf8)) as? [String: Any])
        XCTAssertNotNil(args["city"] as? String)
        XCTAssertEqual(try SLM.run(["generate", "--tools", tools.path, "--json", "x"]).status, 2)
        XCTAssertEqual(try SLM.run(["generate", "--tools", tools.path, "--tool-choice", "nope", "x"]).status, 2)
    }
}

enum ToolCallFixture {
    static let json = """
        [{"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city.",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
        """
}
