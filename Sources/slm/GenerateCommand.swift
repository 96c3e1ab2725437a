import ArgumentParser
import Foundation
import SLMEngine

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text from a prompt, streaming it to stdout.",
        discussion: """
            Without --raw, the prompt is the user turn of the model's chat template (--system gives the system turn). \
            Escapes (\\n \\t \\\\ \\" \\xNN) in the prompt argument, --system and --stop are read as llama.cpp's -e \
            reads them; --no-escape takes them literally. Ctrl-C stops generation and still prints the summary and \
            writes --stats-file (a second Ctrl-C quits at once).
            Stop reasons (the summary on stderr; "stop_reason" in --stats-file):
              eos     the model ended, or the grammar allows nothing more
              length  --max-tokens ran out. Under --json, --json-schema or
                      --grammar the output is still complete and valid: near
                      the limit the engine steers to a shortest completion
                      ("answer_shortened" in the stats)
              stop    a --stop string appeared (it is not printed)
              interrupted  Ctrl-C stopped it
            Under a grammar, a --max-tokens below the shortest valid output
            (plus the close marker with --think-budget) is refused before
            generating, naming the least that fits.

            Examples:
              slm generate "Write a haiku about CPUs."
              slm generate -n 64 --stop "\\n\\n" "Q: What is 2+2?\\nA:"
              echo "The capital of France is" | slm generate --raw --temp 0
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var constraints: ConstraintOptions
    @OptionGroup var templateOptions: ChatTemplateOptions
    @OptionGroup var toolOptions: ToolOptions

    @Argument(help: "The prompt; absent or '-': read from stdin.")
    var prompt: String?
    @Option(name: [.customShort("p"), .customLong("prompt")], help: ArgumentHelp(
        "The prompt, as an option (instead of the argument).", valueName: "TEXT"))
    var promptOption: String?
    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp(
        "Read the prompt from this file (as is: no escapes).", valueName: "PATH"))
    var promptFile: String?

    @Flag(name: .long, help: "No chat template: tokenize the prompt as is (special-token text is parsed).")
    var raw = false
    @Option(name: .long, help: ArgumentHelp("System turn text.", valueName: "TEXT")) var system: String?
    @Option(name: .long, help: ArgumentHelp("Read the system turn from a file.", valueName: "PATH")) var systemFile: String?

    @Option(name: [.customShort("n"), .long], parsing: .unconditional, help: ArgumentHelp(
        "Most tokens to generate; -1: until the context is full. Default 256, lowered with a note to what the context has room for.",
        valueName: "N"))
    var maxTokens: Int?
    @OptionGroup var sampling: SamplingOptions
    @Option(name: .long, help: ArgumentHelp("Stop when this text appears (repeatable; not printed; escapes read).",
                                            valueName: "TEXT"))
    var stop: [String] = []
    @OptionGroup var escapes: EscapeOptions
    @Option(name: [.customShort("c"), .long], help: ArgumentHelp("Context length (default: min(model's, 4096)).",
                                                                 valueName: "N"))
    var ctx: Int?
    @Option(name: .long, help: ArgumentHelp("Write generation statistics as JSON to this path at the end.",
                                            valueName: "PATH"))
    var statsFile: String?
    @Flag(name: .long, help: "Never sample an end-of-generation token: generate --max-tokens tokens (benchmarks).") var ignoreEos = false
    @OptionGroup var cacheOptions: CacheOptions
    @OptionGroup var speculationOptions: SpeculationOptions

    func validate() throws {
        if let n = maxTokens, !(-1...1_000_000).contains(n) {
            throw ValidationError("--max-tokens must be -1 or in 0...1000000, got \(n)")
        }
        if let c = ctx, !(1...16_777_216).contains(c) { throw ValidationError("--ctx must be in 1...16777216, got \(c)") }
        if system != nil && systemFile != nil { throw ValidationError("give --system or --system-file, not both") }
        if raw && (system != nil || systemFile != nil) { throw ValidationError("--system needs the chat template; drop --raw") }
        if raw && templateOptions.chatTemplate != nil { throw ValidationError("--chat-template and --raw exclude each other") }
        if toolOptions.enabled && (raw || constraints.jsonSchema != nil || constraints.json || constraints.grammar != nil) {
            throw ValidationError("--tools constrains the reply itself: drop --raw, --json, --json-schema and --grammar")
        }
        if [prompt != nil, promptOption != nil, promptFile != nil].filter({ $0 }).count > 1 {
            throw ValidationError("give the prompt once: as the argument, --prompt or --file")
        }
    }

    func run() throws {
        let started = ContinuousClock.now
        let text: String
        if let path = promptFile {
            text = try readTextFile(path, flag: "--file")
        } else if let p = promptOption ?? (prompt == "-" ? nil : prompt) {
            text = try escapes.unescaped(p, "the prompt")
        } else {
            text = try promptText(nil, quiet: modelOptions.quiet)
        }
        var systemText = try system.map { try escapes.unescaped($0, "--system") }
        if let path = systemFile { systemText = try readTextFile(path, flag: "--system-file") }
        let stops = try stop.map { try escapes.unescaped($0, "--stop") }
        let stats = try statsFile.map { try OutputFile($0, flag: "--stats-file") }  // unwritable: fail before the run
        let constraint = try constraints.compiledGrammar()
        let override = try templateOptions.load()
        let tools = try toolOptions.load()
        let (engine, loadMs) = try modelOptions.loadEngineTimed()
        let context = try runtime { () throws(EngineError) in try engine.contextLength(ctx) }
        let prompt: [Int32]
        if raw {
            prompt = engine.tokenize(text)
        } else {
            let messages = (systemText.map { [ChatMessage.system($0)] } ?? []) + [.user(text)]
            prompt = try runtime { () throws(EngineError) in try engine.chatPrompt(messages, tools: tools, template: override) }
        }
        var request = GenerationRequest(prompt: prompt, contextLength: context)
        request.sampling = sampling.parameters
        request.stops = stops
        request.ignoreEOS = ignoreEos
        request.speculation = speculationOptions.speculation
        request.draftModel = try speculationOptions.loadDraftModel(for: engine, quiet: modelOptions.quiet)
        request.prefixCache = cacheOptions.makeCache(for: engine, quiet: modelOptions.quiet)
        request.grammar = constraint?.grammar
        let format = ToolCallFormat.detect(override ?? engine.chatTemplate)
        if toolOptions.enabled { request.grammar = try toolOptions.grammar(tools, format: format) }
        request.thinkBudget = constraints.thinkBudget
        request.hideReasoning = constraints.hideReasoning
        request.thinkMessage = constraints.thinkMessage
        request.thinkSoft = constraints.thinkSoft
        request.maxTokens = maxTokenCount(room: engine.generationRoom(request), context: context)
        request.cancellation = Interrupt.install()
        // A budget that cannot end in a valid answer is a bad flag value: refused before anything is printed.
        do { _ = try engine.budgetPlan(for: request) } catch {
            if case .budgetTooSmall = error { throw CLIError.usage(error.description) }
            throw CLIError.runtime(error.description)
        }
        if let c = constraint { Stdio.info("grammar: \(c.grammar.ruleNames.count) rules, compiled in \(fmt1(c.milliseconds)) ms") }
        var reply = ""
        var result = try runtime { () throws(EngineError) in
            try engine.generate(request) { piece in if toolOptions.enabled { reply += piece } else { Stdio.out(piece) } }
        }
        if toolOptions.enabled { Stdio.out(try ToolOptions.message(ToolCalls.parse(reply, format: format, tools: tools))) }
        Stdio.out("\n")
        result.loadMs = loadMs
        result.totalMs = milliseconds(ContinuousClock.now - started)
        Stdio.info(summary(result))
        if let stats {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let hardware = HardwareCost.thisMachine
            try stats.write(Array(try encoder.encode(StatsFileObject(stats: result, localCost: LocalCost(stats: result, hardware: hardware)))) + [0x0A])
        }
        if result.stopReason == .interrupted { Foundation.exit(130) }
    }

    /// --max-tokens as given; -1 for the room left; absent: 256, lowered to the room with a note. When nothing fits
    /// the request keeps its count and the engine refuses it, naming the context.
    func maxTokenCount(room: Int, context: Int) -> Int {
        let requested = maxTokens ?? 256
        guard room > 0 else { return max(requested, 1) }
        if requested == -1 { return room }
        if maxTokens == nil && requested > room {
            Stdio.info("note: the context of \(context) tokens has room for \(room) after the prompt; generating at most \(room) (--ctx raises it)")
            return room
        }
        return requested
    }

    func summary(_ s: GenerationStats) -> String {
        "prompt: \(s.promptTokens) tokens (\(s.cachedTokens) cached, \(s.computedTokens) computed at "
            + "\(fmt1(s.prefillTokensPerSecond)) tok/s) | generated: \(s.generatedTokens) tokens, "
            + "\(fmt1(s.decodeTokensPerSecond)) tok/s"
            + (s.draftedTokens > 0 ? " (drafted \(s.draftedTokens), accepted \(s.acceptedTokens))" : "")
            + " | load \(fmt1(s.loadMs)) ms, total \(fmt1(s.totalMs)) ms | "
            + "seed \(s.seed) | stop: \(s.stopReason.rawValue)"
            + (s.answerShortened ? " (answer shortened to fit --max-tokens)" : "")
    }
}

/// The --stats-file object: the generation's stats and, beside them, `local_cost`: the request's prefill and decode
/// time priced as this machine's resembling cloud VM (`slm cost`'s default hardware).
struct StatsFileObject: Encodable {
    var stats: GenerationStats
    var localCost: LocalCost

    enum Keys: String, CodingKey { case localCost = "local_cost" }

    func encode(to encoder: Encoder) throws {
        try stats.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(localCost, forKey: .localCost)
    }
}
