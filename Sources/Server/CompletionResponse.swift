import Foundation
import SLMEngine

/// Builds OpenAI's response objects for one request: the whole answer (`chat.completion`, `text_completion`) or its
/// stream chunks. JSON is built as ordered values so field order and explicit nulls match OpenAI's.
struct CompletionResponse {
    enum Kind { case chat, text }

    let kind: Kind
    let id: String
    let created: Int
    let model: String
    let service: ModelService
    let logprobs: Int?

    init(kind: Kind, model: String, service: ModelService, logprobs: Int?) {
        self.kind = kind
        id = (kind == .chat ? "chatcmpl-" : "cmpl-") + CompletionResponse.randomID()
        created = Int(Date().timeIntervalSince1970)
        self.model = model
        self.service = service
        self.logprobs = logprobs
    }

    static func randomID() -> String {
        let chars = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<24).map { _ in chars[Int.random(in: 0..<chars.count)] })
    }

    static func finishReason(_ stop: StopReason) -> String {
        switch stop {
        case .eos, .stop: return "stop"
        case .length, .interrupted: return "length"
        }
    }

    // MARK: - Whole responses

    /// `toolCalls`: the calls parsed from the reply (chat only); then `content` is the text beside them, if any, and
    /// the finish reason `tool_calls`.
    func complete(content: String?, reasoning: String, tokens: [TokenLogprob], stats: GenerationStats,
                  toolCalls: [ToolCall] = []) -> JSONValue {
        var choice: [(String, JSONValue)] = [("index", .int(0))]
        switch kind {
        case .chat:
            var message: [(String, JSONValue)] = [("role", .string("assistant")), ("content", content.map { .string($0) } ?? .null)]
            if !reasoning.isEmpty { message.append(("reasoning_content", .string(reasoning))) }
            if !toolCalls.isEmpty { message.append(("tool_calls", Self.toolCalls(toolCalls, indexed: false))) }
            message.append(("refusal", .null))
            choice.append(("message", .object(message)))
            choice.append(("logprobs", logprobs == nil ? .null : chatLogprobs(tokens)))
        case .text:
            choice.append(("text", .string(content ?? "")))
            choice.append(("logprobs", logprobs == nil ? .null : textLogprobs(tokens)))
        }
        choice.append(("finish_reason", .string(toolCalls.isEmpty ? Self.finishReason(stats.stopReason) : "tool_calls")))
        return .object(header(object: kind == .chat ? "chat.completion" : "text_completion")
            + [("choices", .array([.object(choice)])), ("usage", usage(stats))])
    }

    // MARK: - Stream chunks

    /// A chunk carrying `delta` (chat: role / content / reasoning_content; text: the text) and optionally the
    /// finish reason and the logprobs of the tokens it covers.
    func chunk(content: String? = nil, reasoning: String? = nil, role: Bool = false, tokens: [TokenLogprob] = [],
               toolCalls: [ToolCall] = [], finish: StopReason? = nil, finishToolCalls: Bool = false) -> JSONValue {
        var choice: [(String, JSONValue)] = [("index", .int(0))]
        switch kind {
        case .chat:
            var delta: [(String, JSONValue)] = []
            if role { delta.append(("role", .string("assistant"))) }
            if let content { delta.append(("content", .string(content))) }
            if let reasoning { delta.append(("reasoning_content", .string(reasoning))) }
            if !toolCalls.isEmpty { delta.append(("tool_calls", Self.toolCalls(toolCalls, indexed: true))) }
            choice.append(("delta", .object(delta)))
            choice.append(("logprobs", logprobs == nil || tokens.isEmpty ? .null : chatLogprobs(tokens)))
        case .text:
            choice.append(("text", .string(content ?? "")))
            choice.append(("logprobs", logprobs == nil || tokens.isEmpty ? .null : textLogprobs(tokens)))
        }
        choice.append(("finish_reason", finishToolCalls ? .string("tool_calls") : finish.map { .string(Self.finishReason($0)) } ?? .null))
        return .object(header(object: kind == .chat ? "chat.completion.chunk" : "text_completion")
            + [("choices", .array([.object(choice)]))])
    }

    /// OpenAI's `tool_calls` list; stream deltas carry each call's `index` too.
    static func toolCalls(_ calls: [ToolCall], indexed: Bool) -> JSONValue {
        .array(calls.enumerated().map { i, c in
            .object((indexed ? [("index", JSONValue.int(i))] : []) + [
                ("id", .string(c.id)), ("type", .string(c.type)),
                ("function", .object([("name", .string(c.function.name)), ("arguments", .string(c.function.arguments))])),
            ])
        })
    }

    /// A text chunk's SSE event cut around its text: `prefix + JSONValue.string(t).serialized + suffix` is the event
    /// of `chunk(content: t)` (`reasoning: true`: `chunk(reasoning: t)`) with no logprobs and no finish reason. Built
    /// once per stream, so that a token's event is a quoted string between two constants instead of a tree of values.
    struct TextEvent {
        let prefix: String
        let suffix: String

        func event(_ text: String) -> String { prefix + JSONValue.string(text).serialized + suffix }
    }

    /// `reasoning` applies to chat chunks only (a text completion's chunk has no reasoning field).
    func textEvent(reasoning: Bool) -> TextEvent {
        let reasoning = reasoning && kind == .chat
        let text = (reasoning ? chunk(reasoning: "") : chunk(content: "")).serialized
        // The empty string's two quotes after its key. Quotes inside a string value are escaped, so the pattern occurs
        // once, where the builder put the field.
        let marker = kind == .text ? "\"index\":0,\"text\":\"\""
            : reasoning ? "\"delta\":{\"reasoning_content\":\"\"" : "\"delta\":{\"content\":\"\""
        guard let r = text.range(of: marker) else { preconditionFailure("chunk without its text field: \(text)") }
        let open = text.index(r.upperBound, offsetBy: -2)
        return TextEvent(prefix: "data: " + text[..<open], suffix: text[r.upperBound...] + "\n\n")
    }

    /// The last chunk when `stream_options.include_usage` is set: no choices, the request's usage.
    func usageChunk(_ stats: GenerationStats) -> JSONValue {
        .object(header(object: kind == .chat ? "chat.completion.chunk" : "text_completion")
            + [("choices", .array([])), ("usage", usage(stats))])
    }

    private func header(object: String) -> [(String, JSONValue)] {
        [("id", .string(id)), ("object", .string(object)), ("created", .int(created)), ("model", .string(model)),
         ("system_fingerprint", .string(ServerInfo.fingerprint))]
    }

    func usage(_ s: GenerationStats) -> JSONValue {
        .object([("prompt_tokens", .int(s.promptTokens)), ("completion_tokens", .int(s.generatedTokens)),
                 ("total_tokens", .int(s.promptTokens + s.generatedTokens)),
                 ("prompt_tokens_details", .object([("cached_tokens", .int(s.cachedTokens))])),
                 ("completion_tokens_details", .object([("reasoning_tokens", .int(s.reasoningTokens))])),
                 ("local_cost", localCost(s))])
    }

    /// slm's extension of `usage`: what the request cost on this machine (its share of the batched steps' time at
    /// the hardware's price) and what the same text would cost at the reference cloud model's list prices.
    func localCost(_ s: GenerationStats) -> JSONValue {
        let price = RequestPrice(stats: s, options: service.options)
        var fields: [(String, JSONValue)] = [
            ("usd", .double(price.local.usd)), ("seconds", .double(price.local.seconds)),
            ("hardware", .string(price.local.hardware)), ("usd_per_hour", .double(price.local.usdPerHour))]
        if let ref = service.options.costReference, let cloud = price.cloudUSD {
            fields.append(("cloud_equivalent", .object([("provider", .string(ref.provider)), ("model", .string(ref.model)),
                                                         ("usd", .double(cloud))])))
        }
        return .object(fields)
    }

    // MARK: - Logprobs

    private func piece(_ id: Int32) -> (text: String, bytes: [UInt8]) {
        let b = service.pieceBytes(id)
        return (String(decoding: b, as: UTF8.self), b)
    }

    /// Chat: `{"content": [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}], "refusal": null}`.
    func chatLogprobs(_ tokens: [TokenLogprob]) -> JSONValue {
        func entry(_ id: Int32, _ lp: Float) -> [(String, JSONValue)] {
            let p = piece(id)
            return [("token", .string(p.text)), ("logprob", .float(lp)), ("bytes", .array(p.bytes.map { .int(Int($0)) }))]
        }
        let content = tokens.map { t -> JSONValue in
            .object(entry(t.token, t.logprob) + [("top_logprobs", .array(t.top.map { .object(entry($0.token, $0.logprob)) }))])
        }
        return .object([("content", .array(content)), ("refusal", .null)])
    }

    /// Legacy completions: `{tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}`.
    func textLogprobs(_ tokens: [TokenLogprob]) -> JSONValue {
        var offset = 0
        var offsets: [JSONValue] = []
        var texts: [JSONValue] = []
        for t in tokens {
            let p = piece(t.token)
            offsets.append(.int(offset))
            offset += p.text.count
            texts.append(.string(p.text))
        }
        let top = tokens.map { t -> JSONValue in .object(t.top.map { (piece($0.token).text, .float($0.logprob)) }) }
        return .object([("tokens", .array(texts)), ("token_logprobs", .array(tokens.map { .float($0.logprob) })),
                         ("top_logprobs", .array(top)), ("text_offset", .array(offsets))])
    }
}

extension JSONValue {
    static func int(_ v: Int) -> JSONValue { .number(String(v)) }
    /// A finite JSON number (a log-probability of -inf is reported as -9999, as JSON has no infinity).
    static func double(_ v: Double) -> JSONValue { .number(v.isFinite ? String(v) : "0") }
    static func float(_ v: Float) -> JSONValue { .number(v.isFinite ? String(v) : (v < 0 ? "-9999.0" : "9999.0")) }
}

/// What the server reports of itself.
enum ServerInfo {
    static let version = "0.1.0"
    static let fingerprint = "slm-" + version
}
