/// Typed metadata access. The required forms throw `.missingKey` or `.wrongType` naming the key; the optional forms
/// return nil for a missing key but still throw for a key of the wrong type.
extension GGUFFile {
    public func string(_ key: String) throws(GGUFError) -> String {
        try required(key, optionalString(key))
    }

    public func optionalString(_ key: String) throws(GGUFError) -> String? {
        guard let value = metadata[key] else { return nil }
        guard case .string(let s) = value else { throw mismatch(key, "string", value) }
        return s
    }

    /// Any integer type, range-checked into Int.
    public func int(_ key: String) throws(GGUFError) -> Int {
        try required(key, optionalInt(key))
    }

    public func optionalInt(_ key: String) throws(GGUFError) -> Int? {
        guard let value = metadata[key] else { return nil }
        guard value.isInteger else { throw mismatch(key, "integer", value) }
        guard let v = value.integerValue else { throw .valueOutOfRange(key: key, value: "\(value)") }
        return v
    }

    /// f32 or f64 (integers accepted too).
    public func float(_ key: String) throws(GGUFError) -> Float {
        try required(key, optionalFloat(key))
    }

    public func optionalFloat(_ key: String) throws(GGUFError) -> Float? {
        guard let value = metadata[key] else { return nil }
        switch value {
        case .float32(let f): return f
        case .float64(let d): return Float(d)
        case .uint64(let v): return Float(v)
        case .int64(let v): return Float(v)
        default:
            guard let v = value.integerValue else { throw mismatch(key, "float", value) }
            return Float(v)
        }
    }

    public func bool(_ key: String) throws(GGUFError) -> Bool {
        try required(key, optionalBool(key))
    }

    public func optionalBool(_ key: String) throws(GGUFError) -> Bool? {
        guard let value = metadata[key] else { return nil }
        guard case .bool(let b) = value else { throw mismatch(key, "bool", value) }
        return b
    }

    public func stringArray(_ key: String) throws(GGUFError) -> [String] {
        try required(key, optionalStringArray(key))
    }

    public func optionalStringArray(_ key: String) throws(GGUFError) -> [String]? {
        try optionalStrings(key).map { Array($0) }
    }

    /// A string array as parsed: one UTF-8 buffer, elements decoded on access.
    public func strings(_ key: String) throws(GGUFError) -> GGUFStrings {
        try required(key, optionalStrings(key))
    }

    public func optionalStrings(_ key: String) throws(GGUFError) -> GGUFStrings? {
        guard let value = metadata[key] else { return nil }
        guard case .array(.string(let a)) = value else { throw mismatch(key, "array<string>", value) }
        return a
    }

    /// An f32 array (f64 arrays are converted).
    public func floatArray(_ key: String) throws(GGUFError) -> [Float] {
        try required(key, optionalFloatArray(key))
    }

    public func optionalFloatArray(_ key: String) throws(GGUFError) -> [Float]? {
        guard let value = metadata[key] else { return nil }
        switch value {
        case .array(.float32(let a)): return a
        case .array(.float64(let a)): return a.map { Float($0) }
        default: throw mismatch(key, "array<f32>", value)
        }
    }

    /// Any integer element type, each element range-checked into Int.
    public func intArray(_ key: String) throws(GGUFError) -> [Int] {
        try required(key, optionalIntArray(key))
    }

    public func optionalIntArray(_ key: String) throws(GGUFError) -> [Int]? {
        guard let value = metadata[key] else { return nil }
        guard case .array(let array) = value, let converted = array.integers() else {
            throw mismatch(key, "array of integers", value)
        }
        switch converted {
        case .success(let ints): return ints
        case .failure(let bad): throw .valueOutOfRange(key: "\(key)[\(bad.index)]", value: bad.value)
        }
    }

    private func required<T>(_ key: String, _ value: T?) throws(GGUFError) -> T {
        guard let value else { throw .missingKey(key) }
        return value
    }

    private func mismatch(_ key: String, _ expected: String, _ value: GGUFValue) -> GGUFError {
        .wrongType(key: key, expected: expected, actual: value.typeName)
    }
}
