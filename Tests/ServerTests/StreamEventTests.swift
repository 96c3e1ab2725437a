import SLMEngine
@testable import SLMServer
import XCTest

/// A token's stream event, written from its chunk's text cut in two, is byte for byte the event the chunk builder
/// makes.
final class StreamEventTests: XCTestCase {
    func testTextEventEqualsTheBuiltChunk() throws {
        let service = try ServerFixture.service(parallel: 1)
        defer { service.scheduler.shutdown(grace: .seconds(1)) }
        let texts = ["", "a", " owls", "\"quoted\" \\ back\\", "line\nbreak\ttab\r", "\u{0}\u{1}\u{1f}\u{7f}",
                     "é漢字🦉", "data: [DONE]\n\n", "\"delta\":{\"content\":\"\"", "\"index\":0,\"text\":\"\""]
        // A model name that spells the fields the template looks for must not move the cut.
        for model in ["smollm2-135m", "x\"delta\":{\"content\":\"\"\"index\":0,\"text\":\"\"\"reasoning_content\":\"\""] {
            for kind in [CompletionResponse.Kind.chat, .text] {
                let builder = CompletionResponse(kind: kind, model: model, service: service, logprobs: nil)
                let content = builder.textEvent(reasoning: false)
                for t in texts {
                    XCTAssertEqual(content.event(t), "data: " + builder.chunk(content: t).serialized + "\n\n")
                }
                guard kind == .chat else { continue }
                let reasoning = builder.textEvent(reasoning: true)
                for t in texts {
                    XCTAssertEqual(reasoning.event(t), "data: " + builder.chunk(reasoning: t).serialized + "\n\n")
                }
                XCTAssertNotEqual(content.event("x"), reasoning.event("x"))
            }
        }
    }

    /// With logprobs requested, the chunk the template stands for still has `"logprobs":null` only when no token is
    /// attached: the controller takes the template only then.
    func testTemplateChunkHasNoLogprobs() throws {
        let service = try ServerFixture.service(parallel: 1)
        defer { service.scheduler.shutdown(grace: .seconds(1)) }
        let builder = CompletionResponse(kind: .chat, model: "m", service: service, logprobs: 2)
        let event = builder.textEvent(reasoning: false).event("hi")
        let object = try ServerFixture.object(String(event.dropFirst(6)))
        let choice = try XCTUnwrap((object["choices"] as? [[String: Any]])?.first)
        XCTAssertTrue(choice["logprobs"] is NSNull)
        XCTAssertTrue(choice["finish_reason"] is NSNull)
        XCTAssertEqual((choice["delta"] as? [String: Any])?["content"] as? String, "hi")
        XCTAssertEqual(object["object"] as? String, "chat.completion.chunk")
    }
}
