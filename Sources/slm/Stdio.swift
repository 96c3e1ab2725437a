import Foundation
import ModelStore

/// stdout carries only the product; everything else goes to stderr.
enum Stdio {
    nonisolated(unsafe) static var quiet = false

    /// Writes to stdout. A reader that went away (`slm generate ... | head -c 10`) ends the process quietly with
    /// status 0, as SIGPIPE would have without the noise; any other failure is a one-line error and exit 1.
    /// (FileHandle.write traps on a write error, which turned a closed pipe into a crash.)
    static func out(_ s: String) {
        let failure = writeAll(STDOUT_FILENO, s)
        guard failure != 0 else { return }
        if failure == EPIPE { exit(0) }
        error("cannot write to stdout: \(String(cString: strerror(failure)))")
        exit(1)
    }

    /// Progress and summaries (silenced by --quiet).
    static func info(_ s: String) {
        guard !quiet else { return }
        _ = writeAll(STDERR_FILENO, s + "\n")  // nowhere left to report a failure to write stderr
    }

    /// One line, with control characters (line breaks included) shown as escapes: a corrupted metadata key must not
    /// put raw control bytes on the user's terminal, nor split the line.
    static func error(_ s: String) {
        _ = writeAll(STDERR_FILENO, "error: \(Escapes.visible(s))\n")
    }

    /// write(2) until all of `s` is out; returns 0, or the errno that stopped it.
    private static func writeAll(_ fd: Int32, _ s: String) -> Int32 {
        var s = s
        return s.withUTF8 { writeFully(fd, UnsafeRawBufferPointer($0)) }
    }

    /// All of stdin, which must be valid UTF-8. With `hint` and stdin a terminal, first says on stderr what is read
    /// and how to end it.
    static func readStdinText(what: String, hint: String? = nil) throws -> String {
        if let hint, isatty(STDIN_FILENO) != 0 {
            _ = writeAll(STDERR_FILENO, "reading \(hint) from stdin (end it with Ctrl-D)\n")
        }
        // readToEnd throws where readDataToEndOfFile traps (stdin a directory: `slm tokenize < /tmp`).
        let data: Data
        do { data = try FileHandle.standardInput.readToEnd() ?? Data() } catch {
            throw CLIError.runtime("cannot read \(what): \(systemReason(error))")
        }
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
