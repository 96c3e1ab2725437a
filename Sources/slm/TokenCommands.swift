import ArgumentParser
import Foundation
import GGUF
import SLMEngine
import Tokenizers

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the token ids of a text, separated by spaces (--pieces: one token and its text per line).",
        discussion: """
            Examples:
              slm tokenize "Hello world"
              slm tokenize --pieces "Hello world"
              slm tokenize -m gemma3-270m < prompt.txt
              slm tokenize -m ggml-vocab-qwen2.gguf "Hello world"

            Only the file's tokenizer is read, so a vocab-only file (tokenizer metadata, no tensors) works too.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Argument(help: "The text (escapes read); absent: read stdin (all bytes, unchanged).") var text: String?
    @Flag(name: .long, help: "Do not add BOS even when the model asks for it.") var noAddSpecial = false
    @Flag(name: .long, help: "Treat special-token text such as <|im_start|> as plain text.") var noParseSpecial = false
    @Flag(name: .long, help: "One line per token: the id, a tab, and its text quoted with escapes.") var pieces = false
    @OptionGroup var escapes: EscapeOptions

    func run() throws {
        let input = try escapes.text(text, quiet: modelOptions.quiet, what: "the text")
        let tokenizer = try modelOptions.loadTokenizer()
        let ids = tokenizer.encode(input, addSpecial: !noAddSpecial, parseSpecial: !noParseSpecial)
        if pieces {
            Stdio.out(ids.map { "\($0)\t\"\(piece(tokenizer, $0))\"\n" }.joined())
        } else {
            Stdio.out(ids.map(String.init).joined(separator: " ") + "\n")
        }
    }
}

/// A token's text as `--pieces` and `slm logits` show it: its bytes (special tokens rendered), control characters
/// and bytes that are not UTF-8 on their own as escapes (`\n`, `\xe2`), `\` and `"` escaped.
func piece(_ engine: Engine, _ id: Int32) -> String { piece(engine.tokenizer, id) }

func piece(_ tokenizer: any Tokenizers.Tokenizer, _ id: Int32) -> String {
    Escapes.visible(bytes: tokenizer.tokenBytes(id, renderSpecial: true))
}

struct Detokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the text of token ids, given as arguments or on stdin.",
        discussion: """
            A leading BOS that the model adds by itself is dropped (--keep-bos keeps it), so that tokenize's output \
            turns back into its text.

            Examples:
              slm detokenize 19556 905
              slm tokenize "Hello world" | slm detokenize
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Argument(help: "Token ids; absent: read them from stdin, separated by spaces, commas or newlines.")
    var ids: [Int32] = []
    @Flag(name: .long, help: "Print a leading BOS token too.") var keepBos = false

    func run() throws {
        var list = ids
        if list.isEmpty {
            let text = try Stdio.readStdinText(what: "the token ids from stdin", hint: modelOptions.quiet ? nil : "token ids")
            list = try parseTokenIDs(text)
        }
        let tokenizer = try modelOptions.loadTokenizer()
        for id in list where id < 0 || Int(id) >= tokenizer.vocabularySize {
            throw CLIError.runtime("token id \(id) is out of range (vocabulary has \(tokenizer.vocabularySize) tokens)")
        }
        if !keepBos, tokenizer.addBOS, let bos = tokenizer.bosToken, list.first == bos {
            list.removeFirst()
        }
        Stdio.out(tokenizer.decode(list, renderSpecial: true) + "\n")
    }
}

/// Integers separated by whitespace, commas or brackets ("1 2 3", "[1, 2, 3]"); anything else is an input error
/// naming the word.
func parseTokenIDs(_ text: String) throws -> [Int32] {
    let separators = CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: ",[]"))
    return try text.components(separatedBy: separators).filter { !$0.isEmpty }.map { word in
        guard let id = Int32(word) else {
            throw CLIError.runtime("stdin: '\(word.prefix(40))' is not a token id")
        }
        return id
    }
}
