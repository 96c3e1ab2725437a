import Foundation
import Hummingbird
import SLMEngine

/// What a client sees when a request fails: an HTTP status and OpenAI's error object,
/// `{"error": {"message", "type", "param", "code"}}`, the message naming the problem (and `param` the field).
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// OpenAI's error types: invalid_request_error, authentication_error, not_found_error, server_error, ...
    public var type: String
    public var param: String?
    public var code: String?
    /// Extra headers (Retry-After on a 503, WWW-Authenticate on a 401).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ message: String, type: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(.badRequest, message, type: "invalid_request_error", param: param, code: code)
    }

    public var description: String { "\(status.code) \(message)" }

    /// The JSON body, field order as OpenAI's.
    public var body: String {
        func q(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        return JSONValue.object([("error", .object([("message", q(message)), ("type", q(type)), ("param", q(param)),
                                                    ("code", q(code))]))]).serialized
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body + "\n")))
    }
}
