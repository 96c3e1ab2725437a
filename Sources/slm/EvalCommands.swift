import ArgumentParser
import Foundation
import SLMEngine

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Teacher-forced evaluation of a prompt: the top logits at every position, as JSON.",
        discussion: """
            Output, one JSON object: "tokens" (the prompt's ids), "pieces" (their text), and per prompt position \
            "top" ([id, logit] pairs, highest first), "top_pieces" (the text of those ids) and "top_probs" (their \
            probabilities, softmax over the whole vocabulary).

            Example:
              slm logits --top 5 "The capital of France is"
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Argument(help: "The prompt (escapes read); absent: read stdin.") var prompt: String?
    @Option(name: .long, help: "Pairs per position.") var top: Int = 10
    @OptionGroup var escapes: EscapeOptions

    func validate() throws {
        guard (1...1000).contains(top) else { throw ValidationError("--top must be in 1...1000, got \(top)") }
    }

    func run() throws {
        let text = try escapes.text(prompt, quiet: modelOptions.quiet)
        let engine = try modelOptions.loadEngine()
        let tokens = engine.tokenize(text)
        guard tokens.count <= engine.config.trainedContextLength else {
            throw CLIError.runtime("the prompt has \(tokens.count) tokens, more than the model's context of \(engine.config.trainedContextLength)")
        }
        let rows = try runtime { () throws(EngineError) in try engine.topLogitsWithLogSumExp(tokens, top: top) }
        func piece(_ id: Int32) -> String {
            String(decoding: engine.tokenizer.tokenBytes(id, renderSpecial: true), as: UTF8.self)
        }
        let output = LogitsOutput(
            tokens: tokens, pieces: tokens.map(piece),
            top: rows.map { row in row.top.map { IDLogit(id: $0.0, logit: $0.1) } },
            topPieces: rows.map { row in row.top.map { piece($0.0) } },
            topProbs: rows.map { row in row.top.map { finiteForJSON(Float(exp(Double($0.1) - row.logSumExp))) } })
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        Stdio.out(String(decoding: try encoder.encode(output), as: UTF8.self) + "\n")
    }
}

/// `slm logits` output (docs/INTERFACE.md); keys are written in snake case, sorted.
struct LogitsOutput: Encodable {
    var tokens: [Int32]
    var pieces: [String]
    var top: [[IDLogit]]
    var topPieces: [[String]]
    var topProbs: [[Float]]
}

/// A `[id, logit]` pair; an infinite logit is written as ±1e38 (JSON has no infinity).
struct IDLogit: Encodable {
    var id: Int32
    var logit: Float

    func encode(to encoder: Encoder) throws {
        var pair = encoder.unkeyedContainer()
        try pair.encode(id)
        try pair.encode(finiteForJSON(logit))
    }
}

func finiteForJSON(_ x: Float) -> Float {
    x.isFinite ? x : (x > 0 ? 1e38 : -1e38)
}

struct Perplexity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Perplexity of a text file, by llama.cpp's method.",
        discussion: """
            The last line of stdout is `PPL = <value>`.

            Example:
              slm perplexity -f Tests/Fixtures/ppl-gpl3.txt -c 512
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("The text file.", valueName: "PATH")) var file: String
    @Option(name: [.customShort("c"), .long], help: ArgumentHelp(
        "Chunk length in tokens (at least 3: the second half of each chunk is scored, but its last token).",
        valueName: "N"))
    var ctx: Int = 512

    func validate() throws {
        let low = Engine.minimumPerplexityContext
        guard (low...1_048_576).contains(ctx) else { throw ValidationError("--ctx must be in \(low)...1048576, got \(ctx)") }
    }

    func run() throws {
        let text = try readTextFile(file, flag: "--file")
        let engine = try modelOptions.loadEngine(maxBatch: 512)
        guard ctx <= engine.config.trainedContextLength else {
            throw CLIError.usage("--ctx \(ctx) exceeds the model's trained context of \(engine.config.trainedContextLength)")
        }
        let tokens = engine.tokenize(text)
        Stdio.info("\(tokens.count) tokens, \(tokens.count / ctx) chunks of \(ctx)")
        let start = Date()
        let result = try runtime { () throws(EngineError) in
            try engine.perplexity(tokens, context: ctx) { done, total, ppl in
                Stdio.info("[\(done)/\(total)] PPL so far \(String(format: "%.4f", ppl))")
            }
        }
        Stdio.info("\(result.chunks) chunks in \(fmt1(Date().timeIntervalSince(start))) s")
        Stdio.out("PPL = \(String(format: "%.4f", result.ppl))\n")
    }
}
