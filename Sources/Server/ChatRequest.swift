import SLMEngine

/// `POST /v1/chat/completions` request bodies.
enum ChatRequest {
    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    static func parse(_ f: JSONFields, service: ModelService) throws(APIError) -> PreparedRequest {
        guard let messagesValue = f["messages"] else { throw .invalid("'messages' is required", param: "messages") }
        guard case .array(let list) = messagesValue else { throw .invalid("'messages' must be an array", param: "messages") }
        guard !list.isEmpty else { throw .invalid("'messages' must hold at least one message", param: "messages") }
        for (i, m) in list.enumerated() {
            let msg = try JSONFields(m, path: "messages[\(i)]")
            guard let role = try msg.string("role") else { throw .invalid("'messages[\(i)].role' is required", param: "messages[\(i)].role") }
            guard roles.contains(role) else {
                throw .invalid("'messages[\(i)].role' must be one of system, developer, user, assistant, tool; got '\(role)'",
                               param: "messages[\(i)].role")
            }
            _ = try content(msg, index: i)
        }
        var messages: [ChatMessage]
        do { messages = try ChatMessage.list(from: messagesValue) } catch {
            throw .invalid("'messages': \(error.description)", param: "messages")
        }
        for i in messages.indices where messages[i].role == "developer" { messages[i].role = "system" }
        var tools: [ChatTool] = []
        if let t = f["tools"] {
            do { tools = try ChatTool.list(from: t) } catch { throw .invalid("'tools': \(error.description)", param: "tools") }
        }
        let choice = try toolChoice(f, tools: tools)
        var variables: [String: JSONValue] = [:]
        if let kwargs = try f.object("chat_template_kwargs") { for (k, v) in kwargs.object { variables[k] = v } }
        let prompt: [Int32]
        do { prompt = try service.engine.chatPrompt(messages, tools: tools, variables: variables, template: service.chatTemplate) } catch {
            throw .invalid("the chat template cannot render these messages: \(error.description)", param: "messages")
        }
        var gen = try RequestParsing.generation(f, prompt: prompt, service: service,
                                                maxTokensKeys: ["max_tokens", "max_completion_tokens"])
        let format = service.toolCallFormat
        var callable: [ChatTool] = []
        if !tools.isEmpty, choice != .none {
            guard gen.grammar == nil else {
                throw .invalid("'tools' and 'response_format' / 'grammar' both constrain the reply: give one", param: "tools")
            }
            do { gen.grammar = try ToolCalls.grammar(tools: tools, format: format, choice: choice) } catch {
                throw .invalid("'tools': \(error.description)", param: "tools")
            }
            callable = tools
        }
        let logprobs = try RequestParsing.chatLogprobs(f)
        let (stream, usage) = try RequestParsing.streamFlags(f)
        var prepared = PreparedRequest(scheduled: ScheduledRequest(gen, logprobs: logprobs, separateReasoning: true),
                                       stream: stream, includeUsage: usage, logprobs: logprobs,
                                       model: try f.string("model") ?? service.options.modelName)
        prepared.tools = callable
        prepared.toolFormat = format
        return prepared
    }

    /// `tool_choice`: "auto" (default with tools), "none", "required", or {"type":"function","function":{"name"}}.
    static func toolChoice(_ f: JSONFields, tools: [ChatTool]) throws(APIError) -> ToolChoice {
        guard let v = f["tool_choice"] else { return .auto }
        switch v {
        case .string(let s) where ["auto", "none", "required"].contains(s): return ToolChoice(s)
        case .object:
            let o = try JSONFields(v, path: "tool_choice")
            guard let name = try o.object("function")?.string("name") else {
                throw .invalid("'tool_choice.function.name' is required", param: "tool_choice")
            }
            guard tools.contains(where: { $0.name == name }) else {
                throw .invalid("'tool_choice' names '\(name)', which is not among 'tools'", param: "tool_choice")
            }
            return ToolChoice(name)
        default:
            throw .invalid("'tool_choice' must be auto, none, required or {\"type\":\"function\",\"function\":{\"name\":...}}",
                           param: "tool_choice")
        }
    }

    /// A message's content: a string, or a list of parts of which only text parts are supported.
    static func content(_ msg: JSONFields, index i: Int) throws(APIError) -> String {
        let param = "messages[\(i)].content"
        guard let c = msg["content"] else { return "" }  // an assistant turn that only called tools
        switch c {
        case .string(let s): return s
        case .array(let parts):
            var text = ""
            for (j, p) in parts.enumerated() {
                let part = try JSONFields(p, path: "\(param)[\(j)]")
                let type = try part.string("type") ?? "text"
                guard type == "text" else {
                    throw .invalid("'\(param)[\(j)].type' '\(type)' is not supported (text only)", param: "\(param)[\(j)].type")
                }
                guard let t = try part.string("text") else {
                    throw .invalid("'\(param)[\(j)].text' is required", param: "\(param)[\(j)].text")
                }
                text += t
            }
            return text
        default:
            throw .invalid("'\(param)' must be a string or a list of text parts", param: param)
        }
    }
}

/// `POST /v1/completions` request bodies: `prompt` as a string or a list of token ids.
enum CompletionRequest {
    static func parse(_ f: JSONFields, service: ModelService) throws(APIError) -> PreparedRequest {
        let prompt: [Int32]
        switch f["prompt"] {
        case nil: throw .invalid("'prompt' is required", param: "prompt")
        case .string(let s)?: prompt = service.tokenize(s)
        case .array(let items)?:
            var ids: [Int32] = []
            ids.reserveCapacity(items.count)
            let vocab = service.vocabularySize
            for item in items {
                switch item {
                case .number(let text):
                    guard let id = Int32(text), id >= 0, Int(id) < vocab else {
                        throw .invalid("'prompt' token ids must be integers in 0..<\(vocab), got \(text)", param: "prompt")
                    }
                    ids.append(id)
                case .string:
                    throw .invalid("'prompt' as a list of strings (several prompts) is not supported: send one prompt per request",
                                   param: "prompt")
                default:
                    throw .invalid("'prompt' must be a string or a list of token ids", param: "prompt")
                }
            }
            prompt = ids
        default: throw .invalid("'prompt' must be a string or a list of token ids", param: "prompt")
        }
        if try f.bool("echo") == true { throw .invalid("'echo' is not supported", param: "echo") }
        if let suffix = try f.string("suffix"), !suffix.isEmpty { throw .invalid("'suffix' is not supported", param: "suffix") }
        if let b = try f.int("best_of", in: 1...Int.max), b != 1 { throw .invalid("'best_of' must be 1", param: "best_of") }
        var gen = try RequestParsing.generation(f, prompt: prompt, service: service, maxTokensKeys: ["max_tokens"])
        if !f.has("max_tokens") { gen.maxTokens = min(gen.maxTokens, 16) }  // OpenAI's default for completions
        let logprobs = try f.int("logprobs", in: 0...20)
        let (stream, usage) = try RequestParsing.streamFlags(f)
        return PreparedRequest(scheduled: ScheduledRequest(gen, logprobs: logprobs, separateReasoning: false),
                               stream: stream, includeUsage: usage, logprobs: logprobs,
                               model: try f.string("model") ?? service.options.modelName)
    }
}
