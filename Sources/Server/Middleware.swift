import Foundation
import Hummingbird
import Logging
import NIOHTTP1

/// Every failure leaves in OpenAI's error shape: thrown APIErrors as they are, the framework's HTTP errors (404 no
/// route, 413 body too large, ...) and a body the HTTP parser rejects (400) converted, anything else a 500. Counts requests by endpoint and status, and logs
/// one line per request (a completion that succeeds is logged by its controller once its answer is complete).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let endpoint = Self.endpoint(request.uri.path)
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let e = Self.convert(error)
            response = try e.response(from: request, context: context)
            logger.info("\(request.method) \(request.uri.path) \(e.status.code) \(e.message)")
            metrics.request(endpoint: endpoint, status: Int(e.status.code))
            return response
        }
        metrics.request(endpoint: endpoint, status: Int(response.status.code))
        if !(endpoint.hasSuffix("completions") && response.status == .ok) {
            let (s, atto) = (ContinuousClock.now - start).components
            logger.info("\(request.method) \(request.uri.path) \(response.status.code) \(String(format: "%.0f", Double(s) * 1000 + Double(atto) / 1e15))ms")
        }
        return response
    }

    /// Known routes by name; anything else as "other" so a scan cannot grow the label set.
    static func endpoint(_ path: String) -> String {
        let known = ["/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics", "/tokenize",
                     "/detokenize"]
        return known.first { path == $0 || path.hasPrefix($0 + "/") } ?? "other"
    }

    static func convert(_ error: Error) -> APIError {
        if let e = error as? APIError { return e }
        if let e = error as? HTTPParserError {
            return APIError(.badRequest, "malformed request body (\(e))", type: "invalid_request_error")
        }
        if let e = error as? any HTTPResponseError {
            let message: String
            switch e.status {
            case .notFound: message = "no such endpoint"
            case .contentTooLarge: message = "the request body is too large"
            case .methodNotAllowed: message = "method not allowed on this endpoint"
            default: message = (e as? HTTPError)?.body ?? e.status.reasonPhrase
            }
            let type = e.status == .notFound ? "not_found_error" : (e.status.code >= 500 ? "server_error" : "invalid_request_error")
            return APIError(e.status, message, type: type)
        }
        return CompletionController.apiError(error)
    }
}

/// `Authorization: Bearer <key>` on every route but /health, compared in constant time.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/health" { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), Self.equal(Array(header.utf8.dropFirst(prefix.utf8.count)), key) else {
            var e = APIError(.unauthorized, header.isEmpty ? "missing API key: send 'Authorization: Bearer <key>'" : "invalid API key",
                             type: "authentication_error", code: "invalid_api_key")
            e.headers[.wwwAuthenticate] = "Bearer"
            throw e
        }
        return try await next(request, context)
    }

    /// Equality whose time depends on the lengths only, not on where the bytes differ.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        let n = max(a.count, b.count)
        for i in 0..<n {
            diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return diff == 0
    }
}
