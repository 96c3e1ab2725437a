import ArgumentParser
import Foundation
import SLMEngine

/// `slm cost`: this machine's measured throughput priced per 1M tokens, beside the cloud's list prices.
struct Cost: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What tokens cost on this machine, measured, beside cloud API prices.",
        discussion: """
            slm cost measures prefill, decode (one stream and batched) and prefix-cache restore on this machine, \
            prices them with the hardware's cost per hour, and compares them per character of text with every row \
            of the price table. slm cost replay runs a JSONL workload and prices it locally and at each cloud \
            model's list prices. slm cost prices lists the table.

            Examples:
              slm cost --concurrency 1,4,8
              slm cost -m gemma3-270m --hardware pi5 -o json
              slm cost replay Benchmarks/data/workloads/support-assistant.jsonl
            """,
        subcommands: [CostMeasure.self, CostPrices.self, CostReplay.self],
        defaultSubcommand: CostMeasure.self)
}

struct CostMeasure: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure", abstract: "Measure this machine and price its tokens (the default of slm cost).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var hardwareOptions: HardwareOptions
    @OptionGroup var priceOptions: PriceOptions
    @Option(name: .long, help: ArgumentHelp("Batched decode at each of these concurrencies.", valueName: "N,N,..."))
    var concurrency: String = "1,4,8"
    @Option(name: .customShort("p"), help: "Prompt tokens of the prefill and restore tests (the decode tests' context).")
    var prompt: Int = 512
    @Option(name: .customShort("n"), help: "Tokens generated per sequence in the decode tests.") var generate: Int = 64
    @Option(name: .customShort("r"), help: "Repetitions of each test (the median is used).") var reps: Int = 3
    @Option(name: .long, help: ArgumentHelp("Compare the cloud's output price with single-stream decode or the best batched rate.",
                                            valueName: "single|batched"))
    var compare: String = "single"
    @Option(name: .customShort("o"), help: "Output: md or json.") var output: String = "md"
    @Option(name: .long, help: ArgumentHelp("Also write a bar chart of local vs each cloud model.", valueName: "FILE.svg"))
    var chart: String?

    func validate() throws {
        _ = try parseCounts(concurrency, flag: "--concurrency")
        guard (32...8192).contains(prompt) else { throw ValidationError("-p must be in 32...8192, got \(prompt)") }
        guard (1...4096).contains(generate) else { throw ValidationError("-n must be in 1...4096, got \(generate)") }
        guard (1...100).contains(reps) else { throw ValidationError("-r must be in 1...100, got \(reps)") }
        guard ["md", "json"].contains(output) else { throw ValidationError("-o must be md or json, got '\(output)'") }
        guard ["single", "batched"].contains(compare) else { throw ValidationError("--compare must be single or batched, got '\(compare)'") }
    }

    func run() throws {
        let counts = try parseCounts(concurrency, flag: "--concurrency")
        let chartFile = try chart.map { try OutputFile($0, flag: "--chart") }
        let table = try priceOptions.table(quiet: modelOptions.quiet)
        let machine = MachineProfile.current()
        let hardware = try hardwareOptions.cost(machine: machine)
        let (engine, _) = try modelOptions.loadEngineTimed(maxBatch: max(min(prompt, 512), counts.max() ?? 1, 32))
        Stdio.info("pricing as \(hardware.description): $\(hardware.usdPerHour)/hour")
        var plan = CostMeasurementPlan()
        plan.prompt = prompt
        plan.generate = generate
        plan.concurrency = counts
        plan.repetitions = reps
        let measured = try runtime { () throws(EngineError) in try engine.measureThroughput(plan) { Stdio.info($0) } }
        let cpt = CharsPerToken(local: engine.charactersPerToken(ReferenceText.english), cloud: priceOptions.cloudCharsPerToken,
                                localBasis: "a reference text of English support replies (\(ReferenceText.english.count) characters)",
                                cloudBasis: priceOptions.cloudBasis)
        let report = CostReport(hardware: hardware, measured: measured, charsPerToken: cpt, table: table,
                                compareBatched: compare == "batched")
        let context = CostContext(model: URL(fileURLWithPath: engine.file.path).lastPathComponent, threads: engine.threads,
                                  machine: machine, table: table, prompt: prompt, generate: generate, repetitions: reps)
        Stdio.out(output == "json" ? CostRender.json(report, context) : CostRender.markdown(report, context))
        if let chartFile {
            try chartFile.write(Array(CostChart.svg(report, title: "\(context.model): USD per 1M characters, local vs cloud").utf8))
            Stdio.info("chart written to \(chartFile.path)")
        }
    }
}

