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

            Examples:
              slm generate "Write a haiku about CPUs."
              slm generate -n 64 --stop "\\n\\n" "Q: What is 2+2?\\nA:"
              echo "The capital of France is" | slm generate --raw --temp 0
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var constraints: ConstraintOptions

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
    @Option(name: [.long, .customLong("temp")], help: "Sampling temperature; 0 = greedy.") var temperature: Float = 0.7
    @Option(name: .long, help: "Keep the K most likely tokens (0 = all).") var topK: Int = 40
    @Option(name: .long, help: "Nucleus sampling threshold (1 = off).") var topP: Float = 0.95
    @Option(name: .long, help: "Minimum probability relative to the best token (0 = off).") var minP: Float = 0.05
    @Option(name: .long, help: "Penalty for tokens among the last 64 (1 = off).") var repeatPenalty: Float = 1.0
    @Option(name: [.customShort("s"), .long], parsing: .unconditional, help: ArgumentHelp(
        "Random seed; absent or -1: a random one. The seed used is in the summary and --stats-file.", valueName: "N"))
    var seed: SeedArgument?
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
    @Flag(name: .long, help: "Keep generating past end-of-generation tokens (benchmarks).") var ignoreEos = false
    @OptionGroup var cacheOptions: CacheOptions

    func validate() throws {
        if let n = maxTokens, !(-1...1_000_000).contains(n) {
            throw ValidationError("--max-tokens must be -1 or in 0...1000000, got \(n)")
        }
        guard temperature.isFinite, temperature >= 0, temperature <= 100 else { throw ValidationError("--temperature must be in 0...100") }
        guard topK >= 0 else { throw ValidationError("--top-k must be >= 0") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw ValidationError("--min-p must be in [0, 1]") }
        guard repeatPenalty.isFinite, repeatPenalty > 0, repeatPenalty <= 100 else { throw ValidationError("--repeat-penalty must be in (0, 100]") }
        if let c = ctx, !(1...16_777_216).contains(c) { throw ValidationError("--ctx must be in 1...16777216, got \(c)") }
        if system != nil && systemFile != nil { throw ValidationError("give --system or --system-file, not both") }
        if raw && (system != nil || systemFile != nil) { throw ValidationError("--system needs the chat template; drop --raw") }
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
        let (engine, loadMs) = try modelOptions.loadEngineTimed()
        if let c = constraint { Stdio.info("grammar: \(c.grammar.ruleNames.count) rules, compiled in \(fmt1(c.milliseconds)) ms") }
        let context = ctx ?? engine.defaultContext
        guard context <= engine.config.trainedContextLength else {
            throw CLIError.usage("--ctx \(context) exceeds the model's trained context of \(engine.config.trainedContextLength)")
        }
        let formatted: String
        if !raw && engine.chatTemplate == nil && systemText != nil {
            throw CLIError.usage("this model's file has no chat template, so --system cannot be applied; put the system text in the prompt")
        }
        if !raw, let template = engine.chatTemplate {
            formatted = template.render(system: systemText, user: text)
        } else {
            formatted = text
        }
        var request = GenerationRequest(prompt: engine.tokenize(formatted), contextLength: context)
        request.sampling.temperature = temperature
        request.sampling.topK = topK
        request.sampling.topP = topP
        request.sampling.minP = minP
        request.sampling.repeatPenalty = repeatPenalty
        request.sampling.seed = seed?.value ?? UInt64(UInt32.random(in: 0...UInt32.max))
        request.stops = stops
        request.ignoreEOS = ignoreEos
        request.prefixCache = cacheOptions.makeCache(for: engine, quiet: modelOptions.quiet)
        request.grammar = constraint?.grammar
        request.thinkBudget = constraints.thinkBudget
        request.hideReasoning = constraints.hideReasoning
        request.maxTokens = maxTokenCount(room: engine.generationRoom(request), context: context)
        request.cancellation = Interrupt.install()
        var result = try runtime { () throws(EngineError) in
            try engine.generate(request) { piece in Stdio.out(piece) }
        }
        Stdio.out("\n")
        result.loadMs = loadMs
        result.totalMs = milliseconds(ContinuousClock.now - started)
        Stdio.info(summary(result))
        if let stats {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try stats.write(Array(try encoder.encode(result)) + [0x0A])
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
            + "\(fmt1(s.decodeTokensPerSecond)) tok/s | load \(fmt1(s.loadMs)) ms, total \(fmt1(s.totalMs)) ms | "
            + "seed \(s.seed) | stop: \(s.stopReason.rawValue)"
    }
}

/// `--seed`: a number, or -1 for a random one.
struct SeedArgument: ExpressibleByArgument {
    /// nil: draw a random seed.
    var value: UInt64?

    init?(argument: String) {
        if argument == "-1" {
            value = nil
        } else if let v = UInt64(argument) {
            value = v
        } else {
            return nil
        }
    }
}

/// A text file named by `flag`, which must be valid UTF-8.
func readTextFile(_ path: String, flag: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        var st = stat()
        let reason = stat(path, &st) != 0 ? String(cString: strerror(errno))
            : (st.st_mode & S_IFMT) == S_IFDIR ? "is a directory" : "cannot be read"
        throw CLIError.runtime("cannot read \(flag) '\(path)': \(reason)")
    }
    return try Stdio.utf8(data, what: "\(flag) '\(path)'")
}
