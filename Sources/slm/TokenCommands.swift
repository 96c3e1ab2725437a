import ArgumentParser
import Foundation
import SLMEngine

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the token ids of a text, separated by spaces.",
        discussion: "Example: slm tokenize \"Hello world\"  ->  19556 905")

    @OptionGroup var modelOptions: ModelOptions
    @Argument(help: "The text; absent: read stdin (all bytes, unchanged).") var text: String?
    @Flag(name: .long, help: "Do not add BOS even when the model asks for it.") var noAddSpecial = false
    @Flag(name: .long, help: "Treat special-token text such as <|im_start|> as plain text.") var noParseSpecial = false

    func run() throws {
        let input = try text ?? Stdio.readStdinText(what: "stdin")
        let engine = try modelOptions.loadEngine(maxBatch: 1)
        let ids = engine.tokenize(input, addSpecial: !noAddSpecial, parseSpecial: !noParseSpecial)
        Stdio.out(ids.map(String.init).joined(separator: " ") + "\n")
    }
}

struct Detokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the text of token ids.", discussion: "Example: slm detokenize 19556 905  ->  Hello world")

    @OptionGroup var modelOptions: ModelOptions
    @Argument(help: "Token ids.") var ids: [Int32] = []

    func run() throws {
        let engine = try modelOptions.loadEngine(maxBatch: 1)
        for id in ids where id < 0 || Int(id) >= engine.tokenizer.vocabularySize {
            throw CLIError.runtime("token id \(id) is out of range (vocabulary has \(engine.tokenizer.vocabularySize) tokens)")
        }
        Stdio.out(engine.tokenizer.decode(ids, renderSpecial: true) + "\n")
    }
}
