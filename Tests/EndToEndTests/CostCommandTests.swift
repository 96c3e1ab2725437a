import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import XCTest

/// `slm cost`, `slm cost replay` and `slm cost prices` run as a user runs them, on both models. The figures must
/// agree with the throughput printed beside them: the JSON carries full-precision doubles, so a price recomputed from
/// its inputs matches to 1e-9 relative (only the last bits of a few multiplications may differ).
final class CostCommandTests: EndToEndTestCase {
    func object(_ r: SLMResult, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let o = try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any]
        return try XCTUnwrap(o, "one JSON object: \(r.out.prefix(300))", file: file, line: line)
    }

    func close(_ a: Any?, _ b: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let a = (a as? NSNumber)?.doubleValue else { return XCTFail("\(what): not a number", file: file, line: line) }
        XCTAssertEqual(a, b, accuracy: abs(b) * 1e-9 + 1e-15, what, file: file, line: line)
    }

    func number(_ a: Any?) -> Double { (a as? NSNumber)?.doubleValue ?? .nan }

    /// Short tests: 64-token prompt, 8 tokens, one repetition, concurrency 1 and 2.
    static let quick = ["-p", "64", "-n", "8", "-r", "1", "--concurrency", "1,2"]

    func checkCost(model: String, hardware: [String]) throws {
        let dir = try makeScratch()
        let chart = dir.appendingPathComponent("cost.svg").path
        let r = try SLM.succeed(["cost", "-m", model] + Self.quick + hardware + ["-o", "json", "--chart", chart], timeout: 300)
        let o = try object(r)
        let measured = try XCTUnwrap(o["measured"] as? [String: Any])
        let hw = try XCTUnwrap(o["hardware"] as? [String: Any])
        let local = try XCTUnwrap(o["local"] as? [String: Any])
        let perSecond = number(hw["usd_per_hour"]) / 3600
        let prefill = number(measured["prefill_tok_s"]), decode = number(measured["decode_tok_s"])
        let restore = number(measured["cache_restore_tok_s"])
        XCTAssertTrue(prefill > 0 && decode > 0 && restore > 0, "\(measured)")
        close(local["usd_per_mtok_input"], perSecond / prefill * 1e6, "input price from prefill tok/s")
        close(local["usd_per_mtok_output"], perSecond / decode * 1e6, "output price from decode tok/s")
        close(local["usd_per_mtok_cached_input"], perSecond / restore * 1e6, "cached input price from restore tok/s")
        let batched = try XCTUnwrap(measured["decode_batched"] as? [String: Any])
        let batchedPrices = try XCTUnwrap(local["usd_per_mtok_output_batched"] as? [String: Any])
        XCTAssertEqual(Set(batched.keys), ["1", "2"])
        for (n, tokS) in batched { close(batchedPrices[n], perSecond / number(tokS) * 1e6, "batched x\(n)") }
        let cpt = try XCTUnwrap(o["chars_per_token"] as? [String: Any])
        let localCPT = number(cpt["local"]), cloudCPT = number(cpt["cloud"])
        XCTAssertTrue((1.5...10).contains(localCPT), "characters per token \(localCPT)")
        let cloud = try XCTUnwrap(o["cloud"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cloud.count, 20)
        for row in cloud {
            for key in ["model", "provider", "input", "cached_input", "output", "seen", "cheaper"] {
                XCTAssertTrue(row.keys.contains(key), "\(key) in \(row)")
            }
            let ratio = (number(local["usd_per_mtok_input"]) / localCPT) / (number(row["input"]) / cloudCPT)
            close(row["ratio_input"], ratio, "ratio_input of \(row["model"] ?? "")")
            let cheaper = try XCTUnwrap(row["cheaper_input"] as? String)
            XCTAssertEqual(cheaper, ratio < 1 ? "local" : "cloud")
        }
        // The chart: well-formed XML whose root is an svg, and rsvg-convert makes a PNG of it.
        let svg = try Data(contentsOf: URL(fileURLWithPath: chart))
        let parser = XMLParser(data: svg)
        let root = RootName()
        parser.delegate = root
        XCTAssertTrue(parser.parse(), "the SVG parses as XML: \(parser.parserError.map { "\($0)" } ?? "")")
        XCTAssertEqual(root.name, "svg")
        let png = dir.appendingPathComponent("cost.png").path
        let convert = try SLM.run(["rsvg-convert"], shell: "rsvg-convert -o '\(png)' '\(chart)'")
        XCTAssertEqual(convert.status, 0, "rsvg-convert (Debian's librsvg2-bin; tools/test installs it): \(convert.err)")
        let head = try Data(contentsOf: URL(fileURLWithPath: png)).prefix(8)
        XCTAssertEqual(Array(head), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
    }

    func testCostSmolLMOnAnOwnedPi5() throws {
        try checkCost(model: try requireSmolLM(), hardware: ["--hardware", "pi5", "--utilization", "0.5"])
    }

    func testCostGemmaAsTheVMThisMachineResembles() throws {
        let model = try requireGemma()
        try checkCost(model: model, hardware: [])
        // Markdown: the throughput and the local prices beside it, the hardware said in plain words.
        let md = try SLM.succeed(["cost", "-m", model] + Self.quick + ["--usd-per-hour", "0.36"], timeout: 300)
        XCTAssertTrue(md.out.contains("| one stream |"), md.out)
        XCTAssertTrue(md.out.contains("$0.36/hour"), md.out)
        XCTAssertTrue(md.err.contains("decode 8 tokens after 64"), md.err)
    }

    func testOwnedDeviceHasBreakEvenVolumes() throws {
        let r = try SLM.succeed(["cost", "-m", try requireSmolLM()] + Self.quick
                                + ["--device-usd", "300", "--watts", "15", "--years", "2", "-o", "json"], timeout: 300)
        let o = try object(r)
        let hw = try XCTUnwrap(o["hardware"] as? [String: Any])
        XCTAssertEqual(hw["kind"] as? String, "owned")
        // 300 / (2 * 8760 * 1) + 0.015 * 0.1747 $/h.
        close(hw["usd_per_hour"], 300.0 / 17_520 + 0.015 * 0.1747, "owned device per hour")
        let cloud = try XCTUnwrap(o["cloud"] as? [[String: Any]])
        XCTAssertTrue(cloud.contains { $0["break_even_mtok_per_month_output"] is NSNumber }, "some cloud row breaks even")
    }

    func replayWorkload(_ dir: URL) throws -> String {
        // Two system prompts of well over 64 tokens, shared by two requests each (the second of each restores it).
        let a = String(repeating: "You are the support assistant of Acme Cloud. Answer in one short sentence. ", count: 8)
        let b = String(repeating: "You are the billing assistant of Acme Cloud. Be exact about amounts. ", count: 8)
        let lines = [
            #"{"system": "\#(a)", "user": "How do I reset my password?", "max_tokens": 12}"#,
            #"{"system": "\#(b)", "user": "Why was I charged twice?", "max_tokens": 24, "json_schema": {"type": "object", "properties": {"reason": {"type": "string"}}, "required": ["reason"]}}"#,
            #"{"system": "\#(a)", "user": "Where can I see my invoices?", "max_tokens": 24, "think_budget": 8}"#,
            #"{"messages": [{"role": "system", "content": "\#(b)"}, {"role": "user", "content": "Can I pay yearly?"}], "max_tokens": 12}"#,
        ]
        let path = dir.appendingPathComponent("w.jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func checkReplay(model: String) throws {
        let dir = try makeScratch()
        let workload = try replayWorkload(dir)
        let r = try SLM.succeed(["cost", "replay", workload, "-m", model, "--parallel", "2", "-o", "json"], timeout: 300)
        let o = try object(r)
        XCTAssertEqual(o["requests"] as? Int, 4)
        let prompt = try XCTUnwrap(o["prompt_tokens"] as? Int), cached = try XCTUnwrap(o["cached_tokens"] as? Int)
        let generated = try XCTUnwrap(o["generated_tokens"] as? Int), reasoning = try XCTUnwrap(o["reasoning_tokens"] as? Int)
        XCTAssertGreaterThan(prompt, 200)
        XCTAssertGreaterThan(cached, 0, "the repeated system prompts come from the prefix cache")
        XCTAssertTrue((4...72).contains(generated), "generated \(generated)")
        XCTAssertTrue((1...8).contains(reasoning), "reasoning \(reasoning) within the budget of 8")
        let hw = try XCTUnwrap(o["hardware"] as? [String: Any])
        let local = try XCTUnwrap(o["local"] as? [String: Any])
        close(local["usd"], number(o["wall_s"]) * number(hw["usd_per_hour"]) / 3600, "local $ = wall time x price")
        let saved = try XCTUnwrap(o["saved"] as? [String: Any])
        XCTAssertEqual(saved["prefix_cache_tokens"] as? Int, cached)
        close(saved["prefix_cache_usd"], Double(cached) / number(local["prefill_tok_s"]) * number(hw["usd_per_hour"]) / 3600,
              "prefix-cache savings at the measured prefill rate")
        let cloud = try XCTUnwrap(o["cloud"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cloud.count, 20)
        for row in cloud {
            let p = number(row["prompt_tokens"]), hit = number(row["cache_hit_tokens"]), write = number(row["cache_write_tokens"])
            let out = number(row["output_tokens"])
            let input = number(row["input"]), output = number(row["output"])
            let cachedPrice = (row["cached_input"] as? NSNumber)?.doubleValue ?? input
            let writePrice = (row["cache_write"] as? NSNumber)?.doubleValue ?? input
            close(row["usd"], ((p - hit - write) * input + hit * cachedPrice + write * writePrice + out * output) / 1e6,
                  "\(row["model"] ?? "") bill from its tokens")
            // Prompts here are about 150-200 tokens: under every provider's caching minimum, so no hits or writes.
            XCTAssertEqual(hit + write, 0, "\(row)")
        }
    }

    func testReplaySmolLM() throws { try checkReplay(model: try requireSmolLM()) }
    func testReplayGemma() throws { try checkReplay(model: try requireGemma()) }

    func testReplayRefusesABadWorkloadBeforeRunningAnything() throws {
        let model = try requireSmolLM()
        let dir = try makeScratch()
        let bad = dir.appendingPathComponent("bad.jsonl").path
        try "{\"user\": \"a\", \"max_tokens\": 4}\n\n{\"user\": \"b\", \"max_tokens\": }\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try SLM.run(["cost", "replay", bad, "-m", model])
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertEqual(r.errLines.last?.hasPrefix("error: '\(bad)': workload line 3: not JSON"), true, r.err)
        XCTAssertTrue(r.out.isEmpty)
        // A request that cannot fit the context is found before the first one runs.
        let long = dir.appendingPathComponent("long.jsonl").path
        try "{\"user\": \"a\", \"max_tokens\": 4}\n{\"user\": \"b\", \"max_tokens\": 5000}\n".write(toFile: long, atomically: true, encoding: .utf8)
        let l = try SLM.run(["cost", "replay", long, "-m", model, "--ctx", "2048"])
        XCTAssertEqual(l.status, 1, l.summary)
        XCTAssertTrue(l.err.contains("workload line 2: the prompt"), l.err)
        XCTAssertFalse(l.err.contains("replayed"), "nothing ran: \(l.err)")
    }

    func testFlagAndPriceFileErrors() throws {
        for args in [["cost", "--concurrency", "0"], ["cost", "--concurrency", "1,x"], ["cost", "--usd-per-hour", "1e300"],
                     ["cost", "--hardware", "cray-1"], ["cost", "--usd-per-hour", "1", "--hardware", "pi5"],
                     ["cost", "--watts", "5"], ["cost", "--hardware", "pi5", "--utilization", "2"], ["cost", "-o", "xml"],
                     ["cost", "--cloud-chars-per-token", "0"], ["cost", "replay"]] {
            let r = try SLM.run(args)
            XCTAssertEqual(r.status, 2, r.summary)
            XCTAssertEqual(r.errLines.count, 1, r.err)
        }
        let dir = try makeScratch()
        let prices = dir.appendingPathComponent("p.json").path
        try #"{"as_of": "2026-11-01", "models": [{"provider": "x", "model": "y", "input_per_mtok_usd": 1, "output_per_mtok_usd": -2, "source": "s", "seen": "2026"}]}"#
            .write(toFile: prices, atomically: true, encoding: .utf8)
        let r = try SLM.run(["cost", "prices", "--prices", prices])
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertEqual(r.err, "error: --prices '\(prices)': price table row 1 (x y): negative price -2.0 in 'output_per_mtok_usd'\n")
        // An old table still works, with a one-line warning.
        try #"{"as_of": "2020-01-01", "models": [{"provider": "x", "model": "y", "input_per_mtok_usd": 1, "output_per_mtok_usd": 2, "source": "s", "seen": "2020"}]}"#
            .write(toFile: prices, atomically: true, encoding: .utf8)
        let old = try SLM.succeed(["cost", "prices", "--prices", prices])
        XCTAssertEqual(old.errLines.count, 1)
        XCTAssertTrue(old.err.hasPrefix("warning: the price table is "), old.err)
        XCTAssertTrue(old.out.contains("| x | y | $1.00 |"), old.out)
    }

    func testPricesListsTheBuiltInTable() throws {
        let md = try SLM.succeed(["cost", "prices"])
        XCTAssertTrue(md.out.contains("| openai | gpt-4o-mini | $0.150 | $0.0750 | $0.600 | min 1024, steps of 128 |"), md.out)
        let json = try SLM.succeed(["cost", "prices", "-o", "json"])
        let o = try object(json)
        XCTAssertEqual(o["as_of"] as? String, "2026-11-23")
        XCTAssertGreaterThanOrEqual((o["models"] as? [Any])?.count ?? 0, 20)
    }

    func testStatsFileCarriesTheLocalCost() throws {
        let dir = try makeScratch()
        let stats = dir.appendingPathComponent("s.json").path
        try SLM.succeed(["generate", "-m", try requireSmolLM(), "--raw", "--temp", "0", "-n", "4", "--no-cache",
                         "--stats-file", stats, "The capital of France is"])
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stats))) as? [String: Any])
        let cost = try XCTUnwrap(o["local_cost"] as? [String: Any])
        XCTAssertTrue((cost["hardware"] as? String)?.hasPrefix("aws-") == true, "\(cost)")
        close(cost["seconds"], (number(o["prefill_ms"]) + number(o["decode_ms"])) / 1000, "prefill + decode time")
        close(cost["usd"], number(cost["seconds"]) * number(cost["usd_per_hour"]) / 3600, "seconds x price")
    }
}

/// Records the root element's name.
final class RootName: NSObject, XMLParserDelegate {
    var name: String?
    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        if name == nil { name = elementName }
    }
}
