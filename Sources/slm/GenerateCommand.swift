import ArgumentParser
import Foundation
import SLMEngine

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text from a prompt, streaming it to stdout.",
        discussion: """
            Without --raw, the prompt is the user turn of the model's chat template (--system gives the system turn).
            Stop reasons (the summary on stderr; "stop_reason" in --stats-file):
              eos     the model ended, or the grammar allows nothing more
              length  --max-tokens ran out. Under --json, --json-schema or
                      --grammar the output is still complete and valid: near
                      the limit the engine steers to a shortest completion
                      ("answer_shortened" in the stats)
              stop    a --stop string appeared (it is not printed)
            Under a grammar, a --max-tokens below the shortest valid output
            (plus the close marker with --think-budget) is refused before
            generating, naming the least that fits.
            Examples:
              slm generate "Write a haiku about CPUs."
              echo "The capital of France is" | slm generate --raw --temperature 0 --max-tokens 16
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var constraints: ConstraintOptions

    @Argument(help: "The prompt; absent or '-': read from stdin.")
    var prompt: String?

    @Flag(name: .long, help: "No chat template: tokenize the prompt as is (special-token text is parsed).")
    var raw = false
    @Option(name: .long, help: "System turn text.") var system: String?
    @Option(name: .long, help: "Read the system turn from a file.") var systemFile: String?

    @Option(name: .long, help: "Most tokens to generate.") var maxTokens: Int = 256
    @Option(name: .long, help: "Sampling temperature; 0 = greedy.") var temperature: Float = 0.7
    @Option(name: .long, help: "Keep the K most likely tokens (0 = all).") var topK: Int = 40
    @Option(name: .long, help: "Nucleus sampling threshold (1 = off).") var topP: Float = 0.95
    @Option(name: .long, help: "Minimum probability relative to the best token (0 = off).") var minP: Float = 0.05
    @Option(name: .long, help: "Penalty for tokens among the last 64 (1 = off).") var repeatPenalty: Float = 1.0
    @Option(name: .long, help: "Random seed: same seed, options and machine give the same text.") var seed: UInt64 = 0xC0FFEE
    @Option(name: .long, help: "Stop when this text appears (repeatable; not printed).") var stop: [String] = []
    @Option(name: .long, help: "Context length (default: min(model's, 4096)).") var ctx: Int?
    @Option(name: .long, help: "Write generation statistics as JSON to this file.") var statsFile: String?
    @Flag(name: .long, help: "Keep generating past end-of-generation tokens (benchmarks).") var ignoreEos = false
    @OptionGroup var cacheOptions: CacheOptions

    func validate() throws {
        guard (0...1_000_000).contains(maxTokens) else { throw ValidationError("--max-tokens must be in 0...1000000, got \(maxTokens)") }
        guard temperature.isFinite, temperature >= 0, temperature <= 100 else { throw ValidationError("--temperature must be in 0...100") }
        guard topK >= 0 else { throw ValidationError("--top-k must be >= 0") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw ValidationError("--min-p must be in [0, 1]") }
        guard repeatPenalty.isFinite, repeatPenalty > 0, repeatPenalty <= 100 else { throw ValidationError("--repeat-penalty must be in (0, 100]") }
        if let c = ctx, !(1...16_777_216).contains(c) { throw ValidationError("--ctx must be in 1...16777216, got \(c)") }
        if system != nil && systemFile != nil { throw ValidationError("give --system or --system-file, not both") }
        if raw && (system != nil || systemFile != nil) { throw ValidationError("--system needs the chat template; drop --raw") }
    }

    func run() throws {
        let text = try promptText(prompt)
        var systemText = system
        if let path = systemFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError.runtime("cannot read --system-file '\(path)'")
            }
            systemText = try Stdio.utf8(data, what: "--system-file '\(path)'")
        }
        let constraint = try constraints.compiledGrammar()
        let engine = try modelOptions.loadEngine()
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
        request.maxTokens = maxTokens
        request.sampling.temperature = temperature
        request.sampling.topK = topK
        request.sampling.topP = topP
        request.sampling.minP = minP
        request.sampling.repeatPenalty = repeatPenalty
        request.sampling.seed = seed
        request.stops = stop
        request.ignoreEOS = ignoreEos
        request.prefixCache = cacheOptions.makeCache(for: engine, quiet: modelOptions.quiet)
        request.grammar = constraint?.grammar
        request.thinkBudget = constraints.thinkBudget
        request.hideReasoning = constraints.hideReasoning
        request.thinkMessage = constraints.thinkMessage
        request.thinkSoft = constraints.thinkSoft
        // A budget that cannot end in a valid answer is a bad flag value: refused before anything is printed.
        do { _ = try engine.budgetPlan(for: request) } catch {
            if case .budgetTooSmall = error { throw CLIError.usage(error.description) }
            throw CLIError.runtime(error.description)
        }
        if let c = constraint { Stdio.info("grammar: \(c.grammar.ruleNames.count) rules, compiled in \(fmt1(c.milliseconds)) ms") }
        let stats = try runtime { () throws(EngineError) in
            try engine.generate(request) { piece in Stdio.out(piece) }
        }
        Stdio.out("\n")
        Stdio.info("prompt: \(stats.promptTokens) tokens (\(stats.cachedTokens) cached), \(fmt1(stats.prefillTokensPerSecond)) tok/s | generated: "
            + "\(stats.generatedTokens) tokens, \(fmt1(stats.decodeTokensPerSecond)) tok/s | stop: \(stats.stopReason.rawValue)"
            + (stats.answerShortened ? " (answer shortened to fit --max-tokens)" : ""))
        if let path = statsFile {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(stats)
            guard FileManager.default.createFile(atPath: path, contents: data + Data("\n".utf8)) else {
                throw CLIError.runtime("cannot write --stats-file '\(path)'")
            }
        }
    }
}
