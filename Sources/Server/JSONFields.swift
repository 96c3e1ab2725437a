import SLMEngine

/// Typed reads of a request's JSON object, each failure a 400 naming the field (OpenAI's `param`). Unknown fields
/// are ignored (clients send extras); `null` counts as absent, as OpenAI's API treats it.
struct JSONFields {
    let object: [(String, JSONValue)]
    /// Dotted path of this object inside the request, for messages ("response_format.json_schema").
    let path: String

    init(_ value: JSONValue, path: String = "") throws(APIError) {
        guard case .object(let kv) = value else {
            throw .invalid(path.isEmpty ? "the request body must be a JSON object" : "'\(path)' must be an object",
                           param: path.isEmpty ? nil : path)
        }
        object = kv
        self.path = path
    }

    /// Parses a request body (UTF-8 JSON text, one object).
    static func parse(_ bytes: [UInt8]) throws(APIError) -> JSONFields {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalid("the request body is not valid UTF-8")
        }
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch {
            throw .invalid("the request body is not valid JSON: \(error.description)")
        }
        return try JSONFields(value)
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    subscript(key: String) -> JSONValue? {
        guard let v = object.first(where: { $0.0 == key })?.1, v != .null else { return nil }
        return v
    }

    func has(_ key: String) -> Bool { self[key] != nil }

    func string(_ key: String) throws(APIError) -> String? {
        guard let v = self[key] else { return nil }
        guard case .string(let s) = v else { throw .invalid("'\(name(key))' must be a string", param: name(key)) }
        return s
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let v = self[key] else { return nil }
        guard case .bool(let b) = v else { throw .invalid("'\(name(key))' must be a boolean", param: name(key)) }
        return b
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let v = self[key] else { return nil }
        guard case .number(let text) = v, let d = Double(text), d.rounded() == d, d.isFinite else {
            throw .invalid("'\(name(key))' must be an integer", param: name(key))
        }
        // Exact digits when the text is a plain integer (a seed keeps every bit); 5.0 and 1e3 through the double.
        guard let i = Int(text) ?? Int(exactly: d), range.contains(i) else {
            throw .invalid("'\(name(key))' must be in \(range.lowerBound)...\(range.upperBound), got \(text)", param: name(key))
        }
        return i
    }

    func double(_ key: String, in range: ClosedRange<Double>) throws(APIError) -> Double? {
        guard let v = self[key] else { return nil }
        guard case .number(let text) = v, let d = Double(text), d.isFinite else {
            throw .invalid("'\(name(key))' must be a number", param: name(key))
        }
        guard range.contains(d) else {
            throw .invalid("'\(name(key))' must be in \(range.lowerBound)...\(range.upperBound), got \(text)", param: name(key))
        }
        return d
    }

    func object(_ key: String) throws(APIError) -> JSONFields? {
        guard let v = self[key] else { return nil }
        return try JSONFields(v, path: name(key))
    }

    func array(_ key: String) throws(APIError) -> [JSONValue]? {
        guard let v = self[key] else { return nil }
        guard case .array(let a) = v else { throw .invalid("'\(name(key))' must be an array", param: name(key)) }
        return a
    }

    /// A string or a list of strings (`stop`), at most `limit` of them.
    func strings(_ key: String, limit: Int) throws(APIError) -> [String]? {
        guard let v = self[key] else { return nil }
        switch v {
        case .string(let s): return [s]
        case .array(let a):
            guard a.count <= limit else { throw .invalid("'\(name(key))' takes at most \(limit) strings", param: name(key)) }
            var out: [String] = []
            for item in a {
                guard case .string(let s) = item else {
                    throw .invalid("'\(name(key))' must be a string or a list of strings", param: name(key))
                }
                out.append(s)
            }
            return out
        default: throw .invalid("'\(name(key))' must be a string or a list of strings", param: name(key))
        }
    }
}
