import Foundation
import SLMEngine

/// A parsed completion request, ready for the scheduler: the generation itself plus how to answer (stream or not,
/// usage chunk, logprobs).
struct PreparedRequest: Sendable {
    var scheduled: ScheduledRequest
    var stream = false
    var includeUsage = false
    /// nil: no logprobs in the answer; k: the chosen token's and k alternatives.
    var logprobs: Int?
    /// The model name the client sent (echoed back, as clients send their cloud model's name).
    var model: String
    /// Tools the reply may call (the reply is parsed for calls when not empty), and their call syntax.
    var tools: [ChatTool] = []
    var toolFormat: ToolCallFormat = .hermes
    var promptTokens: Int { scheduled.generation.prompt.count }

    init(scheduled: ScheduledRequest, stream: Bool, includeUsage: Bool, logprobs: Int?, model: String) {
        self.scheduled = scheduled
        self.stream = stream
        self.includeUsage = includeUsage
        self.logprobs = logprobs
        self.model = model
    }
}

/// The sampling and constraint fields that /v1/chat/completions and /v1/completions share (OpenAI's names, then
/// llama-server's extensions), applied to a generation request over `prompt`.
enum RequestParsing {
    static func generation(_ f: JSONFields, prompt: [Int32], service: ModelService,
                           maxTokensKeys: [String]) throws(APIError) -> GenerationRequest {
        guard !prompt.isEmpty else { throw .invalid("the prompt is empty", param: "prompt") }
        let ctx = service.contextLength
        var r = GenerationRequest(prompt: prompt, contextLength: ctx)
        if let n = try f.int("n", in: 1...Int.max), n != 1 {
            throw .invalid("'n' must be 1: slm returns one choice per request (send several requests instead)", param: "n")
        }
        for key in ["presence_penalty", "frequency_penalty"] {
            if let p = try f.double(key, in: -2...2), p != 0 {
                throw .invalid("'\(key)' is not supported; use 'repeat_penalty' (1 = off)", param: key)
            }
        }
        var maxTokens: Int?
        var maxKey = maxTokensKeys[0]
        for key in maxTokensKeys {
            if let m = try f.int(key, in: -1...16_777_216) { maxTokens = m; maxKey = key }
        }
        let control = try reasoningBudget(f, service: service)
        r.thinkBudget = control
        let reserve = control == nil ? 0 : Engine.reasoningReserve
        let room = ctx - prompt.count - reserve
        guard room >= 1 else {
            throw APIError(.badRequest, "the prompt is \(prompt.count) tokens, which leaves no room in the context of \(ctx) tokens",
                           type: "invalid_request_error", param: "messages", code: "context_length_exceeded")
        }
        switch maxTokens {
        case nil, -1: r.maxTokens = room
        case let m?:
            guard m <= room else {
                throw APIError(.badRequest, "prompt (\(prompt.count) tokens) + \(maxKey) (\(m)) exceeds the context of \(ctx) tokens",
                               type: "invalid_request_error", param: maxKey, code: "context_length_exceeded")
            }
            r.maxTokens = m
        }
        var s = SamplingParameters()
        if let t = try f.double("temperature", in: 0...100) { s.temperature = Float(t) }
        if let p = try f.double("top_p", in: 0...1) {
            guard p > 0 else { throw .invalid("'top_p' must be in (0, 1]", param: "top_p") }
            s.topP = Float(p)
        }
        if let k = try f.int("top_k", in: 0...1_000_000) { s.topK = k }
        if let m = try f.double("min_p", in: 0...1) { s.minP = Float(m) }
        if let rp = try f.double("repeat_penalty", in: 0...100) {
            guard rp > 0 else { throw .invalid("'repeat_penalty' must be in (0, 100]", param: "repeat_penalty") }
            s.repeatPenalty = Float(rp)
        }
        if let seed = try f.int("seed", in: Int(Int64.min)...Int(Int64.max)), seed != -1 {
            s.seed = UInt64(bitPattern: Int64(seed))
        } else {
            s.seed = UInt64.random(in: 0...UInt64.max)
        }
        r.sampling = s
        if let stops = try f.strings("stop", limit: 16) {
            guard stops.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 1_000 }) else {
                throw .invalid("'stop' strings must be 1 to 1000 bytes", param: "stop")
            }
            r.stops = stops
        }
        r.ignoreEOS = try f.bool("ignore_eos") ?? false
        r.grammar = try grammar(f)
        r.prefixCache = service.prefixCache
        return r
    }

    /// `reasoning_budget` (slm's extension): tokens the model may reason before the engine closes the section; the
    /// server's --think-budget when absent; -1 turns it off for this request.
    static func reasoningBudget(_ f: JSONFields, service: ModelService) throws(APIError) -> Int? {
        if let b = try f.int("reasoning_budget", in: -1...1_000_000) { return b < 0 ? nil : b }
        return service.options.thinkBudget
    }

    /// `response_format` (json_object, json_schema) or `grammar` (GBNF), compiled; nil for free text.
    static func grammar(_ f: JSONFields) throws(APIError) -> Grammar? {
        let gbnf = try f.string("grammar")
        var constraint: Grammar?
        if let rf = try f.object("response_format") {
            let type = try rf.string("type") ?? "text"
            switch type {
            case "text": break
            case "json_object":
                constraint = try compile(param: "response_format") { () throws(GrammarError) in
                    try Grammar(gbnf: JSONSchemaGrammar.anyValueGBNF)
                }
            case "json_schema":
                guard let js = try rf.object("json_schema") else {
                    throw .invalid("'response_format.json_schema' is required when type is json_schema", param: "response_format.json_schema")
                }
                guard let schema = js["schema"] else {
                    throw .invalid("'response_format.json_schema.schema' is required", param: "response_format.json_schema.schema")
                }
                _ = try js.string("name")
                _ = try js.bool("strict")
                let text = schema.serialized
                constraint = try compile(param: "response_format.json_schema.schema") { () throws(GrammarError) in
                    try JSONSchemaGrammar.grammar(schema: text)
                }
            default:
                throw .invalid("'response_format.type' must be text, json_object or json_schema, got '\(type)'",
                               param: "response_format.type")
            }
        }
        if let gbnf {
            guard constraint == nil else { throw .invalid("give 'grammar' or 'response_format', not both", param: "grammar") }
            constraint = try compile(param: "grammar") { () throws(GrammarError) in try Grammar(gbnf: gbnf) }
        }
        return constraint
    }

    private static func compile(param: String, _ body: () throws(GrammarError) -> Grammar) throws(APIError) -> Grammar {
        do { return try body() } catch { throw .invalid("'\(param)': \(error.description)", param: param) }
    }

    /// `logprobs` of /v1/chat/completions: a boolean plus `top_logprobs` (0...20).
    static func chatLogprobs(_ f: JSONFields) throws(APIError) -> Int? {
        let top = try f.int("top_logprobs", in: 0...20)
        guard try f.bool("logprobs") == true else {
            if top != nil { throw .invalid("'top_logprobs' needs 'logprobs': true", param: "top_logprobs") }
            return nil
        }
        return top ?? 0
    }

    static func streamFlags(_ f: JSONFields) throws(APIError) -> (stream: Bool, includeUsage: Bool) {
        let stream = try f.bool("stream") ?? false
        let usage = try f.object("stream_options")?.bool("include_usage") ?? false
        return (stream, usage)
    }
}
