/// One message of a conversation in OpenAI's chat shape: `role` ("system", "user", "assistant", "tool", ...),
/// `content` (text; null for an assistant turn that only calls tools; an array of text parts is accepted and
/// joined), `reasoning_content`, `tool_calls`, `tool_call_id`, `name`.
public struct ChatMessage: Codable, Sendable, Equatable {
    public var role: String
    public var content: String?
    public var reasoningContent: String?
    public var toolCalls: [ToolCall]?
    public var toolCallID: String?
    public var name: String?

    public init(role: String, content: String?, reasoningContent: String? = nil, toolCalls: [ToolCall]? = nil,
                toolCallID: String? = nil, name: String? = nil) {
        self.role = role
        self.content = content
        self.reasoningContent = reasoningContent
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.name = name
    }

    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: "system", content: text) }
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: "user", content: text) }
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: "assistant", content: text) }

    enum CodingKeys: String, CodingKey {
        case role, content, name
        case reasoningContent = "reasoning_content", toolCalls = "tool_calls", toolCallID = "tool_call_id"
    }

    private struct Part: Decodable {
        var type: String
        var text: String?
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        role = try c.decode(String.self, forKey: .role)
        if let parts = try? c.decodeIfPresent([Part].self, forKey: .content) {
            content = parts.compactMap { $0.type == "text" ? $0.text : nil }.joined()
        } else {
            content = try c.decodeIfPresent(String.self, forKey: .content)
        }
        reasoningContent = try c.decodeIfPresent(String.self, forKey: .reasoningContent)
        toolCalls = try c.decodeIfPresent([ToolCall].self, forKey: .toolCalls)
        toolCallID = try c.decodeIfPresent(String.self, forKey: .toolCallID)
        name = try c.decodeIfPresent(String.self, forKey: .name)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        try c.encode(content, forKey: .content)
        try c.encodeIfPresent(reasoningContent, forKey: .reasoningContent)
        try c.encodeIfPresent(toolCalls, forKey: .toolCalls)
        try c.encodeIfPresent(toolCallID, forKey: .toolCallID)
        try c.encodeIfPresent(name, forKey: .name)
    }
}

/// OpenAI's `tool_calls` entry: `{"id", "type": "function", "function": {"name", "arguments": "<JSON text>"}}`.
public struct ToolCall: Codable, Sendable, Equatable {
    public var id: String
    public var type: String
    public var function: FunctionCall

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.type = "function"
        self.function = FunctionCall(name: name, arguments: arguments)
    }
}

public struct FunctionCall: Codable, Sendable, Equatable {
    public var name: String
    /// The arguments as JSON text (an object), as OpenAI sends them.
    public var arguments: String

    public init(name: String, arguments: String) {
        self.name = name
        self.arguments = arguments
    }
}

extension ChatMessage {
    /// Messages from a parsed JSON array in OpenAI's shape, with errors naming the message and field at fault.
    public static func list(from value: JSONValue) throws(EngineError) -> [ChatMessage] {
        guard case .array(let items) = value else { throw .invalidArgument("messages must be a JSON array") }
        var out: [ChatMessage] = []
        for (i, item) in items.enumerated() {
            func fail(_ s: String) -> EngineError { .invalidArgument("messages[\(i)]: \(s)") }
            guard case .object = item else { throw fail("not an object") }
            func text(_ key: String) throws(EngineError) -> String? {
                switch item[key] {
                case nil, .null?: return nil
                case .string(let s)?: return s
                default: throw fail("\(key) must be a string")
                }
            }
            guard let role = try text("role") else { throw fail("has no role") }
            var content: String? = nil
            switch item["content"] {
            case nil, .null?: content = nil
            case .string(let s)?: content = s
            case .array(let parts)?:
                content = try parts.map { (p) throws(EngineError) -> String in
                    guard case .string(let t)? = p["text"] else { throw fail("content parts other than text are not supported") }
                    return t
                }.joined()
            default: throw fail("content must be a string, null or an array of text parts")
            }
            var calls: [ToolCall]? = nil
            if case .array(let list)? = item["tool_calls"] {
                calls = try list.enumerated().map { (j, c) throws(EngineError) -> ToolCall in
                    guard case .string(let name)? = c["function"]?["name"] else { throw fail("tool_calls[\(j)] has no function name") }
                    var arguments = "{}"
                    switch c["function"]?["arguments"] {
                    case .string(let s)?: arguments = s
                    case let v?: arguments = v.serialized
                    case nil: break
                    }
                    var id = "call_\(j)"
                    if case .string(let s)? = c["id"] { id = s }
                    return ToolCall(id: id, name: name, arguments: arguments)
                }
            }
            out.append(ChatMessage(role: role, content: content, reasoningContent: try text("reasoning_content"),
                                   toolCalls: calls, toolCallID: try text("tool_call_id"), name: try text("name")))
        }
        return out
    }
}
