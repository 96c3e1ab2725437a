import GGUF

/// Reads an architecture's hyperparameters from GGUF metadata by their literal key strings (so a grep for a key finds
/// the line that reads it), each checked against the range the model code can run; a value outside it throws
/// `ModelError.invalidHyperparameter` naming the key. The forms with `default:` accept a missing key.
struct Hyperparameters {
    let file: GGUFFile

    func int(_ key: String, in range: ClosedRange<Int>) throws(ModelError) -> Int {
        try checked(key, try meta { () throws(GGUFError) in try file.int(key) }, range)
    }

    func int(_ key: String, in range: ClosedRange<Int>, default value: Int) throws(ModelError) -> Int {
        try checked(key, try meta { () throws(GGUFError) in try file.optionalInt(key) } ?? value, range)
    }

    func float(_ key: String, in range: ClosedRange<Float>) throws(ModelError) -> Float {
        try checked(key, try meta { () throws(GGUFError) in try file.float(key) }, range)
    }

    func float(_ key: String, in range: ClosedRange<Float>, default value: Float) throws(ModelError) -> Float {
        try checked(key, try meta { () throws(GGUFError) in try file.optionalFloat(key) } ?? value, range)
    }

    /// An optional key (nil when absent), range-checked when present.
    func optionalInt(_ key: String, in range: ClosedRange<Int>) throws(ModelError) -> Int? {
        guard let v = try meta({ () throws(GGUFError) in try file.optionalInt(key) }) else { return nil }
        return try checked(key, v, range)
    }

    func optionalFloat(_ key: String, in range: ClosedRange<Float>) throws(ModelError) -> Float? {
        guard let v = try meta({ () throws(GGUFError) in try file.optionalFloat(key) }) else { return nil }
        return try checked(key, v, range)
    }

    func optionalString(_ key: String) throws(ModelError) -> String? {
        try meta { () throws(GGUFError) in try file.optionalString(key) }
    }

    /// Throws `invalidHyperparameter` for `key` unless `condition` holds.
    func require(_ condition: Bool, _ key: String, _ value: some CustomStringConvertible,
                 _ reason: @autoclosure () -> String) throws(ModelError) {
        guard condition else { throw .invalidHyperparameter(key: key, value: value.description, reason: reason()) }
    }

    private func checked<T: Comparable & CustomStringConvertible>(_ key: String, _ value: T,
                                                                   _ range: ClosedRange<T>) throws(ModelError) -> T {
        // NaN fails `contains`, so a float range also rejects it.
        guard range.contains(value) else {
            throw .invalidHyperparameter(key: key, value: value.description,
                                         reason: "must be in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }
}
