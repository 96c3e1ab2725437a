import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers HTTP/1 parse failures itself, before the framework's generic 400: a header block over the limit gets 431
/// (Request Header Fields Too Large) and any other malformed request 400, each with OpenAI's error object, then the
/// connection closes. Sits after the HTTP/1 codec, where the decoder's errors arrive. An error inside a request whose
/// head already went up (a broken chunked body) is passed on: the route reading the body answers it (400).
final class ParseErrorHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private var answered = false
    /// A request head went up and its end has not: the application owns the response.
    private var inRequest = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: inRequest = true
        case .end: inRequest = false
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError, !answered, !inRequest else {
            context.fireErrorCaught(error)
            return
        }
        answered = true
        let tooLarge = parse == .headerOverflow
        let e = APIError(tooLarge ? .init(code: 431, reasonPhrase: "Request Header Fields Too Large") : .badRequest,
                         tooLarge ? "the request's header fields are too large" : "malformed HTTP request (\(parse))",
                         type: "invalid_request_error")
        let body = ByteBuffer(string: e.body + "\n")
        var head = HTTPResponse(status: e.status)
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.contentLength] = String(body.readableBytes)
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
