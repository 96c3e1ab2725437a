import Foundation
import SLMEngine
import SLMModels

/// What the server was started with.
public struct ServerOptions: Sendable {
    /// The name `/v1/models` lists and responses carry.
    public var modelName = "slm"
    public var host = "127.0.0.1"
    public var port = 8080
    /// Requests must carry `Authorization: Bearer <key>` (every route but /health); nil: no key.
    public var apiKey: String?
    /// Largest request body (413 beyond) and header block (431 beyond).
    public var maxBodyBytes = 8 << 20
    public var maxHeaderBytes = 32 << 10
    /// A connection with no request for this long is closed.
    public var idleTimeoutSeconds = 60
    /// Default reasoning budget of a request that names none (nil: no reasoning section).
    public var thinkBudget: Int?
    /// Seconds a graceful stop lets running requests finish before cancelling them.
    public var shutdownGraceSeconds = 5
    /// Prices each request's share of the machine's time (`usage.local_cost`, /metrics).
    public var hardware: HardwareCost = .thisMachine
    /// The cloud model each request is also priced at (`usage.local_cost.cloud_equivalent`, /metrics); nil: none.
    public var costReference: CloudPrice? = PriceTable.builtIn.defaultReference
    /// Cloud tokens per local token: the same text's token counts differ by tokenizer (characters per local token
    /// over characters per cloud token).
    public var cloudTokensPerLocalToken = 1.0

    public init() {}
}

/// The served model: the engine, the scheduler that owns its runner, and the prefix cache they share. Everything the
/// HTTP layer asks of the model goes through here. Sendable because request handlers touch only the engine's
/// immutable parts (tokenizer, configuration, file); its runner belongs to the scheduler's thread.
public final class ModelService: @unchecked Sendable {
    public let engine: Engine
    public let scheduler: Scheduler
    public let options: ServerOptions
    public let prefixCache: PrefixCache?
    /// Unix time the service started (`created` in /v1/models).
    public let created: Int

    public init(engine: Engine, scheduler: SchedulerOptions, options: ServerOptions) throws(EngineError) {
        self.engine = engine
        self.options = options
        prefixCache = scheduler.prefixCache
        chatTemplate = engine.servingTemplate
        self.scheduler = try Scheduler(engine: engine, options: scheduler)
        created = Int(Date().timeIntervalSince1970)
    }

    public var contextLength: Int { scheduler.options.contextLength }

    /// The template chat requests are rendered with: the model's own, or a stand-in when its file has none.
    let chatTemplate: ChatTemplate

    var toolCallFormat: ToolCallFormat { ToolCallFormat.detect(chatTemplate) }

    func tokenize(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = true) -> [Int32] {
        engine.tokenize(text, addSpecial: addSpecial, parseSpecial: parseSpecial)
    }

    /// The text of a token as the model emits it (special tokens rendered), for logprobs and /detokenize.
    func pieceBytes(_ id: Int32) -> [UInt8] { engine.tokenizer.tokenBytes(id, renderSpecial: true) }

    var vocabularySize: Int { min(engine.tokenizer.vocabularySize, engine.config.vocabularySize) }
}
