import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the store reports what it is doing. Everything goes to stderr in the CLI; stdout is for the product only.
public protocol ProgressSink: Sendable {
    /// One line of news ("pulling smollm2-135m from ...", "source ... failed: ...").
    func message(_ text: String)
    /// Bytes of the current transfer so far; `total` nil when unknown. `done` restarting lower starts a new transfer.
    func progress(done: Int64, total: Int64?)
    /// Whether the output of tools the store runs (pip) is passed through; false under --quiet.
    var showsToolOutput: Bool { get }
}

extension ProgressSink {
    public var showsToolOutput: Bool { true }
}

/// A progress bar on stderr: redrawn in place with `\r` on a terminal, a line every few seconds otherwise.
/// `quiet` silences it (errors are reported by the caller, not here). Written here: it is one line of text, and none
/// of the packages on hand draws one.
public struct StderrProgress: ProgressSink {
    public let quiet: Bool
    private let isTerminal: Bool
    private let state = State()

    /// Seconds between lines when stderr is not a terminal, and between redraws when it is.
    private static let lineInterval = 5.0
    private static let redrawInterval = 0.1

    public init(quiet: Bool) {
        self.init(quiet: quiet, isTerminal: isatty(STDERR_FILENO) != 0)
    }

    public init(quiet: Bool, isTerminal: Bool) {
        self.quiet = quiet
        self.isTerminal = isTerminal
    }

    public var showsToolOutput: Bool { !quiet }

    public func message(_ text: String) {
        guard !quiet else { return }
        state.lock.withLock {
            // A message ends a bar that is being redrawn in place.
            let prefix = state.barOnScreen ? "\n" : ""
            state.barOnScreen = false
            writeStderr(prefix + text + "\n")
        }
    }

    public func progress(done: Int64, total: Int64?) {
        guard !quiet else { return }
        let now = Date()
        state.lock.withLock {
            if done < state.lastDone || state.start == nil {
                state.start = now
                state.lastDraw = nil
            }
            state.lastDone = done
            let finished = total.map { done >= $0 } ?? false
            let interval = isTerminal ? Self.redrawInterval : Self.lineInterval
            if !finished, let last = state.lastDraw, now.timeIntervalSince(last) < interval { return }
            if finished && state.finishedShown == done { return }
            state.lastDraw = now
            let elapsed = now.timeIntervalSince(state.start ?? now)
            let line = Self.describe(done: done, total: total, elapsed: elapsed, bar: isTerminal)
            if isTerminal {
                writeStderr("\r" + line + "\u{1B}[K" + (finished ? "\n" : ""))
                state.barOnScreen = !finished
            } else {
                writeStderr(line + "\n")
            }
            state.finishedShown = finished ? done : -1
        }
    }

    /// "  45.2 MB / 98.4 MB  46%  [#########-----------]  3.1 MB/s"
    static func describe(done: Int64, total: Int64?, elapsed: Double, bar: Bool) -> String {
        var line = "  " + megabytes(done)
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            line += " / " + megabytes(total) + String(format: "  %3d%%", Int(fraction * 100))
            if bar {
                let width = 24
                let filled = Int(fraction * Double(width))
                line += "  [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
            }
        }
        if elapsed > 0.5 {
            line += String(format: "  %.1f MB/s", Double(done) / elapsed / 1e6)
        }
        return line
    }

    private static func megabytes(_ bytes: Int64) -> String {
        String(format: "%.1f MB", Double(bytes) / 1e6)
    }

    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var start: Date?
        var lastDraw: Date?
        var lastDone: Int64 = 0
        var barOnScreen = false
        var finishedShown: Int64 = -1
    }
}

func writeStderr(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}
