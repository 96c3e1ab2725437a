import ArgumentParser
import Foundation
import Logging
import SLMEngine
import SLMServer

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the model over HTTP with OpenAI's API (chat and text completions), batching many clients.",
        discussion: """
            Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health, GET /metrics \
            (Prometheus), POST /tokenize, POST /detokenize. Up to --parallel requests are decoded together (one read \
            of the weights per step serves all of them); more wait in a queue of --max-queue, beyond which the server \
            answers 503. Prompt prefixes (a shared system prompt) are computed once and kept in the prefix cache. \
            SIGINT/SIGTERM stop gracefully.

            Example: slm serve --parallel 8, then
              curl http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \\
                -d '{"messages":[{"role":"user","content":"Hello!"}]}'
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .long, help: "Address to listen on (127.0.0.1: this machine only).") var host = "127.0.0.1"
    @Option(name: .long, help: "Port to listen on (0: any free port).") var port = 8080
    @Option(name: .long, help: "Requests decoded together.") var parallel = 4
    @Option(name: .long, help: "Context per request, prompt plus answer (default: min(model's, 4096)).") var ctx: Int?
    @Option(name: .long, help: ArgumentHelp("Require 'Authorization: Bearer KEY' on every route but /health.", valueName: "KEY"))
    var apiKey: String?
    @Option(name: .long, help: ArgumentHelp("Read the API key from this file (first line).", valueName: "PATH"))
    var apiKeyFile: String?
    @Option(name: .long, help: "Requests that may wait for a slot; beyond that the server answers 503.") var maxQueue = 64
    @Option(name: .long, help: "Most prompt tokens evaluated per step (fewer while other requests decode).") var prefillChunk = 128
    @Option(name: .long, help: ArgumentHelp(
        "Default reasoning budget of requests that set no 'reasoning_budget' (none: no reasoning section).", valueName: "N"))
    var thinkBudget: Int?
    @Option(name: .long, help: "The model name /v1/models lists (default: the model's name).") var name: String?
    @Option(name: .long, help: "Largest request body in bytes (413 beyond).") var maxBody = 8 << 20
    @Flag(name: .long, help: "Decode one token per step for every request (no prompt-lookup drafts); the output is the same.")
    var noSpeculate = false
    @Option(name: .long, help: ArgumentHelp(
        "Most draft tokens verified per step while at most two requests decode (1...32, default \(Speculation.defaultDraftMax)).",
        valueName: "N"))
    var draftMax: Int?
    @Option(name: .long, help: ArgumentHelp(
        "How much nicer the compute threads are than the server's others (0...19): the threads that deliver tokens then preempt them at once (0: equal).",
        valueName: "N"))
    var computeNice = 5
    @OptionGroup var cacheOptions: CacheOptions
    @OptionGroup(title: "Cost (usage.local_cost and /metrics; default: this machine priced as the cloud VM it resembles)")
    var hardwareOptions: HardwareOptions
    @OptionGroup var priceOptions: PriceOptions
    @Option(name: .long, help: ArgumentHelp(
        "The cloud model each request is also priced at (a model of `slm cost prices`; default gpt-4o-mini; 'none': no comparison).",
        valueName: "MODEL"))
    var costReference: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
        guard (1...256).contains(parallel) else { throw ValidationError("--parallel must be in 1...256, got \(parallel)") }
        if let c = ctx, !(16...16_777_216).contains(c) { throw ValidationError("--ctx must be in 16...16777216, got \(c)") }
        guard (0...100_000).contains(maxQueue) else { throw ValidationError("--max-queue must be in 0...100000, got \(maxQueue)") }
        guard (1...4096).contains(prefillChunk) else { throw ValidationError("--prefill-chunk must be in 1...4096, got \(prefillChunk)") }
        if let b = thinkBudget, !(0...1_000_000).contains(b) { throw ValidationError("--think-budget must be in 0...1000000, got \(b)") }
        guard (1024...(1 << 30)).contains(maxBody) else { throw ValidationError("--max-body must be in 1024...1073741824") }
        if apiKey != nil && apiKeyFile != nil { throw ValidationError("give --api-key or --api-key-file, not both") }
        if let k = apiKey, k.isEmpty { throw ValidationError("--api-key must not be empty") }
        if let n = draftMax, !(1...32).contains(n) { throw ValidationError("--draft-max must be in 1...32, got \(n)") }
        if noSpeculate && draftMax != nil { throw ValidationError("--no-speculate excludes --draft-max") }
        guard (0...19).contains(computeNice) else { throw ValidationError("--compute-nice must be in 0...19, got \(computeNice)") }
    }

    func run() throws {
        var key = apiKey
        if let path = apiKeyFile {
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError.runtime("cannot read --api-key-file '\(path)'") }
            let text = try Stdio.utf8(data, what: "--api-key-file '\(path)'")
            key = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) }
            guard let k = key, !k.isEmpty else { throw CLIError.runtime("--api-key-file '\(path)' holds no key") }
        }
        // Room in one step for every sequence's token (and a few inserted marker tokens) beside a prefill chunk.
        let engine = try modelOptions.loadEngine(maxBatch: prefillChunk + parallel * 4)
        let context = try runtime { () throws(EngineError) in try engine.contextLength(ctx) }
        var scheduler = SchedulerOptions()
        scheduler.parallel = parallel
        scheduler.contextLength = context
        scheduler.maxQueue = maxQueue
        scheduler.prefillChunk = prefillChunk
        scheduler.speculation = noSpeculate ? .off : Speculation(draftMax: draftMax ?? Speculation.defaultDraftMax)
        scheduler.prefixCache = cacheOptions.makeCache(for: engine, quiet: modelOptions.quiet)
        scheduler.computeNice = computeNice
        let quiet = modelOptions.quiet
        scheduler.warn = { line in if !quiet { Stdio.info("warning: \(line)") } }
        var options = ServerOptions()
        options.modelName = name ?? URL(fileURLWithPath: engine.file.path).deletingPathExtension().lastPathComponent
        if name == nil, !modelOptions.model.hasSuffix(".gguf") { options.modelName = modelOptions.model }
        options.host = host
        options.port = port
        options.apiKey = key
        options.thinkBudget = thinkBudget
        options.maxBodyBytes = maxBody
        options.hardware = try hardwareOptions.cost(machine: .current())
        let table = try priceOptions.table(quiet: modelOptions.quiet)
        if let r = costReference {
            if r.lowercased() == "none" {
                options.costReference = nil
            } else if let row = table.row(named: r) {
                options.costReference = row
            } else {
                throw CLIError.usage("--cost-reference '\(r)' is not in the price table (see slm cost prices)")
            }
        } else {
            options.costReference = table.defaultReference
        }
        let localCharsPerToken = engine.charactersPerToken(ReferenceText.english)
        options.cloudTokensPerLocalToken = CharsPerToken(local: localCharsPerToken, cloud: priceOptions.cloudCharsPerToken,
                                                         localBasis: "", cloudBasis: "").cloudTokensPerLocalToken
        if !quiet {
            let ref = options.costReference.map { "; compared with \($0.name) at its list prices" } ?? ""
            Stdio.info("cost: \(options.hardware.description) ($\(options.hardware.usdPerHour)/hour)\(ref)")
        }
        let service = try runtime { () throws(EngineError) in try ModelService(engine: engine, scheduler: scheduler, options: options) }

        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = quiet ? .error : .info
            return h
        }
        let logger = Logger(label: "slm.serve")
        // Hummingbird's Date header (GMT by definition) builds a Gregorian calendar in Foundation's default time zone;
        // resolving the system's zone by name pages ~2 MB of ICU data into an idle server. Nothing else in the server
        // formats dates through Foundation (log timestamps come from the C library and keep the local zone).
        NSTimeZone.default = TimeZone(secondsFromGMT: 0)!
        let modelName = options.modelName
        let threads = engine.threads
        let app = buildApplication(service: service, logger: logger) { url in
            Stdio.info("serving \(modelName) at \(url)/v1 (parallel \(parallel), context \(context), threads \(threads))")
        }
        _ = runConcurrencyOnEventLoops()
        let done = DispatchSemaphore(value: 0)
        let failure = ErrorBox()
        Task {
            do { try await runServer(app, service: service, logger: logger) } catch { failure.set(error) }
            done.signal()
        }
        done.wait()
        if let e = failure.error { throw CLIError.runtime("server stopped: \(e)") }
        Stdio.info("stopped")
    }
}

/// An error handed from the server task to the main thread.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Error?
    func set(_ e: Error) { lock.withLock { value = e } }
    var error: Error? { lock.withLock { value } }
}
