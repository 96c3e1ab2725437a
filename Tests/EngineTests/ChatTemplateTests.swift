import Foundation
import SLMEngine
import TestSupport
import XCTest

/// Chat formatting through the model's own Jinja template; the built-in ChatML and Gemma templates stand in only for a
/// file template that does not parse; a file without one (gemma-3-270m) keeps prompts as they are.
final class ChatTemplateTests: XCTestCase {
    static let smolDefault = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

    func testSmolLMTemplateFromTheRealFile() throws {
        let smol = try EngineModel.smolLM()
        let t = try XCTUnwrap(smol.chatTemplate)
        XCTAssertEqual(t.origin, .modelFile)
        XCTAssertNil(smol.chatTemplateNote)
        // The renderings equal what the file's Jinja template renders with jinja2 (the goldens cover it too).
        XCTAssertEqual(try smol.renderChat([.user("Hi")]),
                       "<|im_start|>system\n\(Self.smolDefault)<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(try smol.renderChat([.system("S"), .user("Hi")]),
                       "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(try smol.renderChat([.user("Hi"), .assistant("Hello"), .user("Bye")], addGenerationPrompt: false),
                       "<|im_start|>system\n\(Self.smolDefault)<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n")
    }

    func testOverrideTemplateAndVariables() throws {
        let smol = try EngineModel.smolLM()
        let t = try ChatTemplate(source: "{{ bos_token }}[{{ messages[0].content }}]{{ eos_token }}{{ flag | default('-') }}", origin: .file("t.jinja"))
        XCTAssertEqual(try smol.renderChat([.user("x")], template: t), "\(smol.bosText)[x]\(smol.eosText)-")
        XCTAssertEqual(try smol.renderChat([.user("x")], variables: ["flag": .bool(true), "bos_token": .string("B")], template: t),
                       "B[x]\(smol.eosText)True")
    }

    func testBuiltinsStandInForAnUnparsableTemplate() throws {
        let (chatML, note) = ChatTemplate.resolve(fileTemplate: "{% include 'x' %}<|im_start|>")
        XCTAssertEqual(chatML?.origin, .builtin("ChatML"))
        XCTAssertTrue(note?.contains("line 1, column 4") ?? false, note ?? "")
        XCTAssertEqual(try chatML?.render([.system("S"), .user("U")]),
                       "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n")
        let (gemma, _) = ChatTemplate.resolve(fileTemplate: "{% extends 'x' %}<start_of_turn>")
        XCTAssertEqual(gemma?.origin, .builtin("Gemma"))
        XCTAssertEqual(try gemma?.render([.user("Why?")]), "<start_of_turn>user\nWhy?<end_of_turn>\n<start_of_turn>model\n")
        XCTAssertEqual(try gemma?.render([.system("Be brief."), .user("Why?")]),
                       "<start_of_turn>user\nBe brief.\n\nWhy?<end_of_turn>\n<start_of_turn>model\n",
                       "Gemma has no system role: the system text leads the first user turn")
        let (none, why) = ChatTemplate.resolve(fileTemplate: "{% for %}")
        XCTAssertNil(none)
        XCTAssertNotNil(why)
        XCTAssertNil(ChatTemplate.resolve(fileTemplate: nil).template)
    }

    func testAModelWithoutATemplateKeepsPromptsAsTheyAre() throws {
        let gemma = try EngineModel.load(TestPaths.gemmaFile)
        XCTAssertNil(gemma.chatTemplate, "gemma-3-270m (a base model) carries no template: prompts are used as is")
        XCTAssertEqual(try gemma.renderChat([.user("The capital of France is")]), "The capital of France is")
        XCTAssertThrowsError(try gemma.renderChat([.system("S"), .user("U")]))
    }

    func testTemplateErrorsNameTheirPosition() throws {
        let smol = try EngineModel.smolLM()
        let t = try ChatTemplate(source: "ok\n  {{ raise_exception('no system role') }}", origin: .file("t.jinja"))
        XCTAssertThrowsError(try smol.renderChat([.user("x")], template: t)) { error in
            XCTAssertEqual("\(error)", "chat template: template raised an exception at line 2, column 21: no system role")
        }
    }

    func testMessagesDecodeFromOpenAIShapes() throws {
        let json = """
            [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
             {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
               "function": {"name": "f", "arguments": "{\\"x\\": 1}"}}]},
             {"role": "tool", "tool_call_id": "c1", "content": "2"}]
            """
        let messages = try JSONDecoder().decode([ChatMessage].self, from: Data(json.utf8))
        XCTAssertEqual(messages[0].content, "ab")
        XCTAssertNil(messages[1].content)
        XCTAssertEqual(messages[1].toolCalls?.first?.function.arguments, "{\"x\": 1}")
        XCTAssertEqual(messages[2].toolCallID, "c1")
        let t = try ChatTemplate(source: "{% for m in messages %}{{ m.role }}:{{ m.content }}:{{ m.tool_calls[0].function.arguments.x if m.tool_calls }};{% endfor %}", origin: .file("t"))
        XCTAssertEqual(try t.render(messages), "user:ab:;assistant:None:1;tool:2:;", "arguments given as a JSON object reach the template as a dict")
        let again = try JSONDecoder().decode([ChatMessage].self, from: try JSONEncoder().encode(messages))
        XCTAssertEqual(again, messages)
    }
}
