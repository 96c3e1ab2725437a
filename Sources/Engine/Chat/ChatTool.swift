/// A tool the model may call, in OpenAI's shape `{"type": "function", "function": {"name", "description",
/// "parameters": <JSON Schema>}}`. `json` is the entry as given (key order kept), which is what templates render.
public struct ChatTool: Sendable {
    public let name: String
    public let description: String?
    /// The JSON Schema of the arguments object; nil: any object.
    public let parameters: JSONValue?
    public let json: JSONValue

    /// Tools from OpenAI's `tools` array (a bare `{"name", "parameters"}` function entry is accepted too).
    public static func list(from value: JSONValue) throws(EngineError) -> [ChatTool] {
        guard case .array(let items) = value else { throw .invalidArgument("tools must be a JSON array") }
        var tools: [ChatTool] = []
        for (i, item) in items.enumerated() {
            let function = item["function"] ?? item
            if let type = item["type"], type != .string("function") {
                throw .invalidArgument("tools[\(i)]: only tools of type \"function\" are supported")
            }
            guard case .string(let name)? = function["name"], !name.isEmpty else {
                throw .invalidArgument("tools[\(i)] has no function name")
            }
            if tools.contains(where: { $0.name == name }) { throw .invalidArgument("tools[\(i)]: duplicate tool name '\(name)'") }
            var description: String? = nil
            if case .string(let d)? = function["description"] { description = d }
            let parameters = function["parameters"]
            if let p = parameters, case .object = p {} else if parameters != nil {
                throw .invalidArgument("tools[\(i)] (\(name)): parameters must be a JSON Schema object")
            }
            let json: JSONValue = item["function"] != nil ? item : .object([("type", .string("function")), ("function", item)])
            tools.append(ChatTool(name: name, description: description, parameters: parameters, json: json))
        }
        return tools
    }

    public static func list(json text: String) throws(EngineError) -> [ChatTool] {
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw .invalidArgument("tools: \(error.description)") }
        return try list(from: value)
    }
}
