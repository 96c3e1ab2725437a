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
            let records = results.map { r in
                BenchRecord(
                    modelFilename: file, modelType: type, modelSize: engine.file.fileSize, nPrompt: r.promptTokens,
                    nGen: r.generatedTokens, nDepth: r.depth, nParallel: r.sequences, nThreads: engine.threads,
                    avgNs: wholeNs(r.avgNs), stddevNs: wholeNs(r.stddevNs), avgTs: sixDecimals(r.avgTs),
                    stddevTs: sixDecimals(r.stddevTs), samplesNs: r.samplesNs.map(wholeNs), samplesTs: r.samplesTs.map(sixDecimals))
            }
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Stdio.out(String(decoding: try encoder.encode(records), as: UTF8.self) + "\n")
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

/// One test in `-o json`, under llama-bench's field names (`modelFilename` is written `model_filename`).
struct BenchRecord: Encodable {
    var modelFilename: String
    var modelType: String
    var modelSize: Int
    var nPrompt: Int
    var nGen: Int
    var nDepth: Int
    var nParallel: Int
    var nThreads: Int
    var avgNs: Int64
    var stddevNs: Int64
    var avgTs: Double
    var stddevTs: Double
    var samplesNs: [Int64]
    var samplesTs: [Double]
}

/// Nanoseconds as llama-bench prints them (`%.0f`).
func wholeNs(_ x: Double) -> Int64 { Int64(x.rounded(.toNearestOrEven)) }

/// Tokens per second to llama-bench's six decimals (`%.6f`), which JSON then prints without trailing zeros.
func sixDecimals(_ x: Double) -> Double { (x * 1e6).rounded(.toNearestOrEven) / 1e6 }
