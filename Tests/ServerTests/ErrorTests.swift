import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SLMEngine
@testable import SLMServer
import XCTest

/// Bad requests get a 4xx in OpenAI's error shape naming the problem, and the server carries on.
final class ErrorTests: XCTestCase {
    nonisolated(unsafe) static var shared: ModelService?

    func service() throws -> ModelService {
        if let s = Self.shared { return s }
        let s = try ServerFixture.service(parallel: 2, context: 256, maxBody: 64 << 10)
        Self.shared = s
        return s
    }

    override class func tearDown() {
        shared?.scheduler.shutdown(grace: .seconds(1))
        shared = nil
    }

    func raw(_ client: some TestClientProtocol, _ uri: String, _ text: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: ServerFixture.jsonHeaders, body: ByteBuffer(string: text))
    }

    func testMalformedAndMistypedRequests() async throws {
        let app = buildApplication(service: try service())
        let chat = "/v1/chat/completions"
        let msgs = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"
        // (body, param named in the error)
        let cases: [(String, String?)] = [
            ("{not json", nil),
            ("[1,2,3]", nil),
            ("\u{FF}", nil),
            ("{}", "messages"),
            ("{\"messages\":[]}", "messages"),
            ("{\"messages\":\"hi\"}", "messages"),
            ("{\"messages\":[{\"content\":\"hi\"}]}", "messages[0].role"),
            ("{\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}", "messages[0].role"),
            ("{\"messages\":[{\"role\":\"user\",\"content\":42}]}", "messages[0].content"),
            ("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", "messages[0].content[0].type"),
            ("{\(msgs),\"max_tokens\":\"ten\"}", "max_tokens"),
            ("{\(msgs),\"max_tokens\":1.5}", "max_tokens"),
            ("{\(msgs),\"max_tokens\":1e300}", "max_tokens"),
            ("{\(msgs),\"max_tokens\":100000000000000000000000}", "max_tokens"),
            ("{\(msgs),\"max_tokens\":-5}", "max_tokens"),
            ("{\(msgs),\"max_tokens\":100000}", "max_tokens"),
            ("{\(msgs),\"temperature\":-1}", "temperature"),
            ("{\(msgs),\"temperature\":\"hot\"}", "temperature"),
            ("{\(msgs),\"top_p\":0}", "top_p"),
            ("{\(msgs),\"n\":2}", "n"),
            ("{\(msgs),\"stream\":\"yes\"}", "stream"),
            ("{\(msgs),\"stop\":[1,2]}", "stop"),
            ("{\(msgs),\"seed\":1e400}", "seed"),
            ("{\(msgs),\"logprobs\":true,\"top_logprobs\":50}", "top_logprobs"),
            ("{\(msgs),\"presence_penalty\":1}", "presence_penalty"),
            ("{\(msgs),\"response_format\":{\"type\":\"xml\"}}", "response_format.type"),
            ("{\(msgs),\"response_format\":{\"type\":\"json_schema\"}}", "response_format.json_schema"),
            ("{\(msgs),\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":\"frobnicate\"}}}}",
             "response_format.json_schema.schema"),
            ("{\(msgs),\"grammar\":\"root ::= undefined_rule\"}", "grammar"),
            ("{\(msgs),\"reasoning_budget\":\"lots\"}", "reasoning_budget"),
        ]
        try await app.test(.router) { client in
            for (body, param) in cases {
                let r = try await self.raw(client, chat, body)
                let e = try self.assertAPIError(r, 400)
                if let param { XCTAssertEqual(e["param"] as? String, param, body) }
                XCTAssertEqual(e["type"] as? String, "invalid_request_error", body)
            }
            let long = String(repeating: "word ", count: 400)
            let e = try self.assertAPIError(try await self.raw(client, chat,
                "{\"messages\":[{\"role\":\"user\",\"content\":\"\(long)\"}],\"max_tokens\":10}"), 400)
            XCTAssertEqual(e["code"] as? String, "context_length_exceeded")
            try self.assertAPIError(try await self.raw(client, "/v1/completions", "{\"prompt\":\"hi\",\"echo\":true}"), 400, param: "echo")
            // A schema whose shortest answer cannot fit max_tokens is refused up front.
            let tight = try self.assertAPIError(try await self.raw(client, chat,
                "{\(msgs),\"max_tokens\":2,\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"p\",\"schema\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}}}}"),
                400, param: "max_tokens")
            XCTAssertEqual(tight["code"] as? String, "max_tokens_too_small")
            try self.assertAPIError(try await self.raw(client, "/v1/completions", "{\"prompt\":[1,-2]}"), 400, param: "prompt")
            try self.assertAPIError(try await self.raw(client, "/v1/completions", "{\"prompt\":[\"a\",\"b\"]}"), 400, param: "prompt")
            try self.assertAPIError(try await self.raw(client, "/v1/completions", "{\"prompt\":\"\"}"), 400, param: "prompt")
            try self.assertAPIError(try await client.execute(uri: "/v2/everything", method: .get), 404)
            try self.assertAPIError(try await client.execute(uri: "/v1/chat/completions", method: .get), 404)
            // Too large a body: 413.
            let big = "{\"prompt\":\"" + String(repeating: "a", count: 70_000) + "\"}"
            try self.assertAPIError(try await self.raw(client, "/v1/completions", big), 413)
            // Deep nesting is refused by the parser's depth limit, not a crash.
            let deep = "{\"prompt\":\"x\",\"x\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
            try self.assertAPIError(try await self.raw(client, "/v1/completions", deep), 413)
            let deepSmall = "{\"prompt\":\"x\",\"x\":" + String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000) + "}"
            let nested = try self.assertAPIError(try await self.raw(client, "/v1/completions", deepSmall), 400)
            // A body that is not JSON says where, and names no schema (there is none).
            let message = nested["message"] as? String ?? ""
            XCTAssertTrue(message.hasPrefix("the request body is not valid JSON: invalid JSON at byte "), message)
            XCTAssertTrue(message.hasSuffix(": nested deeper than 256"), message)
            let broken = try self.assertAPIError(try await self.raw(client, chat, "{not json"), 400)
            XCTAssertEqual(broken["message"] as? String,
                           "the request body is not valid JSON: invalid JSON at byte 1: expected a key")
            // And it still serves.
            let ok = try await self.raw(client, chat, "{\(msgs),\"max_tokens\":3}")
            XCTAssertEqual(ok.status, .ok)
        }
    }

    func testAPIKey() async throws {
        let service = try ServerFixture.service(parallel: 1, context: 128, apiKey: "sk-local-test")
        defer { service.scheduler.shutdown(grace: .seconds(1)) }
        let app = buildApplication(service: service)
        try await app.test(.router) { client in
            let status = try await client.execute(uri: "/health", method: .get).status
            XCTAssertEqual(status, .ok)
            let missing = try self.assertAPIError(try await client.execute(uri: "/v1/models", method: .get), 401)
            XCTAssertEqual(missing["type"] as? String, "authentication_error")
            try self.assertAPIError(try await client.execute(uri: "/v1/models", method: .get,
                                                             headers: [.authorization: "Bearer sk-local-tesT"]), 401)
            try self.assertAPIError(try await client.execute(uri: "/metrics", method: .get,
                                                             headers: [.authorization: "sk-local-test"]), 401)
            let ok = try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer sk-local-test"])
            XCTAssertEqual(ok.status, .ok)
        }
        XCTAssertTrue(AuthMiddleware<BasicRequestContext>.equal(Array("abc".utf8), Array("abc".utf8)))
        XCTAssertFalse(AuthMiddleware<BasicRequestContext>.equal(Array("abc".utf8), Array("abcd".utf8)))
        XCTAssertFalse(AuthMiddleware<BasicRequestContext>.equal([], Array("a".utf8)))
    }

    /// A full queue answers 503 with Retry-After; the running request is unaffected.
    func testQueueFullIs503() async throws {
        let service = try ServerFixture.service(parallel: 1, context: 256, maxQueue: 0)
        defer { service.scheduler.shutdown(grace: .seconds(1)) }
        let app = buildApplication(service: service)
        try await app.test(.router) { client in
            let long = try ServerFixture.body(["prompt": "Tell me a long story.", "max_tokens": 60, "ignore_eos": true])
            async let first = client.execute(uri: "/v1/completions", method: .post, headers: ServerFixture.jsonHeaders, body: long)
            while service.scheduler.snapshot.running == 0 { try await Task.sleep(for: .milliseconds(5)) }
            let r = try await client.execute(uri: "/v1/completions", method: .post, headers: ServerFixture.jsonHeaders, body: long)
            let e = try self.assertAPIError(r, 503)
            XCTAssertEqual(e["code"] as? String, "queue_full")
            XCTAssertEqual(r.headers[.retryAfter], "1")
            let done = try await first
            XCTAssertEqual(done.status, .ok)
            XCTAssertEqual((try ServerFixture.json(done)["usage"] as? [String: Any])?["completion_tokens"] as? Int, 60)
        }
    }
}
