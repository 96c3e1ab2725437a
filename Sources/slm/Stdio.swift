import Foundation

/// stdout carries only the product; everything else goes to stderr.
enum Stdio {
    nonisolated(unsafe) static var quiet = false

    static func out(_ s: String) {
        FileHandle.standardOutput.write(Data(s.utf8))
    }

    /// Progress and summaries (silenced by --quiet).
    static func info(_ s: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }

    static func error(_ s: String) {
        let line = s.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? s
        FileHandle.standardError.write(Data("error: \(line)\n".utf8))
    }

    /// All of stdin, which must be valid UTF-8.
    static func readStdinText(what: String) throws -> String {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        return try utf8(data, what: what)
    }

    static func utf8(_ data: Data, what: String) throws -> String {
        guard let s = String(validating: data, as: UTF8.self) else {
            let offset = firstInvalidUTF8(data) ?? 0
            throw CLIError.runtime("\(what) is not valid UTF-8 (first bad byte at offset \(offset))")
        }
        return s
    }

    static func firstInvalidUTF8(_ data: Data) -> Int? {
        var it = data.makeIterator()
        var decoder = UTF8()
        var offset = 0
        var consumed = 0
        while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s):
                offset = consumed
                consumed += UTF8.width(s)
            case .emptyInput: return nil
            case .error: return consumed > offset ? consumed : offset
            }
        }
    }
}

/// Errors the CLI reports itself: `usage` exits 2, `runtime` exits 1.
enum CLIError: Error, CustomStringConvertible {
    case usage(String)
    case runtime(String)

    var description: String {
        switch self {
        case .usage(let s), .runtime(let s): return s
        }
    }
}

/// One decimal place.
func fmt1(_ x: Double) -> String { String(format: "%.1f", x) }
