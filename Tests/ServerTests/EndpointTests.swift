import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SLMEngine
@testable import SLMServer
import XCTest

/// Every endpoint in-process (HummingbirdTesting's router mode), on SmolLM2: OpenAI's shapes, field by field.
final class EndpointTests: XCTestCase {
    nonisolated(unsafe) static var shared: ModelService?

    func service() throws -> ModelService {
        if let s = Self.shared { return s }
        let s = try ServerFixture.service()
        Self.shared = s
        return s
    }

    override class func tearDown() {
        shared?.scheduler.shutdown(grace: .seconds(1))
        shared = nil
    }

    func post(_ client: some TestClientProtocol, _ uri: String, _ body: [String: Any]) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: ServerFixture.jsonHeaders, body: try ServerFixture.body(body))
    }

    func testHealthModelsAndMetrics() async throws {
        let app = buildApplication(service: try service())
        try await app.test(.router) { client in
            let h = try await client.execute(uri: "/health", method: .get)
            XCTAssertEqual(h.status, .ok)
            XCTAssertEqual(try ServerFixture.json(h)["status"] as? String, "ok")
            let m = try ServerFixture.json(try await client.execute(uri: "/v1/models", method: .get))
            XCTAssertEqual(m["object"] as? String, "list")
            let data = m["data"] as? [[String: Any]] ?? []
            XCTAssertEqual(data.first?["id"] as? String, "smollm2-135m")
            XCTAssertEqual(data.first?["object"] as? String, "model")
            XCTAssertNotNil(data.first?["created"] as? Int)
            let status = try await client.execute(uri: "/v1/models/smollm2-135m", method: .get).status
            XCTAssertEqual(status, .ok)
            try self.assertAPIError(try await client.execute(uri: "/v1/models/gpt-4o", method: .get), 404, param: "model")
            _ = try await self.post(client, "/v1/completions", ["prompt": "Hi", "max_tokens": 2])
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            for name in ["slm_requests_total", "slm_prompt_tokens_total", "slm_cached_tokens_total", "slm_generated_tokens_total",
                         "slm_reasoning_tokens_total", "slm_time_to_first_token_seconds", "slm_inter_token_latency_seconds",
                         "slm_queue_depth", "slm_running_sequences", "slm_kv_bytes_in_use", "slm_prefix_cache_hit_ratio",
                         "slm_local_cost_usd", "slm_cloud_equivalent_cost_usd"] {
                XCTAssertTrue(metrics.contains(name), "missing \(name)")
            }
            XCTAssertTrue(metrics.contains("endpoint=\"/v1/completions\""))
        }
    }

    func testChatCompletionShape() async throws {
        let app = buildApplication(service: try service())
        try await app.test(.router) { client in
            let r = try await self.post(client, "/v1/chat/completions", [
                "model": "gpt-4o-mini",  // clients send their cloud model's name: accepted, echoed
                "messages": [["role": "system", "content": "Be brief."],
                             ["role": "user", "content": [["type": "text", "text": "Say hello."]]]],
                "max_tokens": 12, "temperature": 0, "unknown_field": ["ignored": true],
            ])
            XCTAssertEqual(r.status, .ok, String(buffer: r.body))
            XCTAssertEqual(r.headers[.contentType], "application/json")
            // The connection ends after an answer (it was watched for the client leaving): keep-alive clients are told.
            XCTAssertEqual(r.headers[.connection], "close")
            let o = try ServerFixture.json(r)
            XCTAssertTrue((o["id"] as? String ?? "").hasPrefix("chatcmpl-"))
            XCTAssertEqual(o["object"] as? String, "chat.completion")
            XCTAssertEqual(o["model"] as? String, "gpt-4o-mini")
            XCTAssertNotNil(o["created"] as? Int)
            let choice = (o["choices"] as? [[String: Any]])?.first ?? [:]
            XCTAssertEqual(choice["index"] as? Int, 0)
            let message = choice["message"] as? [String: Any] ?? [:]
            XCTAssertEqual(message["role"] as? String, "assistant")
            XCTAssertFalse((message["content"] as? String ?? "").isEmpty)
            XCTAssertTrue(["stop", "length"].contains(choice["finish_reason"] as? String ?? ""))
            XCTAssertTrue(choice.keys.contains("logprobs"))
            let u = o["usage"] as? [String: Any] ?? [:]
            let prompt = u["prompt_tokens"] as? Int ?? -1, completion = u["completion_tokens"] as? Int ?? -1
            XCTAssertGreaterThan(prompt, 5)
            XCTAssertGreaterThan(completion, 0)
            XCTAssertLessThanOrEqual(completion, 12)
            XCTAssertEqual(u["total_tokens"] as? Int, prompt + completion)
            XCTAssertEqual((u["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int, 0)
            XCTAssertEqual((u["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"] as? Int, 0)
            // slm's extension: the request's machine time at the hardware's price, and the reference cloud model's bill.
            let cost = u["local_cost"] as? [String: Any] ?? [:]
            let seconds = cost["seconds"] as? Double ?? -1, perHour = cost["usd_per_hour"] as? Double ?? -1
            XCTAssertGreaterThan(seconds, 0)
            XCTAssertGreaterThan(perHour, 0)
            XCTAssertEqual(cost["usd"] as? Double ?? -1, seconds * perHour / 3600, accuracy: 1e-12)
            XCTAssertFalse((cost["hardware"] as? String ?? "").isEmpty)
            let cloud = cost["cloud_equivalent"] as? [String: Any] ?? [:]
            XCTAssertEqual(cloud["model"] as? String, "gpt-4o-mini")
            let ref = try XCTUnwrap(PriceTable.builtIn.row(named: "gpt-4o-mini"))
            let f = try self.service().options.cloudTokensPerLocalToken
            let expected = (Double(prompt) * f).rounded() * ref.inputUSDPerMTok / 1e6 + (Double(completion) * f).rounded() * ref.outputUSDPerMTok / 1e6
            XCTAssertEqual(cloud["usd"] as? Double ?? -1, expected, accuracy: 1e-12)
        }
    }

    func testChatStreamingWithUsage() async throws {
        let app = buildApplication(service: try service())
        try await app.test(.router) { client in
            let body: [String: Any] = ["messages": [["role": "user", "content": "Count to five."]], "max_tokens": 10,
                                       "stream": true, "stream_options": ["include_usage": true], "seed": 3]
            let r = try await self.post(client, "/v1/chat/completions", body)
            XCTAssertEqual(r.status, .ok)
            XCTAssertEqual(r.headers[.contentType], "text/event-stream")
            let events = ServerFixture.events(r)
            XCTAssertEqual(events.last, "[DONE]")
            let chunks = try events.dropLast().map { try ServerFixture.object($0) }
            XCTAssertGreaterThanOrEqual(chunks.count, 3)
            for c in chunks {
                XCTAssertEqual(c["object"] as? String, "chat.completion.chunk")
                XCTAssertEqual(c["id"] as? String, chunks[0]["id"] as? String)
            }
            let first = (chunks[0]["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
            XCTAssertEqual(first?["role"] as? String, "assistant")
            let usageChunk = chunks[chunks.count - 1]
            XCTAssertEqual((usageChunk["choices"] as? [Any])?.count, 0)
            let usage = usageChunk["usage"] as? [String: Any] ?? [:]
            let finishChunk = (chunks[chunks.count - 2]["choices"] as? [[String: Any]])?.first ?? [:]
            XCTAssertTrue(["stop", "length"].contains(finishChunk["finish_reason"] as? String ?? ""))
            let text = chunks.compactMap { c in
                ((c["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String
            }.joined()
            // The same request without streaming gives the same text (same seed).
            var plain = body
            plain["stream"] = false
            plain["stream_options"] = nil
            let o = try ServerFixture.json(try await self.post(client, "/v1/chat/completions", plain))
            let message = ((o["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
            XCTAssertEqual(text, message)
            XCTAssertEqual(usage["completion_tokens"] as? Int, (o["usage"] as? [String: Any])?["completion_tokens"] as? Int)
        }
    }

    func testCompletionsWithTextAndTokenPrompts() async throws {
        let service = try service()
        let app = buildApplication(service: service)
        try await app.test(.router) { client in
            let a = try ServerFixture.json(try await self.post(client, "/v1/completions",
                                                               ["prompt": "The capital of France is", "max_tokens": 5, "temperature": 0]))
            XCTAssertEqual(a["object"] as? String, "text_completion")
            XCTAssertTrue((a["id"] as? String ?? "").hasPrefix("cmpl-"))
            let text = (a["choices"] as? [[String: Any]])?.first?["text"] as? String ?? ""
            XCTAssertFalse(text.isEmpty)
            let ids = service.tokenize("The capital of France is").map { Int($0) }
            let b = try ServerFixture.json(try await self.post(client, "/v1/completions",
                                                               ["prompt": ids, "max_tokens": 5, "temperature": 0]))
            XCTAssertEqual((b["choices"] as? [[String: Any]])?.first?["text"] as? String, text)
            // Default max_tokens is OpenAI's 16.
            let c = try ServerFixture.json(try await self.post(client, "/v1/completions",
                                                               ["prompt": "Once upon a time", "ignore_eos": true]))
            XCTAssertEqual((c["usage"] as? [String: Any])?["completion_tokens"] as? Int, 16)
            // Streaming text completions.
            let s = try await self.post(client, "/v1/completions", ["prompt": "The capital of France is", "max_tokens": 5,
                                                                     "temperature": 0, "stream": true])
            let streamed = try ServerFixture.events(s).dropLast().map { try ServerFixture.object($0) }.compactMap {
                ($0["choices"] as? [[String: Any]])?.first?["text"] as? String
            }.joined()
            XCTAssertEqual(streamed, text)
        }
    }

    func testSeedStopAndLogprobs() async throws {
        let app = buildApplication(service: try service())
        try await app.test(.router) { client in
            let body: [String: Any] = ["messages": [["role": "user", "content": "Write a sentence about cats."]],
                                       "max_tokens": 20, "temperature": 0.9, "seed": 1234]
            let texts = try await (0..<2).asyncMap { _ in
                let o = try ServerFixture.json(try await self.post(client, "/v1/chat/completions", body))
                return ((o["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String ?? ""
            }
            XCTAssertEqual(texts[0], texts[1], "same seed, same text")
            // A stop string taken from that text ends the answer right before it.
            let words = texts[0].split(separator: " ")
            if words.count > 3 {
                var stopped = body
                stopped["stop"] = [" " + words[2]]
                let o = try ServerFixture.json(try await self.post(client, "/v1/chat/completions", stopped))
                let choice = (o["choices"] as? [[String: Any]])?.first ?? [:]
                XCTAssertEqual((choice["message"] as? [String: Any])?["content"] as? String,
                               String(texts[0][..<texts[0].range(of: " " + words[2])!.lowerBound]))
                XCTAssertEqual(choice["finish_reason"] as? String, "stop")
            }
            var lp = body
            lp["logprobs"] = true
            lp["top_logprobs"] = 2
            lp["max_tokens"] = 4
            let o = try ServerFixture.json(try await self.post(client, "/v1/chat/completions", lp))
            let content = ((o["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any])?["content"] as? [[String: Any]] ?? []
            XCTAssertEqual(content.count, (o["usage"] as? [String: Any])?["completion_tokens"] as? Int)
            for e in content {
                XCTAssertNotNil(e["token"] as? String)
                XCTAssertLessThanOrEqual(e["logprob"] as? Double ?? 1, 0)
                XCTAssertNotNil(e["bytes"] as? [Int])
                XCTAssertEqual((e["top_logprobs"] as? [[String: Any]])?.count, 2)
            }
        }
    }

    func testJSONSchemaAnswerAndGrammar() async throws {
        let app = buildApplication(service: try service())
        try await app.test(.router) { client in
            let schema: [String: Any] = ["type": "object",
                                         "properties": ["name": ["type": "string"], "age": ["type": "integer"]],
                                         "required": ["name", "age"]]
            let o = try ServerFixture.json(try await self.post(client, "/v1/chat/completions", [
                "messages": [["role": "user", "content": "Give me a person as JSON."]], "max_tokens": 60, "seed": 5,
                "response_format": ["type": "json_schema", "json_schema": ["name": "person", "schema": schema, "strict": true]],
            ]))
            let content = ((o["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String ?? ""
            let parsed = try JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any]
            XCTAssertNotNil(parsed?["name"] as? String, content)
            XCTAssertNotNil(parsed?["age"] as? Int, content)
            let g = try ServerFixture.json(try await self.post(client, "/v1/completions", [
                "prompt": "Answer yes or no: is the sky blue?", "grammar": "root ::= \"yes\" | \"no\"", "max_tokens": 5,
            ]))
            XCTAssertTrue(["yes", "no"].contains((g["choices"] as? [[String: Any]])?.first?["text"] as? String ?? ""))
            let j = try ServerFixture.json(try await self.post(client, "/v1/chat/completions", [
                "messages": [["role": "user", "content": "A JSON list of two numbers."]], "max_tokens": 100,
                "response_format": ["type": "json_object"], "seed": 9,
            ]))
            let any = ((j["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String ?? ""
            XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(any.utf8), options: .fragmentsAllowed), any)
        }
    }

    func testReasoningBudgetSeparatesReasoning() async throws {
        let app = buildApplication(service: try service())
        try await app.test(.router) { client in
            let o = try ServerFixture.json(try await self.post(client, "/v1/chat/completions", [
                "messages": [["role": "user", "content": "Is 17 prime?"]], "max_tokens": 40, "reasoning_budget": 10, "seed": 2,
            ]))
            let choice = (o["choices"] as? [[String: Any]])?.first ?? [:]
            let message = choice["message"] as? [String: Any] ?? [:]
            let reasoning = message["reasoning_content"] as? String ?? ""
            XCTAssertFalse(reasoning.isEmpty)
            XCTAssertFalse(reasoning.contains("<think>") || reasoning.contains("</think>"))
            XCTAssertEqual(((o["usage"] as? [String: Any])?["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"] as? Int, 10)
            // Streamed: reasoning arrives as delta.reasoning_content.
            let s = try await self.post(client, "/v1/chat/completions", [
                "messages": [["role": "user", "content": "Is 17 prime?"]], "max_tokens": 40, "reasoning_budget": 10,
                "seed": 2, "stream": true,
            ])
            let deltas = try ServerFixture.events(s).dropLast().map { try ServerFixture.object($0) }.compactMap {
                ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
            }
            XCTAssertEqual(deltas.compactMap { $0["reasoning_content"] as? String }.joined(), reasoning)
            XCTAssertEqual(deltas.compactMap { $0["content"] as? String }.joined(), message["content"] as? String)
        }
    }

    func testTokenizeDetokenize() async throws {
        let app = buildApplication(service: try service())
        try await app.test(.router) { client in
            let t = try ServerFixture.json(try await self.post(client, "/tokenize", ["content": "Hello world"]))
            let ids = t["tokens"] as? [Int] ?? []
            XCTAssertEqual(ids, [19556, 905])
            let d = try ServerFixture.json(try await self.post(client, "/detokenize", ["tokens": ids]))
            XCTAssertEqual(d["content"] as? String, "Hello world")
            let p = try ServerFixture.json(try await self.post(client, "/tokenize", ["content": "Hello world", "with_pieces": true]))
            XCTAssertEqual(((p["tokens"] as? [[String: Any]])?.last)?["piece"] as? String, " world")
            try self.assertAPIError(try await self.post(client, "/detokenize", ["tokens": [-1]]), 400, param: "tokens")
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ body: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await body(e)) }
        return out
    }
}

/// Tool calls through /v1/chat/completions: the reply is constrained to a call of the named tool with arguments valid
/// under its schema, and answered in OpenAI's `tool_calls` shape.
final class ToolCallEndpointTests: XCTestCase {
    func testRequiredToolCallParsesAndValidates() async throws {
        let service = try ServerFixture.service(parallel: 2, context: 1024)
        defer { service.scheduler.shutdown(grace: .seconds(1)) }
        let app = buildApplication(service: service)
        let tools: [[String: Any]] = [["type": "function", "function": [
            "name": "get_weather", "description": "Current weather in a city",
            "parameters": ["type": "object", "properties": ["city": ["type": "string"],
                                                            "unit": ["type": "string", "enum": ["c", "f"]]],
                           "required": ["city", "unit"]]]]]
        try await app.test(.router) { client in
            for seed in 0..<3 {
                for stream in [false, true] {
                    let body = try ServerFixture.body([
                        "messages": [["role": "user", "content": "What's the weather in Paris?"]], "tools": tools,
                        "tool_choice": ["type": "function", "function": ["name": "get_weather"]], "max_tokens": 80,
                        "temperature": 1.0, "seed": seed, "stream": stream])
                    let r = try await client.execute(uri: "/v1/chat/completions", method: .post,
                                                     headers: ServerFixture.jsonHeaders, body: body)
                    XCTAssertEqual(r.status, .ok, String(buffer: r.body))
                    var calls: [[String: Any]] = []
                    var finish: String?
                    if stream {
                        for e in ServerFixture.events(r).dropLast() {
                            let choice = (try ServerFixture.object(e)["choices"] as? [[String: Any]])?.first
                            calls += (choice?["delta"] as? [String: Any])?["tool_calls"] as? [[String: Any]] ?? []
                            if let f = choice?["finish_reason"] as? String { finish = f }
                        }
                    } else {
                        let choice = (try ServerFixture.json(r)["choices"] as? [[String: Any]])?.first
                        calls = (choice?["message"] as? [String: Any])?["tool_calls"] as? [[String: Any]] ?? []
                        finish = choice?["finish_reason"] as? String
                    }
                    XCTAssertEqual(finish, "tool_calls", "seed \(seed) stream \(stream)")
                    XCTAssertEqual(calls.count, 1)
                    let function = calls.first?["function"] as? [String: Any]
                    XCTAssertEqual(function?["name"] as? String, "get_weather")
                    XCTAssertEqual(calls.first?["type"] as? String, "function")
                    XCTAssertNotNil(calls.first?["id"] as? String)
                    let args = try JSONSerialization.jsonObject(with: Data((function?["arguments"] as? String ?? "").utf8)) as? [String: Any]
                    XCTAssertNotNil(args?["city"] as? String)
                    XCTAssertTrue(["c", "f"].contains(args?["unit"] as? String ?? ""), "\(String(describing: args))")
                }
            }
            // tool_choice naming an unknown tool, and tools beside response_format, are refused.
            let bad = try ServerFixture.body(["messages": [["role": "user", "content": "Hi"]], "tools": tools,
                                              "tool_choice": ["type": "function", "function": ["name": "nope"]]])
            try self.assertAPIError(try await client.execute(uri: "/v1/chat/completions", method: .post,
                                                             headers: ServerFixture.jsonHeaders, body: bad), 400, param: "tool_choice")
            let both = try ServerFixture.body(["messages": [["role": "user", "content": "Hi"]], "tools": tools,
                                               "response_format": ["type": "json_object"]])
            try self.assertAPIError(try await client.execute(uri: "/v1/chat/completions", method: .post,
                                                             headers: ServerFixture.jsonHeaders, body: both), 400, param: "tools")
            // A conversation with the call and its result renders and answers.
            let followUp = try ServerFixture.body(["messages": [
                ["role": "user", "content": "What's the weather in Paris?"],
                ["role": "assistant", "content": NSNull(), "tool_calls": [["id": "call_0", "type": "function",
                    "function": ["name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"c\"}"]]]],
                ["role": "tool", "tool_call_id": "call_0", "content": "{\"temp\": 18}"]],
                "tools": tools, "tool_choice": "none", "max_tokens": 12])
            let r = try await client.execute(uri: "/v1/chat/completions", method: .post,
                                             headers: ServerFixture.jsonHeaders, body: followUp)
            XCTAssertEqual(r.status, .ok, String(buffer: r.body))
        }
    }
}
