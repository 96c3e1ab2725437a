import Foundation
import SLMEngine
import TestSupport
import XCTest

/// Tool calls: the format each template family uses, the parser into OpenAI's `tool_calls`, and the grammar that keeps
/// sampled calls parseable with arguments valid under each tool's schema.
final class ToolCallTests: XCTestCase {
    static let toolsJSON = """
        [{"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city.",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}},
         {"type": "function", "function": {"name": "add", "description": "Add two integers.",
          "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
            "required": ["a", "b"]}}}]
        """

    func tools() throws -> [ChatTool] { try ChatTool.list(json: Self.toolsJSON) }

    func testFormatsAreRecognisedFromTemplates() throws {
        let dir = TestPaths.fixtures.appendingPathComponent("chat-templates/templates")
        func format(_ file: String) throws -> ToolCallFormat {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            return ToolCallFormat.detect(try ChatTemplate(source: text, origin: .file(file)))
        }
        XCTAssertEqual(try format("Qwen-Qwen3-0.6B.jinja"), .hermes)
        XCTAssertEqual(try format("Qwen-Qwen2.5-7B-Instruct.jinja"), .hermes)
        XCTAssertEqual(try format("meta-llama-Llama-3.1-8B-Instruct.jinja"), .llama3)
        XCTAssertEqual(try format("meta-llama-Llama-3.2-3B-Instruct.jinja"), .llama3)
        XCTAssertEqual(try format("mistralai-Mistral-Nemo-Instruct-2407.jinja"), .mistral)
        XCTAssertEqual(ToolCallFormat.detect(nil), .hermes)
    }

