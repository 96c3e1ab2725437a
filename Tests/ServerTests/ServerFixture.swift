import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SLMEngine
@testable import SLMServer
import TestSupport
import XCTest

/// A model service on SmolLM2 with the server's defaults scaled down, and helpers to call the application in-process.
enum ServerFixture {
    static func modelPath() throws -> String {
        guard let path = TestPaths.model(TestPaths.smollmFile) else {
            if TestPaths.isCI { XCTFail("model missing; the CI test command fetches it first") }
            throw XCTSkip("SmolLM2 not in the store; run tools/fetch-models")
        }
        return path
    }

    static func service(parallel: Int = 4, context: Int = 512, maxQueue: Int = 16, apiKey: String? = nil,
                        thinkBudget: Int? = nil, cacheDirectory: String? = nil, maxBody: Int = 1 << 20) throws -> ModelService {
        let engine = try Engine(modelPath: try modelPath(), threads: 2, maxBatch: 64 + parallel * 4)
        var s = SchedulerOptions()
        s.parallel = parallel
        s.contextLength = context
        s.maxQueue = maxQueue
        s.prefillChunk = 64
        if let dir = cacheDirectory {
            var o = PrefixCacheOptions()
            o.directory = dir
            s.prefixCache = PrefixCache(layout: KVLayout(engine: engine), options: o)
        }
        var o = ServerOptions()
        o.modelName = "smollm2-135m"
        o.apiKey = apiKey
        o.thinkBudget = thinkBudget
        o.maxBodyBytes = maxBody
        return try ModelService(engine: engine, scheduler: s, options: o)
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
        guard let dict = object as? [String: Any] else { throw XCTSkip("not an object: \(String(buffer: response.body))") }
        return dict
    }

    static func body(_ object: [String: Any]) throws -> ByteBuffer {
        ByteBuffer(data: try JSONSerialization.data(withJSONObject: object))
    }

    static var jsonHeaders: HTTPFields { [.contentType: "application/json"] }

    /// The `data:` payloads of a server-sent-event body, in order.
    static func events(_ response: TestResponse) -> [String] {
        String(buffer: response.body).components(separatedBy: "\n\n").compactMap { block in
            block.hasPrefix("data: ") ? String(block.dropFirst(6)) : nil
        }
    }

    static func object(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }
}

extension XCTestCase {
    /// Asserts OpenAI's error shape and status; returns the error object.
    @discardableResult
    func assertAPIError(_ r: TestResponse, _ status: Int, param: String? = nil, file: StaticString = #filePath,
                        line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(Int(r.status.code), status, String(buffer: r.body), file: file, line: line)
        let e = try ServerFixture.json(r)["error"] as? [String: Any] ?? [:]
        XCTAssertFalse((e["message"] as? String ?? "").isEmpty, file: file, line: line)
        XCTAssertNotNil(e["type"] as? String, file: file, line: line)
        XCTAssertTrue(e.keys.contains("param") && e.keys.contains("code"), file: file, line: line)
        if let param { XCTAssertEqual(e["param"] as? String, param, file: file, line: line) }
        return e
    }
}