struct CostPrices: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prices", abstract: "List the cloud price table (its date, each row's source and confidence).")

    @OptionGroup var priceOptions: PriceOptions
    @Option(name: .customShort("o"), help: "Output: md or json (json: the built-in table's file, a starting point for --prices).")
    var output: String = "md"

    func validate() throws {
        guard ["md", "json"].contains(output) else { throw ValidationError("-o must be md or json, got '\(output)'") }
    }

    func run() throws {
        let table = try priceOptions.table(quiet: false)
        if output == "json" {
            if let path = priceOptions.prices { Stdio.out(try readTextFile(path, flag: "--prices")) } else { Stdio.out(PriceTable.builtInJSON + "\n") }
            return
        }
        Stdio.out(CostRender.pricesMarkdown(table))
    }
}

struct CostReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run a JSONL workload through the engine and price it locally and at each cloud model's list prices.",
        discussion: """
            Each line: {"system": TEXT, "user": TEXT} or {"messages": [{"role", "content"}, ...]}, "max_tokens": N, \
            and optionally "json_schema": {...}, "think_budget": N, "id". Every line is checked before anything runs.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var hardwareOptions: HardwareOptions
    @OptionGroup var priceOptions: PriceOptions
    @Argument(help: ArgumentHelp("The workload, one JSON request per line.", valueName: "WORKLOAD.jsonl")) var workload: String
    @Option(name: .long, help: "Requests decoded together.") var parallel: Int = 4
    @Option(name: [.customShort("c"), .long], help: ArgumentHelp("Context per request (default: min(model's, 4096)).",
                                                                 valueName: "N"))
    var ctx: Int?
    @Option(name: [.customShort("s"), .long], help: "Base seed (request on line L samples with seed + L).") var seed: UInt64 = 42
    @Option(name: [.customLong("temperature"), .customLong("temp")], help: "Sampling temperature.") var temperature: Float = ReplayOptions().temperature
    @Flag(name: .long, help: "No prefix cache (every prompt computed in full).") var noCache = false
    @Option(name: .customShort("o"), help: "Output: md or json.") var output: String = "md"

    func validate() throws {
        guard (1...64).contains(parallel) else { throw ValidationError("--parallel must be in 1...64, got \(parallel)") }
        if let c = ctx, !(64...1_048_576).contains(c) { throw ValidationError("--ctx must be in 64...1048576, got \(c)") }
        guard temperature.isFinite, (0...100).contains(temperature) else { throw ValidationError("--temperature must be in 0...100") }
        guard ["md", "json"].contains(output) else { throw ValidationError("-o must be md or json, got '\(output)'") }
    }

    func run() throws {
        let text = try readTextFile(workload, flag: "workload")
        let requests: [WorkloadRequest]
        do { requests = try Workload.parse(text) } catch { throw CLIError.runtime("'\(workload)': \(error.description)") }
        let table = try priceOptions.table(quiet: modelOptions.quiet)
        let machine = MachineProfile.current()
        let hardware = try hardwareOptions.cost(machine: machine)
        let engine = try modelOptions.loadEngine(maxBatch: 128 + parallel * 4)
        let context = try runtime { () throws(EngineError) in try engine.contextLength(ctx) }
        var options = ReplayOptions()
        options.parallel = parallel
        options.contextLength = context
        options.temperature = temperature
        options.seed = seed
        if !noCache { options.prefixCache = PrefixCache(layout: KVLayout(engine: engine), options: PrefixCacheOptions()) }
        let prepared: [PreparedReplayRequest]
        do { prepared = try engine.prepareReplay(requests, options: options) } catch {
            throw CLIError.runtime("'\(workload)': \(error.description)")
        }
        Stdio.info("pricing as \(hardware.description): $\(hardware.usdPerHour)/hour")
        // The prompt rate prices what the prefix cache saved; measured before the scheduler takes the runner.
        let pp = try runtime { () throws(EngineError) in try engine.benchmark(prompt: 256, generate: 0, depth: 0, repetitions: 1) }
        Stdio.info("prefill: \(fmt1(pp.medianTs)) tok/s; replaying \(prepared.count) requests, \(parallel) at a time")
        let total = prepared.count
        let step = max(total / 10, 1)
        let quiet = modelOptions.quiet
        let run = try runtime { () throws(EngineError) in
            try engine.replay(prepared, options: options) { done in
                if !quiet, done % step == 0 || done == total { FileHandle.standardError.write(Data("replayed \(done)/\(total)\n".utf8)) }
            }
        }
        let report = ReplayReport(outcomes: run.outcomes, wallSeconds: run.wallSeconds, hardware: hardware, table: table,
                                  prefillTokS: pp.medianTs, cloudCharsPerToken: priceOptions.cloudCharsPerToken,
                                  cloudBasis: priceOptions.cloudBasis)
        let ctxInfo = ReplayContext(model: URL(fileURLWithPath: engine.file.path).lastPathComponent, threads: engine.threads,
                                    machine: machine, table: table, workload: workload, parallel: parallel,
                                    prefixCache: !noCache, prefillTokS: pp.medianTs)
        Stdio.out(output == "json" ? CostRender.json(report, ctxInfo) : CostRender.markdown(report, ctxInfo))
    }
}
