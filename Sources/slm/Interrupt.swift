import Dispatch
import Foundation
import SLMEngine

/// Ctrl-C during a command that can stop early: the first SIGINT sets a cancellation flag the engine polls (the
/// command then ends its line, prints its summary, writes its files and exits 130); a second one exits at once.
enum Interrupt {
    nonisolated(unsafe) private static var source: DispatchSourceSignal?

    /// Installs the handler once and returns its flag.
    static func install() -> CancellationFlag {
        let flag = CancellationFlag()
        // Ignored as a signal so that only the dispatch source sees it (and not the default action, termination).
        signal(SIGINT, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        s.setEventHandler {
            if flag.isCancelled {
                _ = write(STDERR_FILENO, "\n", 1)
                _exit(130)
            }
            flag.cancel()
        }
        s.resume()
        source = s
        return flag
    }
}
