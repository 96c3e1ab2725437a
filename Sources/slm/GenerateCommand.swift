import ArgumentParser
import Foundation
import SLMEngine

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text from a prompt, streaming it to stdout.",
        discussion: """
            Without --raw, the prompt is the user turn of the model's chat template (--system gives the system turn).
            Examples:
              slm generate "Write a haiku about CPUs."
              echo "The capital of France is" | slm generate --raw --temperature 0 --max-tokens 16
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var constraints: ConstraintOptions
    @OptionGroup var templateOptions: ChatTemplateOptions
    @OptionGroup var toolOptions: ToolOptions

    @Argument(help: "The prompt; absent or '-': read from stdin.")
    var prompt: String?

    @Flag(name: .long, help: "No chat template: tokenize the prompt as is (special-token text is parsed).")
    var raw = false
    @Option(name: .long, help: "System turn text.") var system: String?
    @Option(name: .long, help: "Read the system turn from a file.") var systemFile: String?

    @Option(name: .long, help: "Most tokens to generate.") var maxTokens: Int = 256
    @OptionGroup var sampling: SamplingOptions
    @Option(name: .long, help: "Stop when this text appears (repeatable; not printed).") var stop: [String] = []
    @Option(name: .long, help: "Context length (default: min(model's, 4096)).") var ctx: Int?
    @Option(name: .long, help: "Write generation statistics as JSON to this file.") var statsFile: String?
    @Flag(name: .long, help: "Keep generating past end-of-generation tokens (benchmarks).") var ignoreEos = false
    @OptionGroup var cacheOptions: CacheOptions

    func validate() throws {
        guard (0...1_000_000).contains(maxTokens) else { throw ValidationError("--max-tokens must be in 0...1000000, got \(maxTokens)") }
        if let c = ctx, !(1...16_777_216).contains(c) { throw ValidationError("--ctx must be in 1...16777216, got \(c)") }
        if system != nil && systemFile != nil { throw ValidationError("give --system or --system-file, not both") }
        if raw && (system != nil || systemFile != nil) { throw ValidationError("--system needs the chat template; drop --raw") }
        if raw && templateOptions.chatTemplate != nil { throw ValidationError("--chat-template and --raw exclude each other") }
        if toolOptions.enabled && (raw || constraints.jsonSchema != nil || constraints.json || constraints.grammar != nil) {
            throw ValidationError("--tools constrains the reply itself: drop --raw, --json, --json-schema and --grammar")
        }
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
        let override = try templateOptions.load()
        let tools = try toolOptions.load()
        let engine = try modelOptions.loadEngine()
        if let c = constraint { Stdio.info("grammar: \(c.grammar.ruleNames.count) rules, compiled in \(fmt1(c.milliseconds)) ms") }
        let context = ctx ?? engine.defaultContext
        guard context <= engine.config.trainedContextLength else {
            throw CLIError.usage("--ctx \(context) exceeds the model's trained context of \(engine.config.trainedContextLength)")
        }
        if !raw && engine.chatTemplate == nil && override == nil && systemText != nil {
            throw CLIError.usage("this model's file has no chat template, so --system cannot be applied; put the system text in the prompt")
        }
        let prompt: [Int32]
        if raw {
            prompt = engine.tokenize(text)
        } else {
            let messages = (systemText.map { [ChatMessage.system($0)] } ?? []) + [.user(text)]
            prompt = engine.tokenizeChat(try runtime { () throws(EngineError) in try engine.renderChat(messages, tools: tools, template: override) })
        }
        var request = GenerationRequest(prompt: prompt, contextLength: context)
        request.maxTokens = maxTokens
        request.sampling = sampling.parameters
        request.stops = stop
        request.ignoreEOS = ignoreEos
        request.prefixCache = cacheOptions.makeCache(for: engine, quiet: modelOptions.quiet)
        request.grammar = constraint?.grammar
        let format = ToolCallFormat.detect(override ?? engine.chatTemplate)
        if toolOptions.enabled { request.grammar = try toolOptions.grammar(tools, format: format) }
        request.thinkBudget = constraints.thinkBudget
        request.hideReasoning = constraints.hideReasoning
        var reply = ""
        let stats = try runtime { () throws(EngineError) in
            try engine.generate(request) { piece in if toolOptions.enabled { reply += piece } else { Stdio.out(piece) } }
        }
        if toolOptions.enabled { Stdio.out(try ToolOptions.message(ToolCalls.parse(reply, format: format, tools: tools))) }
        Stdio.out("\n")
        Stdio.info("prompt: \(stats.promptTokens) tokens (\(stats.cachedTokens) cached), \(fmt1(stats.prefillTokensPerSecond)) tok/s | generated: "
            + "\(stats.generatedTokens) tokens, \(fmt1(stats.decodeTokensPerSecond)) tok/s | stop: \(stats.stopReason.rawValue)")
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
