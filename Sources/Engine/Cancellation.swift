import Foundation

/// A request to stop work early (Ctrl-C), set from any thread and polled by the generation loop between steps: once
/// per decoded token and between prefill batches, so a stop costs at most one batch of latency and nothing per token
/// beyond an uncontended lock.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    /// Test seam: cancel on the check after this many checks (nil: only `cancel()` cancels).
    private var checksLeft: Int?

    public init() {}

    /// A flag that cancels itself when polled for the `checks + 1`-th time: deterministic interruption for tests.
    init(cancelAfterChecks checks: Int) {
        checksLeft = checks
    }

    public func cancel() { lock.withLock { cancelled = true } }

    public var isCancelled: Bool {
        lock.withLock {
            if let n = checksLeft {
                if n <= 0 { cancelled = true } else { checksLeft = n - 1 }
            }
            return cancelled
        }
    }
}
