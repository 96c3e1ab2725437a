import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Makes the server's event loops (NIO's singleton group, which the application serves on) run Swift concurrency's
/// jobs too, instead of a thread pool of their own: a streamed token then wakes one thread, the loop that writes it to
/// its connection, rather than a pool thread that hands the write to a loop, so the compute threads of a small machine
/// are preempted less.
/// Call once, from the main thread, before any task starts; false if it could not be installed (then nothing changed).
public func runConcurrencyOnEventLoops() -> Bool {
    NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}

/// Runs the application until SIGTERM or SIGINT, then stops gracefully: the scheduler stops admitting (new requests
/// get 503), lets running requests finish for `shutdownGraceSeconds` and cancels the rest, flushes the prefix cache's
/// disk writes, and the HTTP server closes once its responses are done. A second signal exits at once (status 130).
public func runServer(_ app: some ApplicationProtocol, service: ModelService, logger: Logger) async throws {
    let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
    let stopping = ManagedFlag()
    var sources: [any DispatchSourceSignal] = []
    for sig in [SIGINT, SIGTERM] {
        signal(sig, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler {
            guard stopping.set() else { exit(130) }
            logger.info("stopping: finishing running requests (up to \(service.options.shutdownGraceSeconds) s)")
            Thread.detachNewThread {
                service.scheduler.shutdown(grace: .seconds(service.options.shutdownGraceSeconds))
                Task { await group.triggerGracefulShutdown() }
            }
        }
        source.resume()
        sources.append(source)
    }
    try await group.run()
    for s in sources { s.cancel() }
}

/// A flag set once, from any thread.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    /// Sets the flag; true if this call set it, false if it was already set.
    func set() -> Bool {
        lock.withLock {
            defer { value = true }
            return !value
        }
    }

    var isSet: Bool { lock.withLock { value } }
}
