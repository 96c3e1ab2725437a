import ArgumentParser
import Foundation
import SLMEngine

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "llama-bench's tests: pp<p> (prompt processing in one batch) and tg<n> (generation, one token at a time).",
        discussion: """
            Prints llama-bench's markdown table, or with -o json an array using its field names, so the two tools \
            can be compared side by side (Benchmarks/compare-llama-cpp.py does that).

            Examples:
              slm bench -p 512 -n 128 -t 2
              slm bench -m gemma3-270m -n 128 -d 2048 -o json
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .customShort("p"), help: "Prompt tokens for the pp test (0: skip it).") var prompt: Int = 512
    @Option(name: .customShort("n"), help: "Generated tokens for the tg test (0: skip it).") var generate: Int = 128
    @Option(name: .customShort("r"), help: "Repetitions of each test.") var reps: Int = 5
    @Option(name: .customShort("d"), help: "Tokens already in the KV cache before each test.") var depth: Int = 0
    @Option(name: .customShort("o"), help: "Output: md or json.") var output: String = "md"
    @Option(name: .long, help: ArgumentHelp(
        "Also run batched decode: N sequences generating -n tokens each, stepped together (comma-separated list).",
        valueName: "N,N,...")) var parallel: String?

    /// --parallel as numbers.
    var parallelCounts: [Int] {
        (parallel ?? "").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    func validate() throws {
        guard (0...65_536).contains(prompt), (0...65_536).contains(generate) else { throw ValidationError("-p and -n must be in 0...65536") }
        guard prompt > 0 || generate > 0 else { throw ValidationError("-p and -n are both 0: nothing to run") }
        guard (1...1_000).contains(reps) else { throw ValidationError("-r must be in 1...1000") }
        guard (0...1_048_576).contains(depth) else { throw ValidationError("-d must be in 0...1048576") }
        guard ["md", "json"].contains(output) else { throw ValidationError("-o must be md or json, got '\(output)'") }
        if let parallel {
            let parts = parallel.split(separator: ",", omittingEmptySubsequences: false)
            guard !parts.isEmpty, parts.count == parallelCounts.count, parallelCounts.allSatisfy({ (1...256).contains($0) }) else {
                throw ValidationError("--parallel takes a comma-separated list of counts in 1...256, got '\(parallel)'")
            }
            guard generate > 0 else { throw ValidationError("--parallel needs -n > 0") }
        }
    }

    func run() throws {
        // The -d tokens are evaluated in batches too (as llama-bench does), not one at a time.
        let (engine, loadMs) = try modelOptions.loadEngineTimed(maxBatch: max(prompt, depth > 0 ? min(depth, 512) : 1, parallelCounts.max() ?? 1, 1))
        Stdio.info("model loaded in \(fmt1(loadMs)) ms")
        guard depth + max(prompt, generate) <= engine.config.trainedContextLength else {
            throw CLIError.usage("-d \(depth) plus the test's tokens exceed the model's context of \(engine.config.trainedContextLength)")
        }
        var results: [BenchmarkResult] = []
        for (p, n) in [(prompt, 0), (0, generate)] where p + n > 0 {
            let r = try runtime { () throws(EngineError) in try engine.benchmark(prompt: p, generate: n, depth: depth, repetitions: reps) }
            Stdio.info("\(r.name)\(depth > 0 ? " @ d\(depth)" : ""): \(String(format: "%.2f", r.avgTs)) tok/s")
            results.append(r)
        }
        for np in parallelCounts {
            let r = try runtime { () throws(EngineError) in
                try engine.benchmarkBatchedDecode(sequences: np, generate: generate, depth: depth, repetitions: reps)
            }
            Stdio.info("\(r.name)\(depth > 0 ? " @ d\(depth)" : ""): \(String(format: "%.2f", r.avgTs)) tok/s in all")
            results.append(r)
        }
        let file = URL(fileURLWithPath: engine.file.path).lastPathComponent
        let type = "\(engine.config.architecture) \(engine.file.tensors.count) tensors"
        if output == "json" {
            let objects = results.map { r -> String in
                let samples = r.samplesTs.map { String(format: "%.6f", $0) }.joined(separator: ", ")
                let ns = r.samplesNs.map { String(format: "%.0f", $0) }.joined(separator: ", ")
                return """
                  {"model_filename": "\(file)", "model_type": "\(type)", "model_size": \(engine.file.fileSize), \
                "n_prompt": \(r.promptTokens), "n_gen": \(r.generatedTokens), "n_depth": \(r.depth), \
                "n_parallel": \(r.sequences), \
                "n_threads": \(engine.threads), "avg_ns": \(String(format: "%.0f", r.avgNs)), \
                "stddev_ns": \(String(format: "%.0f", r.stddevNs)), "avg_ts": \(String(format: "%.6f", r.avgTs)), \
                "stddev_ts": \(String(format: "%.6f", r.stddevTs)), "samples_ns": [\(ns)], "samples_ts": [\(samples)]}
                """
            }
            Stdio.out("[\n" + objects.joined(separator: ",\n") + "\n]\n")
        } else {
            var s = "| model | size | backend | threads | test | t/s |\n| --- | ---: | --- | ---: | ---: | ---: |\n"
            let size = String(format: "%.2f MiB", Double(engine.file.fileSize) / 1_048_576)
            for r in results {
                let test = r.name + (depth > 0 ? " @ d\(depth)" : "")
                s += "| \(file) | \(size) | CPU (slm) | \(engine.threads) | \(test) | \(String(format: "%.2f ± %.2f", r.avgTs, r.stddevTs)) |\n"
            }
            Stdio.out(s)
        }
    }
}
