import Foundation
import SLMEngine
import TestSupport
import XCTest

/// Multi-turn chat keeps the conversation's KV: the second turn prefills only what the first did not already hold,
/// and its reply equals that of a session that computes the whole conversation cold.
final class ChatSessionTests: XCTestCase {
    func session(_ engine: Engine) throws -> ChatSession {
        let s = try ChatSession(engine: engine, contextLength: 1024)
        s.sampling.temperature = 0
        s.maxTokens = 24
        return s
    }

    func testSecondTurnPrefillsOnlyTheNewTokens() throws {
        let engine = try EngineModel.smolLM()
        let chat = try session(engine)
        chat.setSystem("Be brief.")
        var first = ""
        let s1 = try chat.send("Name a fruit.") { first += $0 }
        XCTAssertEqual(s1.reusedTokens, 0)
        XCTAssertEqual(s1.prefilledTokens, s1.promptTokens)
        var second = ""
        let s2 = try chat.send("Name another one.") { second += $0 }
        // Everything the first turn ran through the model (its prompt and the reply tokens fed back) is reused, up to
        // where the re-rendered reply's tokens differ, which for this reply is nowhere.
        let fedBack = s1.stopReason == .eos ? s1.generatedTokens : s1.generatedTokens - 1
        XCTAssertEqual(s2.reusedTokens, s1.promptTokens + fedBack)
        XCTAssertEqual(s2.prefilledTokens, s2.promptTokens - s2.reusedTokens)
        let newTurn = engine.tokenizeChat(try engine.renderChat(chat.messages.dropLast().map { $0 }))
        XCTAssertEqual(s2.promptTokens, newTurn.count)
        XCTAssertLessThan(s2.prefilledTokens, 30, "only the end of turn 1 and the new user turn")
        XCTAssertEqual(chat.messages.map(\.role), ["system", "user", "assistant", "user", "assistant"])
        XCTAssertEqual(chat.messages[2].content, first)
        XCTAssertEqual(chat.messages[4].content, second)

        // Metamorphic: a new session given the same history computes it all, and replies the same (greedy).
        let cold = try session(engine)
        cold.replaceMessages(Array(chat.messages.prefix(3)))
        var coldReply = ""
        let c = try cold.send("Name another one.") { coldReply += $0 }
        XCTAssertEqual(c.reusedTokens, 0)
        XCTAssertEqual(coldReply, second)
    }

    func testInterruptKeepsThePartialReply() throws {
        let engine = try EngineModel.smolLM()
        let chat = try session(engine)
        chat.maxTokens = 200
        var polls = 0
        var text = ""
        let s = try chat.send("Write a long story about a dragon.", interrupted: { polls += 1; return polls > 5 }) { text += $0 }
        XCTAssertEqual(s.stopReason, .interrupted)
        XCTAssertEqual(s.generatedTokens, 5)
        XCTAssertEqual(chat.messages.last?.role, "assistant")
        XCTAssertEqual(chat.messages.last?.content, text)
        // The next turn still works and reuses the interrupted one.
        chat.maxTokens = 8
        let next = try chat.send("Continue.") { _ in }
        XCTAssertGreaterThan(next.reusedTokens, s.promptTokens)
    }

    func testResetKeepsTheSystemTurnAndFailuresLeaveTheConversation() throws {
        let engine = try EngineModel.smolLM()
        let chat = try session(engine)
        chat.setSystem("S1")
        _ = try chat.send("Hi") { _ in }
        chat.reset()
        XCTAssertEqual(chat.messages, [.system("S1")])
        chat.setSystem("S2")
        XCTAssertEqual(chat.messages, [.system("S2")])
        chat.setSystem(nil)
        XCTAssertEqual(chat.messages, [])
        let small = try ChatSession(engine: engine, contextLength: 64)
        small.maxTokens = 60
        XCTAssertThrowsError(try small.send("Hello there, how are you?") { _ in }) { error in
            XCTAssertTrue("\(error)".contains("exceeds the context"), "\(error)")
        }
        XCTAssertEqual(small.messages, [], "a failed turn leaves the conversation as it was")
    }

    func testSlidingWindowModelsStartAgainWhenTheyCannotRewind() throws {
        // gemma-3-270m has no template of its own; a ChatML-style template lets it chat. Its sliding-window layers
        // hold 512 positions, so a rewind inside a long prompt works only near the end; the session falls back to a
        // cold prefill rather than failing.
        let engine = try EngineModel.load(TestPaths.gemmaFile)
        let template = try ChatTemplate(source: "{% for m in messages %}<start_of_turn>{{ m.role }}\n{{ m.content }}<end_of_turn>\n{% endfor %}<start_of_turn>model\n", origin: .file("t"))
        let chat = try ChatSession(engine: engine, contextLength: 2048, template: template)
        chat.sampling.temperature = 0
        chat.maxTokens = 8
        chat.setSystem(String(repeating: "Background text. ", count: 200))
        let s1 = try chat.send("Say hi.") { _ in }
        let s2 = try chat.send("Say bye.") { _ in }
        XCTAssertGreaterThan(s1.promptTokens, 600)
        // Turn 1's prompt ended "model\n"; re-rendered with the reply after it the newline may tokenize with the reply,
        // so the shared prefix can stop a token short of turn 1's prompt: still far past the 512-position window.
        XCTAssertGreaterThan(s2.reusedTokens, s1.promptTokens - 4, "a rewind near the end keeps the window layers' rows")
        chat.setSystem("Short.")
        let s3 = try chat.send("Again.") { _ in }
        XCTAssertEqual(s3.reusedTokens, 0, "a rewind to the start of a >512-token sequence falls back to a cold prefill")
        XCTAssertEqual(s3.prefilledTokens, s3.promptTokens)
    }
}
