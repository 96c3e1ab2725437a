import Foundation
import Hummingbird
import Logging
import SLMEngine

/// Runs a prepared request through the scheduler and answers it: one JSON object, or server-sent events
/// (`data: {chunk}` lines, `data: [DONE]` at the end). A client that goes away cancels its sequence, which leaves the
/// batch at the next step.
struct CompletionController: Sendable {
    let service: ModelService
    let metrics: ServerMetrics
    let logger: Logger

    func respond(_ prepared: PreparedRequest, kind: CompletionResponse.Kind, endpoint: String,
                 request: Request, arrival: ContinuousClock.Instant) async throws -> Response {
        let builder = CompletionResponse(kind: kind, model: prepared.model, service: service, logprobs: prepared.logprobs)
        let timer = TokenTimer(metrics: metrics, start: arrival)
        let (events, continuation) = AsyncStream<SequenceEvent>.makeStream()
        let ticket: SequenceTicket
        do {
            ticket = try service.scheduler.submit(prepared.scheduled) { event in
                switch event {
                case .text, .logprob: timer.token()
                default: break
                }
                continuation.yield(event)
                switch event {
                case .finished, .failed: continuation.finish()
                default: break
                }
            }
        } catch {
            continuation.finish()
            throw Self.apiError(error)
        }
        let scheduler = service.scheduler
        continuation.onTermination = { reason in
            if case .cancelled = reason { scheduler.cancel(ticket) }
        }
        if prepared.stream {
            return streamResponse(events, builder: builder, prepared: prepared, endpoint: endpoint, request: request,
                                  timer: timer, arrival: arrival)
        }
        let answer = try await request.body.consumeWithCancellationOnInboundClose { _ in
            try await Self.collect(events)
        }
        log(endpoint, status: 200, answer.stats, timer: timer, arrival: arrival, stream: false)
        guard let stats = answer.stats else {
            var e = Self.apiError(answer.error ?? .cancelled)
            e.headers[.connection] = "close"
            throw e
        }
        metrics.finished(stats, price: RequestPrice(stats: stats, options: service.options))
        var content: String? = answer.content
        var calls: [ToolCall] = []
        if !prepared.tools.isEmpty {
            let parsed = ToolCalls.parse(answer.content, format: prepared.toolFormat, tools: prepared.tools)
            content = parsed.toolCalls.isEmpty ? answer.content : parsed.content
            calls = parsed.toolCalls
        }
        let body = builder.complete(content: content, reasoning: answer.reasoning, tokens: answer.tokens, stats: stats,
                                    toolCalls: calls)
        var response = Self.json(body)
        // Watching the connection for the client leaving (consumeWithCancellationOnInboundClose) ends it after this
        // response: say so, so that a keep-alive client does not send its next request into the closing socket.
        response.headers[.connection] = "close"
        return response
    }

    /// Everything a sequence reported, gathered.
    struct Answer: Sendable {
        var content = ""
        var reasoning = ""
        var tokens: [TokenLogprob] = []
        var stats: GenerationStats?
        var error: EngineError?
    }

    static func collect(_ events: AsyncStream<SequenceEvent>) async throws -> Answer {
        var a = Answer()
        for await e in events {
            switch e {
            case .prefilled: break
            case .text(let t, .content): a.content += t
            case .text(let t, .reasoning): a.reasoning += t
            case .logprob(let l): a.tokens.append(l)
            case .finished(let s): a.stats = s
            case .failed(let err): a.error = err
            }
        }
        try Task.checkCancellation()
        return a
    }

