import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SLMEngine
@testable import SLMServer
import XCTest

/// Requests served together give exactly what they give alone: the batched engine's rows are bit-identical to single
/// runs and every request has its own seeded sampler.
final class ConcurrencyTests: XCTestCase {
    func testFourSeededStreamsAtOnceEqualOneAtATime() async throws {
        let service = try ServerFixture.service(parallel: 4, context: 512)
        defer { service.scheduler.shutdown(grace: .seconds(1)) }
        let app = buildApplication(service: service)
        let prompts = ["Write about the sea.", "Explain gravity simply.", "A haiku about bread.", "Why is the sky blue?"]
        @Sendable func body(_ i: Int) throws -> ByteBuffer {
            try ServerFixture.body(["messages": [["role": "user", "content": prompts[i]]], "max_tokens": 24 + 4 * i,
                                    "temperature": 0.8, "seed": 100 + i, "stream": true])
        }
        @Sendable func text(_ r: TestResponse) throws -> String {
            try ServerFixture.events(r).dropLast().map { try ServerFixture.object($0) }.compactMap {
                ((($0["choices"] as? [[String: Any]])?.first?["delta"]) as? [String: Any])?["content"] as? String
            }.joined()
        }
        try await app.test(.router) { client in
            var alone: [String] = []
            for i in 0..<4 {
                alone.append(try text(try await client.execute(uri: "/v1/chat/completions", method: .post,
                                                               headers: ServerFixture.jsonHeaders, body: try body(i))))
            }
            let together = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<4 {
                    let b = try body(i)
                    group.addTask {
                        (i, try text(try await client.execute(uri: "/v1/chat/completions", method: .post,
                                                              headers: ServerFixture.jsonHeaders, body: b)))
                    }
                }
                var out = [String](repeating: "", count: 4)
                for try await (i, t) in group { out[i] = t }
                return out
            }
            XCTAssertEqual(together, alone)
            XCTAssertTrue(alone.allSatisfy { !$0.isEmpty })
        }
        XCTAssertGreaterThan(service.scheduler.snapshot.generatedTokens, 0)
    }

    /// Requests decoded together share each step's time: the machine seconds they are charged add up to no more than
    /// the wall time they ran in (nobody pays for the same step twice).
    func testConcurrentRequestsShareTheMachineTime() async throws {
        let service = try ServerFixture.service(parallel: 4, context: 512)
        defer { service.scheduler.shutdown(grace: .seconds(1)) }
        let app = buildApplication(service: service)
        try await app.test(.router) { client in
            let start = ContinuousClock.now
            let seconds = try await withThrowingTaskGroup(of: Double.self) { group in
                for i in 0..<4 {
                    let b = try ServerFixture.body(["prompt": "Count to ten: one,", "max_tokens": 32, "ignore_eos": true, "seed": i])
                    group.addTask {
                        let r = try await client.execute(uri: "/v1/completions", method: .post, headers: ServerFixture.jsonHeaders, body: b)
                        let u = try ServerFixture.json(r)["usage"] as? [String: Any]
                        return (u?["local_cost"] as? [String: Any])?["seconds"] as? Double ?? -1
                    }
                }
                var all: [Double] = []
                for try await s in group { all.append(s) }
                return all
            }
            let (s, atto) = (ContinuousClock.now - start).components
            let wall = Double(s) + Double(atto) / 1e18
            XCTAssertTrue(seconds.allSatisfy { $0 > 0 }, "\(seconds)")
            XCTAssertLessThanOrEqual(seconds.reduce(0, +), wall, "charged \(seconds) within \(wall) s")
        }
    }

    /// A system prompt shared by requests is prefilled once: later requests report it as cached tokens.
    func testSharedSystemPromptIsCached() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slm-server-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let service = try ServerFixture.service(parallel: 4, context: 1024, cacheDirectory: dir.path)
        defer { service.scheduler.shutdown(grace: .seconds(1)) }
        let app = buildApplication(service: service)
        let system = String(repeating: "Answer as a helpful librarian who knows every book. ", count: 10)
        try await app.test(.router) { client in
            let cached = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<4 {
                    let b = try ServerFixture.body(["messages": [["role": "system", "content": system],
                                                                 ["role": "user", "content": "Book \(i)?"]], "max_tokens": 3])
                    group.addTask {
                        let r = try await client.execute(uri: "/v1/chat/completions", method: .post,
                                                         headers: ServerFixture.jsonHeaders, body: b)
                        let u = try ServerFixture.json(r)["usage"] as? [String: Any]
                        return (u?["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int ?? -1
                    }
                }
                var all: [Int] = []
                for try await c in group { all.append(c) }
                return all.sorted()
            }
            XCTAssertEqual(cached[0], 0, "the first request computes the system prompt")
            XCTAssertTrue(cached[1...].allSatisfy { $0 >= 96 }, "the others restore it: \(cached)")
        }
    }
}
