import CKernels
import Foundation
import GGUF
import SLMModels
import Tokenizers

/// A loaded model with its tokenizer, ready to run: the one object every command talks to.
public final class Engine {
    public let file: GGUFFile
    public let model: any LanguageModel
    public let tokenizer: any Tokenizer
    /// The file's chat template (or a built-in stand-in, see `chatTemplateNote`); nil when the file has none.
    public let chatTemplate: ChatTemplate?
    /// Why the file's template is not used as is, when it is not.
    public let chatTemplateNote: String?
    public let threads: Int
    public let maxBatch: Int
    let runner: any ModelRunner

    public var config: ModelConfig { model.config }

    public init(modelPath: String, threads: Int, maxBatch: Int = 256) throws(EngineError) {
        do { file = try GGUFFile(path: modelPath) } catch { throw .file(error) }
        // The tokenizer (tens of ms for a 262k vocabulary) is built on another thread while the weights are checked
        // and packed: load time is the longer of the two, not their sum.
        let tokenizerJob = TokenizerJob(file)
        let loaded: Result<any LanguageModel, ModelError>
        do { loaded = .success(try ModelRegistry.load(file)) } catch { loaded = .failure(error) }
        let built = tokenizerJob.wait()
        switch loaded {
        case .success(let m): model = m
        case .failure(let error): throw .model(error)
        }
        switch built {
        case .success(let t): tokenizer = t
        case .failure(let error): throw .tokenizer(error)
        }
        guard tokenizer.vocabularySize <= model.config.vocabularySize else {
            throw .invalidArgument("tokenizer has \(tokenizer.vocabularySize) tokens but token_embd has only \(model.config.vocabularySize) rows")
        }
        let template = try? file.optionalString("tokenizer.chat_template")
        (chatTemplate, chatTemplateNote) = ChatTemplate.resolve(fileTemplate: template ?? nil)
        self.threads = max(1, threads)
        self.maxBatch = max(1, maxBatch)
        do { runner = try model.makeRunner(threads: self.threads, maxBatch: self.maxBatch) } catch { throw .model(error) }
    }

    /// A KV cache for one sequence of up to `capacity` positions.
    public func makeCache(capacity: Int) throws(EngineError) -> KVCache {
        do { return try KVCache(config: config, capacity: capacity, maxBatch: maxBatch) } catch { throw .model(error) }
    }

    /// The default context: min(model's trained context, 4096).
    public var defaultContext: Int { min(config.trainedContextLength, 4096) }

    /// The context to run with: `requested` (`--ctx`) when given, at most what the model was trained for; else the
    /// default.
    public func contextLength(_ requested: Int?) throws(EngineError) -> Int {
        let context = requested ?? defaultContext
        guard context <= config.trainedContextLength else {
            throw .unsupported("--ctx \(context) exceeds the model's trained context of \(config.trainedContextLength)")
        }
        return context
    }

    public func tokenize(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = true) -> [Int32] {
        tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: parseSpecial)
    }

    /// Runs `tokens` through the model, appending to `cache`; returns the logits of the selected rows.
    public func evaluate(_ tokens: [Int32], cache: KVCache, outputs: OutputRows,
                         into logits: inout [Float]) throws(EngineError) {
        let rows = outputs.rowCount(tokens.count)
        let need = rows * config.vocabularySize
        if logits.count < need { logits = [Float](repeating: 0, count: need) }
        do {
            try tokens.withUnsafeBufferPointer { (t) throws(ModelError) in
                try logits.withUnsafeMutableBufferPointer { (l) throws(ModelError) in
                    try runner.forward(tokens: t, cache: cache, outputs: outputs, logits: l.baseAddress!)
                }
            }
        } catch { throw .model(error) }
    }
}

extension Engine {
    /// Runs `tokens` in chunks of maxBatch, appending to `cache`, and hands each row of logits for positions
    /// `from ..< tokens.count` to `body(position, row)`; memory stays at maxBatch rows whatever the prompt length.
    public func evaluateRows(_ tokens: [Int32], cache: KVCache, from: Int = 0,
                             _ body: (Int, UnsafeBufferPointer<Float>) -> Void) throws(EngineError) {
        let v = config.vocabularySize
        var logits: [Float] = []
        var start = 0
        while start < tokens.count {
            let end = min(start + maxBatch, tokens.count)
            let firstRow = max(from - start, 0)
            let chunk = Array(tokens[start..<end])
            if firstRow >= chunk.count {
                try evaluate(chunk, cache: cache, outputs: .from(chunk.count), into: &logits)
            } else {
                try evaluate(chunk, cache: cache, outputs: .from(firstRow), into: &logits)
                logits.withUnsafeBufferPointer { l in
                    for r in firstRow..<chunk.count {
                        let i = r - firstRow
                        body(start + r, UnsafeBufferPointer(rebasing: l[(i * v)..<((i + 1) * v)]))
                    }
                }
            }
            start = end
        }
    }
}

extension OutputRows {
    func rowCount(_ n: Int) -> Int {
        switch self {
        case .last: return n > 0 ? 1 : 0
        case .all: return n
        case .from(let i): return max(0, n - min(max(i, 0), n))
        }
    }
}

/// makeTokenizer(from:) running on its own thread from init until `wait`.
private final class TokenizerJob: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<any Tokenizer, TokenizerError> = .failure(.unsupportedModel(""))  // set before `done`

    init(_ file: GGUFFile) {
        let thread = Thread { [self] in
            do throws(TokenizerError) { result = .success(try makeTokenizer(from: file)) } catch { result = .failure(error) }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    func wait() -> Result<any Tokenizer, TokenizerError> {
        done.wait()
        return result
    }
}