    private func streamResponse(_ events: AsyncStream<SequenceEvent>, builder: CompletionResponse,
                                prepared: PreparedRequest, endpoint: String, request: Request, timer: TokenTimer,
                                arrival: ContinuousClock.Instant) -> Response {
        let metrics = self.metrics
        let body = ResponseBody { writer in
            var stats: GenerationStats?
            var failure: EngineError?
            try await request.body.consumeWithCancellationOnInboundClose { _ in
                func send(_ value: JSONValue) async throws {
                    try await writer.write(ByteBuffer(string: "data: " + value.serialized + "\n\n"))
                }
                if builder.kind == .chat { try await send(builder.chunk(content: "", role: true)) }
                var pending: [TokenLogprob] = []
                // With tools the answer is held back until it is complete: then it is either text or tool calls.
                let holdAnswer = !prepared.tools.isEmpty
                var held = ""
                // A token without logprobs (the usual one) is written from its chunk's text cut in two.
                let contentEvent = builder.textEvent(reasoning: false)
                let reasoningEvent = builder.kind == .chat ? builder.textEvent(reasoning: true) : nil
                for await e in events {
                    switch e {
                    case .prefilled: break
                    case .logprob(let l): pending.append(l)
                    case .text(let t, let channel):
                        if channel == .reasoning {
                            if pending.isEmpty, let r = reasoningEvent {
                                try await writer.write(ByteBuffer(string: r.event(t)))
                            } else {
                                try await send(builder.chunk(reasoning: t, tokens: pending))
                            }
                        } else if holdAnswer {
                            held += t
                            continue
                        } else if pending.isEmpty {
                            try await writer.write(ByteBuffer(string: contentEvent.event(t)))
                        } else {
                            try await send(builder.chunk(content: t, tokens: pending))
                        }
                        pending = []
                    case .finished(let s):
                        stats = s
                        var calls: [ToolCall] = []
                        if holdAnswer {
                            let parsed = ToolCalls.parse(held, format: prepared.toolFormat, tools: prepared.tools)
                            calls = parsed.toolCalls
                            let text = calls.isEmpty ? held : (parsed.content ?? "")
                            if !text.isEmpty { try await send(builder.chunk(content: text, tokens: pending)); pending = [] }
                            if !calls.isEmpty { try await send(builder.chunk(toolCalls: calls)) }
                        }
                        try await send(builder.chunk(content: builder.kind == .text ? "" : nil, tokens: pending,
                                                     finish: s.stopReason, finishToolCalls: !calls.isEmpty))
                        if prepared.includeUsage { try await send(builder.usageChunk(s)) }
                    case .failed(let err):
                        failure = err
                        let e = Self.apiError(err)
                        try await writer.write(ByteBuffer(string: "data: " + e.body + "\n\n"))
                    }
                }
                try Task.checkCancellation()
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            }
            if let stats { metrics.finished(stats, price: RequestPrice(stats: stats, options: service.options)) }
            log(endpoint, status: failure == nil ? 200 : Int(Self.apiError(failure!).status.code), stats, timer: timer,
                arrival: arrival, stream: true)
            try await writer.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        headers[.connection] = "close"  // as for a whole answer: the connection ends with the stream
        return Response(status: .ok, headers: headers, body: body)
    }

    /// One line per request: endpoint, status, tokens, time to first token, total time.
    func log(_ endpoint: String, status: Int, _ stats: GenerationStats?, timer: TokenTimer,
             arrival: ContinuousClock.Instant, stream: Bool) {
        let total = (ContinuousClock.now - arrival).components
        let ms = Double(total.seconds) * 1000 + Double(total.attoseconds) / 1e15
        var line = "POST \(endpoint) \(status)\(stream ? " stream" : "")"
        if let s = stats {
            line += " prompt=\(s.promptTokens) cached=\(s.cachedTokens) generated=\(s.generatedTokens)"
            if s.reasoningTokens > 0 { line += " reasoning=\(s.reasoningTokens)" }
            line += " stop=\(s.stopReason.rawValue)"
        }
        if let t = timer.ttftMs { line += String(format: " ttft=%.0fms", t) }
        line += String(format: " total=%.0fms", ms)
        logger.info("\(line)")
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.serialized + "\n")))
    }

    static func apiError(_ error: Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case SchedulerError.queueFull(let n):
            var e = APIError(.serviceUnavailable, "the server is busy: \(n) requests are already waiting; retry shortly",
                             type: "server_error", code: "queue_full")
            e.headers[.retryAfter] = "1"
            return e
        case SchedulerError.shuttingDown, EngineError.shuttingDown:
            var e = APIError(.serviceUnavailable, "the server is shutting down", type: "server_error", code: "shutting_down")
            e.headers[.retryAfter] = "5"
            return e
        case SchedulerError.invalidRequest(.budgetTooSmall(let m, let close, let answer, let think)):
            let need = close + answer
            let what = close > 0 && think != nil ? "the reasoning's close marker (\(close) tokens) and the shortest valid answer (\(answer) tokens)"
                : "the shortest output the grammar or schema allows (\(answer) tokens)"
            return .invalid("max_tokens \(m) cannot hold \(what); give max_tokens \(need) or more", param: "max_tokens",
                            code: "max_tokens_too_small")
        case SchedulerError.invalidRequest(let inner): return .invalid(inner.description)
        case EngineError.cancelled: return APIError(.init(code: 499), "the request was cancelled", type: "server_error", code: "cancelled")
        case let e as EngineError: return APIError(.internalServerError, e.description, type: "server_error")
        default: return APIError(.internalServerError, "\(error)", type: "server_error")
        }
    }
}
