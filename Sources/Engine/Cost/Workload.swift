/// One request of a replay workload (a JSONL line): `system` + `user`, or `messages` (OpenAI's roles and string
/// contents); `max_tokens`; optional `json_schema` (the answer is JSON valid under it), `think_budget` (a reasoning
/// section of at most that many tokens) and `id` (a label).
public struct WorkloadRequest: Sendable {
    /// 1-based line in the file.
    public var line: Int
    public var id: String?
    public var messages: [ChatMessage]
    public var maxTokens: Int
    /// The schema's JSON text, and its grammar compiled while parsing.
    public var jsonSchema: String?
    public var grammar: Grammar?
    public var thinkBudget: Int?

    /// Characters of the request's own text (system and user contents), for characters per token.
    public var characters: Int { messages.reduce(0) { $0 + ($1.content?.count ?? 0) } }
}

/// Parses a JSONL workload completely before anything runs: every line is checked (JSON, fields, types, ranges,
/// schemas compiled), and the first bad line is reported by number. Blank lines are skipped.
public enum Workload {
    public static let maxRequests = 100_000
    static let keys: Set<String> = ["id", "system", "user", "messages", "max_tokens", "json_schema", "think_budget"]

    public static func parse(_ text: String) throws(CostError) -> [WorkloadRequest] {
        var requests: [WorkloadRequest] = []
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw[...]
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            guard requests.count < maxRequests else { throw .workload("more than \(maxRequests) requests") }
            requests.append(try request(String(line), line: lineNumber))
        }
        guard !requests.isEmpty else { throw .workload("no requests (one JSON object per line)") }
        return requests
    }

    static func request(_ text: String, line: Int) throws(CostError) -> WorkloadRequest {
        func fail(_ s: String) -> CostError { .workloadLine(line: line, problem: s) }
        let v: JSONValue
        do { v = try JSONValue.parse(text) } catch { throw fail("not JSON: \(error)") }
        guard case .object(let fields) = v else { throw fail("expected a JSON object") }
        if let unknown = fields.first(where: { !keys.contains($0.0) }) {
            throw fail("unknown field '\(unknown.0)' (fields: \(keys.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws(CostError) -> String? {
            switch v[key] {
            case nil: return nil
            case .string(let s)?: return s
            default: throw fail("'\(key)' must be a string")
            }
        }
        func int(_ key: String, _ range: ClosedRange<Int>) throws(CostError) -> Int? {
            guard let f = v[key] else { return nil }
            guard case .number(let s) = f, let d = Double(s), d == d.rounded(), d >= Double(range.lowerBound),
                  d <= Double(range.upperBound) else {
                throw fail("'\(key)' must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return Int(d)
        }
        var messages: [ChatMessage] = []
        if let m = v["messages"] {
            guard v["system"] == nil, v["user"] == nil else { throw fail("give 'messages', or 'system' and 'user', not both") }
            guard case .array(let items) = m, !items.isEmpty else { throw fail("'messages' must be a non-empty array") }
            for (i, item) in items.enumerated() {
                guard case .string(let role)? = item["role"], ["system", "developer", "user", "assistant"].contains(role) else {
                    throw fail("messages[\(i)].role must be system, developer, user or assistant")
                }
                guard case .string(let content)? = item["content"] else { throw fail("messages[\(i)].content must be a string") }
                messages.append(ChatMessage(role: role == "developer" ? "system" : role, content: content))
            }
            guard messages.last?.role == "user" else { throw fail("the last message must be the user's") }
        } else {
            guard let user = try string("user") else { throw fail("missing 'user' (or 'messages')") }
            if let system = try string("system") { messages.append(.system(system)) }
            messages.append(.user(user))
        }
        guard let maxTokens = try int("max_tokens", 1...1_000_000) else { throw fail("missing 'max_tokens'") }
        var r = WorkloadRequest(line: line, id: nil, messages: messages, maxTokens: maxTokens)
        switch v["id"] {
        case nil: break
        case .string(let s)?: r.id = s
        case .number(let s)?: r.id = s
        default: throw fail("'id' must be a string or a number")
        }
        r.thinkBudget = try int("think_budget", 0...1_000_000)
        if let schema = v["json_schema"] {
            guard case .object = schema else { throw fail("'json_schema' must be a JSON Schema object") }
            r.jsonSchema = schema.serialized
            do { r.grammar = try JSONSchemaGrammar.grammar(schema: schema.serialized) } catch {
                throw fail("json_schema: \(error)")
            }
        }
        return r
    }
}
