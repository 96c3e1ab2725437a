import Foundation
import TestSupport
import XCTest

/// `slm generate` with speculation (the default) and `--no-speculate`: the same stdout, seeded sampling included; the
/// stats file and the summary report the drafts; bad flag values are usage errors.
final class SpeculationCommandTests: EndToEndTestCase {
    static let prompt = """
        Repeat the paragraph below exactly, but replace the word "river" with "canal" everywhere.

        The old mill stood at the bend of the river, where the water slowed and widened into a quiet pool. Every \
        morning the miller walked along the river to check the sluice gates, and every evening he sat on the wooden \
        bench by the river to watch the herons fishing in the shallows.
        """

    func stats(_ args: [String]) throws -> (SLMResult, [String: Any]) {
        let path = try makeScratch().appendingPathComponent("stats.json")
        let r = try SLM.succeed(args + ["--stats-file", path.path])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
        return (r, object)
    }

    func testSameOutputWithAndWithoutSpeculation() throws {
        _ = try requireSmolLM()
        for sampling in [["--temp", "0"], ["--temp", "0.8", "--seed", "9"]] {
            let args = ["generate", "--no-cache", "-n", "40"] + sampling + [Self.prompt]
            let (on, onStats) = try stats(args)
            let (off, offStats) = try stats(args + ["--no-speculate"])
            XCTAssertEqual(on.out, off.out, "\(sampling)")
            XCTAssertEqual(onStats["generated_tokens"] as? Int, offStats["generated_tokens"] as? Int)
            XCTAssertEqual(offStats["drafted_tokens"] as? Int, 0)
            XCTAssertEqual(offStats["accepted_tokens"] as? Int, 0)
            if sampling[1] == "0" {
                let drafted = try XCTUnwrap(onStats["drafted_tokens"] as? Int)
                XCTAssertGreaterThan(drafted, 0, "a copy prompt drafts: \(on.err)")
                XCTAssertTrue(on.err.contains("(drafted \(drafted), accepted "), on.err)
            }
        }
    }

    func testDraftModel() throws {
        let smollm = try requireSmolLM()
        let args = ["generate", "--no-cache", "-n", "32", "--temp", "0", "Write two sentences about autumn."]
        let (off, _) = try stats(args + ["--no-speculate"])
        let (on, onStats) = try stats(args + ["--draft-model", smollm])
        XCTAssertEqual(on.out, off.out)
        XCTAssertGreaterThan(try XCTUnwrap(onStats["drafted_tokens"] as? Int), 0, on.err)
        // A draft in another tokenizer's ids is refused, naming the flag.
        let gemma = try requireGemma()
        SLM.assertError(try SLM.run(args + ["--draft-model", gemma]), status: 1, mentions: ["--draft-model", "share a tokenizer"])
    }

    func testBadSpeculationFlagsAreUsageErrors() throws {
        for bad in [["--draft-max", "0"], ["--draft-max", "33"], ["--draft-min-match", "0"],
                    ["--no-speculate", "--draft-max", "4"], ["--no-speculate", "--draft-model", "smollm2-135m"]] {
            SLM.assertError(try SLM.run(["generate", "-n", "1"] + bad + ["hi"]), status: 2, mentions: ["--"])
        }
    }
}
