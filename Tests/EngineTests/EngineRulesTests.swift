import SLMEngine
import TestSupport
import XCTest

/// The rules commands and the server share, kept in the engine: the context a model can run with, a system turn
/// needs a chat template, a conversation needs one.
final class EngineRulesTests: XCTestCase {
    func unsupported(_ body: () throws -> Void, mentions: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case EngineError.unsupported(let message)? = error as? EngineError else {
                return XCTFail("not .unsupported: \(error)", file: file, line: line)
            }
            XCTAssertTrue(message.contains(mentions), message, file: file, line: line)
        }
    }

    func testContextLength() throws {
        let engine = try EngineModel.smolLM()
        XCTAssertEqual(try engine.contextLength(nil), engine.defaultContext)
        XCTAssertEqual(try engine.contextLength(512), 512)
        let trained = engine.config.trainedContextLength
        XCTAssertEqual(try engine.contextLength(trained), trained)
        unsupported({ _ = try engine.contextLength(trained + 1) }, mentions: "--ctx \(trained + 1) exceeds the model's trained context of \(trained)")
    }

    func testSystemTurnNeedsATemplate() throws {
        let gemma = try EngineModel.load(TestPaths.gemmaFile)
        XCTAssertNil(gemma.chatTemplate)
        // One user turn is the prompt as is; a system turn would be lost.
        XCTAssertEqual(try gemma.chatPrompt([.user("Hi")]), gemma.tokenizeChat("Hi"))
        unsupported({ _ = try gemma.chatPrompt([.system("Be brief."), .user("Hi")]) }, mentions: "--system")
        // With a template given, the system turn is rendered.
        let template = try ChatTemplate(source: "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}", origin: .file("t"))
        XCTAssertEqual(try gemma.chatPrompt([.system("S"), .user("U")], template: template), gemma.tokenizeChat("[system]S[user]U"))
        // A model with its own template renders it.
        let smol = try EngineModel.smolLM()
        XCTAssertEqual(try smol.chatPrompt([.system("S"), .user("U")]), smol.tokenizeChat(try smol.renderChat([.system("S"), .user("U")])))
    }

    func testConversationNeedsATemplate() throws {
        let gemma = try EngineModel.load(TestPaths.gemmaFile)
        unsupported({ _ = try ChatSession(engine: gemma, contextLength: 256) }, mentions: "--chat-template")
        let template = try ChatTemplate(source: "{% for m in messages %}{{ m.content }}{% endfor %}", origin: .file("t"))
        XCTAssertNoThrow(try ChatSession(engine: gemma, contextLength: 256, template: template))
    }
}