    func testParsesEachFormatIntoOpenAIShape() throws {
        let t = try tools()
        let hermes = ToolCalls.parse("Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>", format: .hermes, tools: t)
        XCTAssertEqual(hermes.content, "Let me check.")
        XCTAssertEqual(hermes.toolCalls, [ToolCall(id: "call_0", name: "get_weather", arguments: #"{"city":"Paris"}"#)])
        let llama = ToolCalls.parse(#"{"name": "add", "parameters": {"a": 1, "b": 2}}"#, format: .llama3, tools: t)
        XCTAssertNil(llama.content)
        XCTAssertEqual(llama.toolCalls.first?.function.arguments, #"{"a":1,"b":2}"#)
        let mistral = ToolCalls.parse(#"[TOOL_CALLS][{"name": "add", "arguments": {"a": 1, "b": 2}}, {"name": "get_weather", "arguments": {"city": "Oslo"}}]"#, format: .mistral, tools: t)
        XCTAssertEqual(mistral.toolCalls.map(\.function.name), ["add", "get_weather"])
        XCTAssertEqual(mistral.toolCalls.map(\.id), ["call_0", "call_1"])
        // Not calls: plain text, an unknown tool, JSON that does not parse.
        XCTAssertEqual(ToolCalls.parse("It is sunny.", format: .hermes, tools: t), ParsedReply(content: "It is sunny.", toolCalls: []))
        XCTAssertTrue(ToolCalls.parse("<tool_call>{\"name\": \"nope\", \"arguments\": {}}</tool_call>", format: .hermes, tools: t).toolCalls.isEmpty)
        XCTAssertTrue(ToolCalls.parse("<tool_call>{\"name\": \"add\", </tool_call>", format: .hermes, tools: t).toolCalls.isEmpty)
    }

    func testGrammarAcceptsValidCallsOnly() throws {
        let t = try tools()
        let required = try XCTUnwrap(try ToolCalls.grammar(tools: t, format: .hermes, choice: .required))
        XCTAssertTrue(required.matches("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}\n</tool_call>"))
        XCTAssertTrue(required.matches("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": -2}}\n</tool_call>"))
        XCTAssertFalse(required.matches("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1}}\n</tool_call>"), "missing required b")
        XCTAssertFalse(required.matches("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1.5, \"b\": 2}}\n</tool_call>"), "a must be an integer")
        XCTAssertFalse(required.matches("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"P\", \"unit\": \"kelvin\"}}\n</tool_call>"), "enum")
        XCTAssertFalse(required.matches("<tool_call>\n{\"name\": \"other\", \"arguments\": {}}\n</tool_call>"))
        XCTAssertFalse(required.matches("Sure."), "required: no plain text")
        let auto = try XCTUnwrap(try ToolCalls.grammar(tools: t, format: .hermes, choice: .auto))
        XCTAssertTrue(auto.matches("Sure, it is sunny."))
        XCTAssertTrue(auto.matches("<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}\n</tool_call>"))
        XCTAssertFalse(auto.matches("<tool_call>\n{\"name\": \"add\"}"), "text that starts like a call must be a call")
        let named = try XCTUnwrap(try ToolCalls.grammar(tools: t, format: .llama3, choice: .function("add")))
        XCTAssertTrue(named.matches(#"{"name": "add", "parameters": {"a": 1, "b": 2}}"#))
        XCTAssertFalse(named.matches(#"{"name": "get_weather", "parameters": {"city": "x"}}"#))
        XCTAssertNil(try ToolCalls.grammar(tools: t, format: .hermes, choice: .none))
        XCTAssertThrowsError(try ToolCalls.grammar(tools: t, format: .hermes, choice: .function("missing")))
    }

    /// A minimal JSON Schema check for the shapes used here (object, properties, required, string, integer, enum),
    /// independent of the grammar that produced the arguments.
    static func validates(_ value: JSONValue, _ schema: JSONValue) -> Bool {
        switch schema["type"] {
        case .string("object")?:
            guard case .object(let pairs) = value, case .object(let props)? = schema["properties"] else { return false }
            if case .array(let req)? = schema["required"] {
                for r in req { guard case .string(let k) = r, pairs.contains(where: { $0.0 == k }) else { return false } }
            }
            return pairs.allSatisfy { k, v in props.first { $0.0 == k }.map { validates(v, $0.1) } ?? false }
        case .string("string")?:
            guard case .string = value else { return false }
            if case .array(let options)? = schema["enum"] { return options.contains(value) }
            return true
        case .string("integer")?:
            guard case .number(let n) = value else { return false }
            return Int(n) != nil
        default: return false
        }
    }

    /// Sampled tool calls (temperature 1, several seeds and prompts) of both reference models always parse and their
    /// arguments validate against the called tool's schema.
    func testSampledCallsOfBothModelsAlwaysParseAndValidate() throws {
        let t = try tools()
        for file in [TestPaths.smollmFile, TestPaths.gemmaFile] {
            let engine = try EngineModel.load(file)
            let format = ToolCallFormat.detect(engine.chatTemplate)
            let grammar = try XCTUnwrap(try ToolCalls.grammar(tools: t, format: format, choice: .required))
            for (i, question) in ["What is the weather in Paris?", "Add 17 and 25.", "Is it cold in Oslo, in fahrenheit?"].enumerated() {
                for seed in 0..<2 {
                    let prompt = engine.tokenizeChat(try engine.renderChat([.user(question)], tools: t))
                    var request = GenerationRequest(prompt: prompt, contextLength: 1024)
                    request.maxTokens = 120
                    request.sampling.temperature = 1.0
                    request.sampling.seed = UInt64(100 * i + seed)
                    request.grammar = grammar
                    var text = ""
                    _ = try engine.generate(request) { text += $0 }
                    let reply = ToolCalls.parse(text, format: format, tools: t)
                    XCTAssertEqual(reply.toolCalls.count, 1, "\(file) seed \(seed): \(text)")
                    for call in reply.toolCalls {
                        let tool = try XCTUnwrap(t.first { $0.name == call.function.name })
                        let args = try JSONValue.parse(call.function.arguments)
                        XCTAssertTrue(Self.validates(args, try XCTUnwrap(tool.parameters)), "\(file): \(call.function.arguments)")
                    }
                }
            }
        }
    }

    func testTemplatesThatIgnoreToolsGetThemDescribed() throws {
        let smol = try EngineModel.smolLM()
        let t = try tools()
        let prompt = try smol.renderChat([.user("Hi")], tools: t)
        XCTAssertTrue(prompt.hasPrefix("<|im_start|>system\nYou can call tools."), prompt)
        XCTAssertTrue(prompt.contains("\"name\":\"get_weather\""), prompt)
        let withSystem = try smol.renderChat([.system("Be brief."), .user("Hi")], tools: t)
        XCTAssertTrue(withSystem.hasPrefix("<|im_start|>system\nBe brief.\n\nYou can call tools."), withSystem)
        let qwen = try ChatTemplate(source: try String(contentsOf: TestPaths.fixtures.appendingPathComponent("chat-templates/templates/Qwen-Qwen3-0.6B.jinja"), encoding: .utf8), origin: .file("qwen"))
        let rendered = try smol.renderChat([.user("Hi")], tools: t, template: qwen)
        XCTAssertFalse(rendered.contains("You can call tools."), "a template that renders tools itself is left alone")
        XCTAssertTrue(rendered.contains("<tools>"))
    }
}
