import Foundation
import TestSupport
import XCTest

/// SLM_MATMUL=blas (OpenBLAS sgemm for several-token products over unpacked weights; with SLM_PACK=0 that is every
/// matrix): `slm info` says so, the prefix cache keeps its blocks apart from runs without it (either way), and
/// `generate` does not speculate under it.
final class OpenBLASPathTests: EndToEndTestCase {
    func run(_ args: [String], blas: Bool, stats: URL) throws -> (SLMResult, [String: Any]) {
        var env = ["SLM_PACK": "0"]
        if blas { env["SLM_MATMUL"] = "blas" }
        let r = try SLM.run(args + ["--stats-file", stats.path], env: env)
        XCTAssertEqual(r.status, 0, r.summary)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: stats)) as? [String: Any])
        return (r, object)
    }

    func testInfoNamesTheBLASPath() throws {
        _ = try requireSmolLM()
        for blas in [false, true] {
            let r = try SLM.run(["info", "--json"], env: blas ? ["SLM_MATMUL": "blas"] : [:])
            XCTAssertEqual(r.status, 0, r.summary)
            let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
            let kernels = try XCTUnwrap(o["kernels"] as? [String: Any])
            XCTAssertEqual(kernels["openblas"] as? Bool, blas)
            let text = try SLM.run(["info"], env: blas ? ["SLM_MATMUL": "blas"] : [:])
            XCTAssertEqual(text.out.contains("OpenBLAS"), blas, text.out)
        }
    }

    func testMissingOpenBLASWarnsAndFallsBackToTheOwnKernels() throws {
        _ = try requireSmolLM()
        let missing = try makeScratch().appendingPathComponent("libopenblas-missing.so").path
        let r = try SLM.run(["info", "--json"], env: ["SLM_MATMUL": "blas", "SLM_OPENBLAS": missing])
        XCTAssertEqual(r.status, 0, r.summary)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(o["kernels"] as? [String: Any])["openblas"] as? Bool, false)
        XCTAssertTrue(r.err.contains("warning: SLM_MATMUL=blas: cannot load OpenBLAS from \(missing)"), r.err)
        XCTAssertEqual(r.err.split(separator: "\n").filter { $0.contains("OpenBLAS") }.count, 1, r.err)
    }

    func testPrefixCacheBlocksAreKeyedOnTheBLASPath() throws {
        _ = try requireSmolLM()
        let dir = try makeScratch()
        let cache = dir.appendingPathComponent("cache").path
        let stats = dir.appendingPathComponent("stats.json")
        let system = String(repeating: "You answer questions about rivers, mills and canals in one sentence. ", count: 6)
        let args = ["generate", "--cache-dir", cache, "--system", system, "--temp", "0", "-n", "4", "What is a weir?"]

        let (blasCold, coldStats) = try run(args, blas: true, stats: stats)
        XCTAssertEqual(coldStats["cached_tokens"] as? Int, 0)
        let prompt = try XCTUnwrap(coldStats["prompt_tokens"] as? Int)
        XCTAssertGreaterThan(prompt, 64)
        // Blocks written with sgemm are not served to a run without it, nor the other way round.
        let (_, dotsStats) = try run(args, blas: false, stats: stats)
        XCTAssertEqual(dotsStats["cached_tokens"] as? Int, 0, "BLAS blocks served to the dot-product kernels")
        let (blasWarm, warmStats) = try run(args, blas: true, stats: stats)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(warmStats["cached_tokens"] as? Int), prompt - 32)
        XCTAssertEqual(blasWarm.out, blasCold.out)
        let (_, dotsWarm) = try run(args, blas: false, stats: stats)
        XCTAssertGreaterThan(try XCTUnwrap(dotsWarm["cached_tokens"] as? Int), 0)
    }

    func testNoSpeculationUnderBLAS() throws {
        _ = try requireSmolLM()
        let stats = try makeScratch().appendingPathComponent("stats.json")
        let args = ["generate", "--no-cache", "--temp", "0", "-n", "40", SpeculationCommandTests.prompt]
        let (_, with) = try run(args, blas: false, stats: stats)
        XCTAssertGreaterThan(try XCTUnwrap(with["drafted_tokens"] as? Int), 0, "a copy prompt drafts")
        let (_, without) = try run(args, blas: true, stats: stats)
        XCTAssertEqual(without["drafted_tokens"] as? Int, 0)
    }
}
