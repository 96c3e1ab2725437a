import Foundation
@testable import SLMEngine
import TestSupport
import XCTest

/// Prompt-lookup speculation inside the scheduler changes nothing: the texts and stats (draft counts and times aside)
/// equal those of a scheduler without it, alone or several at once, greedy and sampled; copy-heavy prompts draft.
final class SchedulerSpeculationTests: XCTestCase {
    func run(_ engine: Engine, _ requests: [GenerationRequest], speculation: Speculation, upTo: Int,
             together: Bool) throws -> [(String, GenerationStats)] {
        var options = SchedulerOptions()
        options.parallel = 4
        options.contextLength = 1024
        options.prefillChunk = 16
        options.speculation = speculation
        options.speculateUpTo = upTo
        let scheduler = try Scheduler(engine: engine, options: options)
        defer { scheduler.shutdown(grace: .seconds(1)) }
        var results: [(String, GenerationStats)] = []
        let logs = requests.map { _ in EventLog() }
        for (r, log) in zip(requests, logs) {
            _ = try scheduler.submit(ScheduledRequest(r, separateReasoning: false), onEvent: log.handler)
            if !together { XCTAssertTrue(log.wait()) }
        }
        for log in logs {
            if together { XCTAssertTrue(log.wait()) }
            XCTAssertNil(log.error)
            results.append((log.text(), try XCTUnwrap(log.stats)))
        }
        return results
    }

    func testSpeculationInTheSchedulerChangesNothing() throws {
        let engine = try Engine(modelPath: try EngineModel.require(TestPaths.smollmFile), threads: 2, maxBatch: 48)
        let copy = try SpeculationTests.prompts("speculation-copy.jsonl").prefix(3)
        for temperature: Float in [0, 0.8] {
            let requests = copy.enumerated().map { i, text -> GenerationRequest in
                var r = GenerationRequest(prompt: engine.tokenizeChat(try! engine.renderChat([.user(text)])), contextLength: 1024)
                r.maxTokens = 40
                r.sampling.temperature = temperature
                r.sampling.seed = UInt64(3 + i)
                return r
            }
            let off = try run(engine, requests, speculation: .off, upTo: 1, together: false)
            for (label, together, upTo) in [("one at a time", false, 1), ("together, speculating beside others", true, 4)] {
                let on = try run(engine, requests, speculation: Speculation(draftMax: 6), upTo: upTo, together: together)
                var drafted = 0
                for (i, (a, b)) in zip(off, on).enumerated() {
                    XCTAssertEqual(a.0, b.0, "t=\(temperature) \(label) request \(i)")
                    XCTAssertEqual(a.1.generatedTokens, b.1.generatedTokens)
                    XCTAssertEqual(a.1.stopReason, b.1.stopReason)
                    XCTAssertEqual(a.1.draftedTokens, 0)
                    XCTAssertLessThanOrEqual(b.1.acceptedTokens, b.1.draftedTokens)
                    drafted += b.1.draftedTokens
                }
                if temperature == 0 { XCTAssertGreaterThan(drafted, 0, "\(label): copy prompts draft") }
            }
        }
    }
}
