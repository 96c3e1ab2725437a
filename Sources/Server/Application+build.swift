import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import SLMEngine

/// The HTTP application over a model service: OpenAI's completion endpoints plus health, metrics and tokenizer routes.
/// Tests drive it in-process (HummingbirdTesting) and over a socket; `slm serve` runs it.
public func buildApplication(service: ModelService, metrics: ServerMetrics = ServerMetrics(),
                             logger: Logger = Logger(label: "slm.serve"),
                             onReady: @escaping @Sendable (String) -> Void = { _ in }) -> some ApplicationProtocol {
    let router = buildRouter(service: service, metrics: metrics, logger: logger)
    let o = service.options
    var http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [ParseErrorHandler()],
                                           idleTimeout: .seconds(Int64(o.idleTimeoutSeconds)))
    http1.httpDecoder = .init(maxHeaderFieldSize: o.maxHeaderBytes, maxHeaderListSize: o.maxHeaderBytes, maxHeaderFieldCount: 200)
    return Application(router: router, server: .http1(configuration: http1),
                       configuration: .init(address: .hostname(o.host, port: o.port), serverName: "slm/\(ServerInfo.version)"),
                       onServerRunning: { channel in
                           let port = channel.localAddress?.port ?? o.port
                           let host = o.host.contains(":") ? "[\(o.host)]" : o.host
                           onReady("http://\(host):\(port)")
                       },
                       logger: logger)
}

func buildRouter(service: ModelService, metrics: ServerMetrics, logger: Logger) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: ErrorMiddleware(metrics: metrics, logger: logger))
    if let key = service.options.apiKey { router.add(middleware: AuthMiddleware(key: Array(key.utf8))) }
    let completions = CompletionController(service: service, metrics: metrics, logger: logger)
    let o = service.options

    router.get("/health") { _, _ -> Response in
        let s = service.scheduler.snapshot
        return CompletionController.json(.object([("status", .string("ok")), ("model", .string(o.modelName)),
                                                  ("running", .int(s.running)), ("waiting", .int(s.waiting)),
                                                  ("parallel", .int(s.parallel))]))
    }
    router.get("/v1/models") { _, _ -> Response in
        CompletionController.json(.object([("object", .string("list")), ("data", .array([modelObject(service)]))]))
    }
    router.get("/v1/models/{id}") { _, context -> Response in
        let id = context.parameters.get("id") ?? ""
        guard id == o.modelName else {
            throw APIError(.notFound, "the model '\(id)' does not exist; this server serves '\(o.modelName)'",
                           type: "invalid_request_error", param: "model", code: "model_not_found")
        }
        return CompletionController.json(modelObject(service))
    }
    router.get("/metrics") { _, _ -> Response in
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4"
        return Response(status: .ok, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: metrics.render(service.scheduler.snapshot))))
    }
    router.post("/tokenize") { request, _ -> Response in
        try await withJSONBody(request, limit: o.maxBodyBytes) { _, f in
        guard let text = try f.string("content") else { throw APIError.invalid("'content' is required", param: "content") }
        let ids = service.tokenize(text, addSpecial: try f.bool("add_special") ?? false,
                                   parseSpecial: try f.bool("parse_special") ?? true)
        var out: [(String, JSONValue)] = [("tokens", .array(ids.map { .int(Int($0)) }))]
        if try f.bool("with_pieces") == true {
            out = [("tokens", .array(ids.map { id in
                .object([("id", .int(Int(id))), ("piece", .string(String(decoding: service.pieceBytes(id), as: UTF8.self)))])
            }))]
        }
        return CompletionController.json(.object(out))
        }
    }
    router.post("/detokenize") { request, _ -> Response in
        try await withJSONBody(request, limit: o.maxBodyBytes) { _, f in
        guard let list = try f.array("tokens") else { throw APIError.invalid("'tokens' is required", param: "tokens") }
        var bytes: [UInt8] = []
        for item in list {
            guard case .number(let t) = item, let id = Int32(t), id >= 0, Int(id) < service.vocabularySize else {
                throw APIError.invalid("'tokens' must hold token ids in 0..<\(service.vocabularySize)", param: "tokens")
            }
            bytes += service.engine.tokenizer.tokenBytes(id, renderSpecial: false)
        }
        return CompletionController.json(.object([("content", .string(String(decoding: bytes, as: UTF8.self)))]))
        }
    }
    router.post("/v1/chat/completions") { request, _ -> Response in
        let arrival = ContinuousClock.now
        return try await withJSONBody(request, limit: o.maxBodyBytes) { request, f in
            let prepared = try ChatRequest.parse(f, service: service)
            return try await completions.respond(prepared, kind: .chat, endpoint: "/v1/chat/completions", request: request,
                                                 arrival: arrival)
        }
    }
    router.post("/v1/completions") { request, _ -> Response in
        let arrival = ContinuousClock.now
        return try await withJSONBody(request, limit: o.maxBodyBytes) { request, f in
            let prepared = try CompletionRequest.parse(f, service: service)
            return try await completions.respond(prepared, kind: .text, endpoint: "/v1/completions", request: request,
                                                 arrival: arrival)
        }
    }
    return router
}

private func modelObject(_ service: ModelService) -> JSONValue {
    .object([("id", .string(service.options.modelName)), ("object", .string("model")), ("created", .int(service.created)),
             ("owned_by", .string("slm")),
             ("meta", .object([("architecture", .string(service.engine.config.architecture)),
                               ("context_length", .int(service.contextLength)),
                               ("vocabulary_size", .int(service.engine.config.vocabularySize)),
                               ("file", .string((service.engine.file.path as NSString).lastPathComponent))]))])
}

/// Reads the request body as a JSON object, up to `limit` bytes (413 beyond), then runs `handle` with the request
/// and the object. A body that has not fully arrived within `seconds` gets a 408 (a client sending too slowly). The
/// body is collected on the request itself, so that `handle` can still watch the connection for the client going
/// away (RequestBody.consumeWithCancellationOnInboundClose).
func withJSONBody(_ request: Request, limit: Int, seconds: Int = 30,
                  _ handle: @escaping @Sendable (Request, JSONFields) async throws -> Response) async throws -> Response {
    if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
        throw APIError(.contentTooLarge, "the request body is too large (\(declared) bytes; the limit is \(limit))",
                       type: "invalid_request_error")
    }
    let received = ManagedFlag()
    return try await withThrowingTaskGroup(of: Response?.self) { group in
        group.addTask {
            var r = request
            let buffer = try await r.collectBody(upTo: limit)
            _ = received.set()
            return try await handle(r, try JSONFields.parse(Array(buffer.readableBytesView)))
        }
        group.addTask {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                if received.isSet { return nil }
                try await Task.sleep(for: .milliseconds(100))
            }
            if received.isSet { return nil }
            throw APIError(.requestTimeout, "the request body did not arrive within \(seconds) seconds", type: "invalid_request_error")
        }
        defer { group.cancelAll() }
        while let next = try await group.next() {
            if let response = next { return response }
        }
        throw APIError(.internalServerError, "the request ended without a response", type: "server_error")
    }
}
