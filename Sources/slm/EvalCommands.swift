import ArgumentParser
import Foundation
import SLMEngine

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Teacher-forced evaluation of a prompt: the top logits at every position, as JSON.",
        discussion: "Output: {\"tokens\": [ids], \"top\": [[[id, logit], ...], ...]} (one list per prompt position).")

    @OptionGroup var modelOptions: ModelOptions
    @Argument(help: "The prompt; absent: read stdin.") var prompt: String?
    @Option(name: .long, help: "Pairs per position.") var top: Int = 10

    func validate() throws {
        guard (1...1000).contains(top) else { throw ValidationError("--top must be in 1...1000, got \(top)") }
    }

    func run() throws {
        let text = try promptText(prompt)
        let engine = try modelOptions.loadEngine()
        let tokens = engine.tokenize(text)
        guard tokens.count <= engine.config.trainedContextLength else {
            throw CLIError.runtime("the prompt has \(tokens.count) tokens, more than the model's context of \(engine.config.trainedContextLength)")
        }
        let rows = try runtime { () throws(EngineError) in try engine.topLogits(tokens, top: top) }
        var s = "{\"tokens\": [" + tokens.map(String.init).joined(separator: ", ") + "], \"top\": ["
        s += rows.map { row in "[" + row.map { "[\($0.0), \(jsonFloat($0.1))]" }.joined(separator: ", ") + "]" }
            .joined(separator: ", ")
        s += "]}\n"
        Stdio.out(s)
    }
}

func jsonFloat(_ x: Float) -> String {
    x.isFinite ? "\(x)" : (x > 0 ? "1e38" : "-1e38")
}

struct Perplexity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Perplexity of a text file, by llama.cpp's method.",
        discussion: "The last line of stdout is `PPL = <value>`. Example: slm perplexity --file ppl-gpl3.txt --ctx 512")

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .long, help: "The text file.") var file: String
    @Option(name: .long, help: "Chunk length in tokens.") var ctx: Int = 512

    func validate() throws {
        guard (2...1_048_576).contains(ctx) else { throw ValidationError("--ctx must be in 2...1048576, got \(ctx)") }
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError.runtime("cannot read --file '\(file)'") }
        let text = try Stdio.utf8(data, what: "--file '\(file)'")
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
