import Foundation
import SLMEngine
import TestSupport
import XCTest

/// Chat formatting: ChatML (with SmolLM2's default system turn) and Gemma's turns.
final class ChatTemplateTests: XCTestCase {
    static let smolDefault = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

    /// A string value read from a GGUF header by TestSupport's own scanner (independent of the GGUF target).
    func metadataString(_ path: String, _ key: String) throws -> String? {
        let layout = try GGUFLayout(path: path)
        guard let kv = layout.kv(key), kv.valueType == 8 else { return nil }
        let n = Int(layout.header.readLE(UInt64.self, at: kv.valueOffset))
        return String(decoding: layout.header[(kv.valueOffset + 8)..<(kv.valueOffset + 8 + n)], as: UTF8.self)
    }

    func testSmolLMTemplateFromTheRealFile() throws {
        let path = try EngineModel.require(TestPaths.smollmFile)
        let text = try XCTUnwrap(try metadataString(path, "tokenizer.chat_template"))
        let template = ChatTemplate.detect(template: text, architecture: "llama")
        XCTAssertEqual(template, .chatML(defaultSystem: Self.smolDefault))
        // The renderings equal what the file's Jinja template renders (checked with jinja2 for these messages).
        XCTAssertEqual(template?.render(system: nil, user: "Hi"),
                       "<|im_start|>system\n\(Self.smolDefault)<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(template?.render(system: "S", user: "Hi"),
                       "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }

    func testChatMLWithoutADefaultSystemTurn() {
        let plain = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
        let t = ChatTemplate.detect(template: plain, architecture: "qwen2")
        XCTAssertEqual(t, .chatML(defaultSystem: nil))
        XCTAssertEqual(t?.render(system: nil, user: "U"), "<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(t?.render(system: "S", user: "U"),
                       "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n")
    }

    func testDefaultSystemTurnWithEscapedNewline() {
        // The same default written with the two characters \n inside a Jinja string literal.
        let escaped = "{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nBe brief.<|im_end|>\\n' }}{% endif %}"
        XCTAssertEqual(ChatTemplate.detect(template: escaped, architecture: "llama"), .chatML(defaultSystem: "Be brief."))
    }

    func testGemmaFormat() {
        XCTAssertNil(ChatTemplate.detect(template: nil, architecture: "gemma3"), "no template in the file: no chat formatting")
        XCTAssertEqual(ChatTemplate.detect(template: "{{ '<start_of_turn>' + role }}", architecture: "x"), .gemma)
        XCTAssertNil(ChatTemplate.detect(template: nil, architecture: "llama"))
        XCTAssertNil(ChatTemplate.detect(template: "{{ messages }}", architecture: "llama"), "unrecognised template")
        XCTAssertEqual(ChatTemplate.gemma.render(system: nil, user: "Why?"),
                       "<start_of_turn>user\nWhy?<end_of_turn>\n<start_of_turn>model\n")
        XCTAssertEqual(ChatTemplate.gemma.render(system: "Be brief.", user: "Why?"),
                       "<start_of_turn>user\nBe brief.\n\nWhy?<end_of_turn>\n<start_of_turn>model\n",
                       "Gemma has no system role: the system text leads the first user turn")
    }

    func testEnginePicksTheTemplate() throws {
        let smol = try EngineModel.smolLM()
        XCTAssertEqual(smol.chatTemplate, .chatML(defaultSystem: Self.smolDefault))
        let gemma = try EngineModel.load(TestPaths.gemmaFile)
        XCTAssertNil(gemma.chatTemplate, "gemma-3-270m (a base model) carries no template: prompts are used as is")
    }
}
