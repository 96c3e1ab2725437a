import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SystemPackage
import struct SystemPackage.FileDescriptor  // not NIOCore's protocol of that name

/// Downloads `url` into `destination` with AsyncHTTPClient, streaming to disk. When `destination` already holds bytes
/// (an interrupted earlier transfer), asks for the rest with an HTTP Range request and appends what a 206 answer
/// brings; a 200 answer restarts from the first byte. A file URL (a local mirror) is copied directly. `timeout` is the
/// longest wait for a connection or for the next bytes; the transfer as a whole has no limit. More than `maxBytes`
/// bytes in all fail the download (a wrong file must not fill the disk). Returns the offset the transfer resumed at
/// (0: from the start). A failure after bytes arrived keeps them (`SourceFailure.keepsPartial`), so the next attempt
/// resumes.
@discardableResult
func downloadURL(
    _ url: URL, to destination: URL, maxBytes: Int64, timeout: TimeInterval, progress: ProgressSink
) throws(SourceFailure) -> Int64 {
    if url.isFileURL {
        try copyLocalFile(url.path, to: destination, maxBytes: maxBytes, progress: progress)
        return 0
    }
    var existing = Int64(fileInfo(destination.path)?.size ?? 0)
    if existing > maxBytes { existing = 0 }
    let file: FileDescriptor
    do {
        file = try FileDescriptor.open(FilePath(destination.path), .writeOnly, options: [.create, .closeOnExec],
                                       permissions: [.ownerReadWrite, .groupRead, .otherRead])
        if existing == 0 { try file.resize(to: 0) }
    } catch {
        throw SourceFailure("cannot create \(destination.path): \(systemReason(error))")
    }
    defer { try? file.close() }

    guard var request = try? HTTPClient.Request(url: url) else { throw SourceFailure("unsupported URL") }
    request.headers.add(name: "User-Agent", value: "slm")
    if existing > 0 {
        request.headers.add(name: "Range", value: "bytes=\(existing)-")
        progress.message("resuming at byte \(existing) (\(String(format: "%.1f", Double(existing) / 1e6)) MB already here)")
    }
    let wait = TimeAmount.milliseconds(Int64(timeout * 1000))
    var pool = HTTPClient.Configuration.ConnectionPool()
    // A refused connection fails this source at once instead of being retried until the connect timeout.
    pool.retryConnectionEstablishment = false
    var configuration = HTTPClient.Configuration(timeout: .init(connect: wait, read: wait), connectionPool: pool)
    configuration.proxy = try ProxySetting.forURL(url, environment: ProcessInfo.processInfo.environment)?.clientProxy
    let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    defer { try? client.syncShutdown() }

    let delegate = DownloadDelegate(file: file, offset: existing, maxBytes: maxBytes, progress: progress)
    do {
        try client.execute(request: request, delegate: delegate).wait()
    } catch {
        if let failure = delegate.failure { throw failure }
        let position = delegate.position
        var reason = networkReason(error, timeout: timeout)
        if let total = position.total, position.done < total {
            reason = "the transfer stopped after \(position.done) of \(total) bytes (\(reason))"
        }
        throw SourceFailure(reason, keepsPartial: position.done > 0)
    }
    guard fsync(file.rawValue) == 0 || errno == EINVAL else {
        throw SourceFailure("cannot write \(destination.path): \(errnoText())")
    }
    return delegate.position.start
}

/// Writes the body of one response to a file descriptor, at the offset the response starts at. AsyncHTTPClient
/// calls it on one event loop, one callback at a time; each received buffer is written there and then (a blocking
/// write to the page cache). The downloading thread reads `failure` and `position` after the request has ended.
private final class DownloadDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void

    private let file: FileDescriptor
    private let requestedOffset: Int64
    private let maxBytes: Int64
    private let progress: ProgressSink
    private let lock = NSLock()
    private var offset: Int64
    private var received: Int64 = 0
    private var expected: Int64?
    /// The answer says there is nothing more to write (416 to a range starting at the end of the file).
    private var ignoresBody = false
    private var failureValue: SourceFailure?

    var failure: SourceFailure? { lock.withLock { failureValue } }
    /// Where the response started in the file, bytes in the file so far and the size the file should reach.
    var position: (start: Int64, done: Int64, total: Int64?) { lock.withLock { (offset, offset + received, expected) } }

    init(file: FileDescriptor, offset: Int64, maxBytes: Int64, progress: ProgressSink) {
        self.file = file
        requestedOffset = offset
        self.offset = offset
        self.maxBytes = maxBytes
        self.progress = progress
    }

    /// Records the first failure and returns a failed future with it, which ends the request.
    private func fail(_ task: HTTPClient.Task<Void>, _ reason: String, keepsPartial: Bool) -> EventLoopFuture<Void> {
        let failure = lock.withLock {
            if failureValue == nil {
                failureValue = SourceFailure(reason, keepsPartial: keepsPartial && received + offset > 0)
            }
            return failureValue!
        }
        return task.eventLoop.makeFailedFuture(failure)
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        let status = Int(head.status.code)
        var start: Int64 = 0
        switch status {
        case 206:
            // "Content-Range: bytes START-END/TOTAL": the rest of the file, from where we stopped.
            let range = head.headers.first(name: "Content-Range") ?? ""
            guard let first = parseContentRangeStart(range), first == requestedOffset else {
                return fail(task, "the server resumed at '\(range)', not at byte \(requestedOffset)", keepsPartial: false)
            }
            start = first
        case 416 where requestedOffset > 0 && requestedOffset == maxBytes:
            // Nothing left to send: the earlier transfer had every byte.
            lock.withLock { ignoresBody = true }
            return task.eventLoop.makeSucceededVoidFuture()
        case 200..<300:
            start = 0
        default:
            return fail(task, "HTTP status \(status)", keepsPartial: requestedOffset > 0 && status != 416)
        }
        if start == 0 && requestedOffset > 0 {
            progress.message("the server sent the whole file; starting again from the first byte")
            try? file.resize(to: 0)
        }
        let length = head.headers.first(name: "Content-Length").flatMap { Int64($0) } ?? -1
        if length > 0 && start + length > maxBytes {
            return fail(task, "the server announces \(start + length) bytes, expected at most \(maxBytes)", keepsPartial: false)
        }
        lock.withLock {
            offset = start
            expected = length > 0 ? start + length : (maxBytes < Int64.max / 2 ? maxBytes : nil)
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let (skip, at, total) = lock.withLock { (ignoresBody, offset + received, expected) }
        if skip { return task.eventLoop.makeSucceededVoidFuture() }
        let done = at + Int64(buffer.readableBytes)
        if done > maxBytes { return fail(task, "more than the expected \(maxBytes) bytes", keepsPartial: false) }
        do {
            try buffer.withUnsafeReadableBytes { _ = try file.writeAll(toAbsoluteOffset: at, $0) }
        } catch {
            return fail(task, "cannot write the download: \(systemReason(error))", keepsPartial: true)
        }
        lock.withLock { received += Int64(buffer.readableBytes) }
        progress.progress(done: done, total: total)
        return task.eventLoop.makeSucceededVoidFuture()
    }

    // A body shorter than its Content-Length ends in an error (`HTTPClientError.remoteConnectionClosed`), so a
    // request that finishes has every byte it announced.
    func didFinishRequest(task: HTTPClient.Task<Void>) throws {}
}

/// START of "bytes START-END/TOTAL".
func parseContentRangeStart(_ header: String) -> Int64? {
    guard header.hasPrefix("bytes ") else { return nil }
    return Int64(header.dropFirst(6).prefix { $0 != "-" })
}

/// A transfer's failure in words (the libraries' own texts are not for users).
func networkReason(_ error: Error, timeout: TimeInterval) -> String {
    if let e = error as? HTTPClientError {
        switch e {
        case .readTimeout: return "no data for \(Int(timeout)) s (timed out)"
        case .connectTimeout, .tlsHandshakeTimeout: return "no connection within \(Int(timeout)) s (timed out)"
        case .remoteConnectionClosed: return "the connection was closed before the end of the file"
        case .redirectLimitReached, .redirectCycleDetected: return "too many redirects"
        default: return "the connection failed (\(e))"
        }
    }
    if let e = error as? NIOConnectionError {
        if let failure = e.connectionErrors.last { return networkReason(failure.error, timeout: timeout) }
        return "cannot resolve the server's host name"
    }
    if let e = error as? IOError {
        if e.errnoCode == ECONNREFUSED { return "cannot connect to the server (connection refused)" }
        return "the connection failed (\(errnoText(e.errnoCode)))"
    }
    return "the connection failed (\(error))"
}

/// write(2) until all of `bytes` is out; 0, or the errno that stopped it. (Public for the CLI's own output files.)
public func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
    do {
        try FileDescriptor(rawValue: fd).writeAll(bytes)
        return 0
    } catch {
        return (error as? Errno)?.rawValue ?? EIO
    }
}

/// Copies a local file in 4 MB chunks with progress; more than `maxBytes` bytes fail the copy.
private func copyLocalFile(
    _ path: String, to destination: URL, maxBytes: Int64, progress: ProgressSink
) throws(SourceFailure) {
    let total = fileInfo(path).map { Int64($0.size) }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 64)
    defer { buffer.deallocate() }
    let input: FileDescriptor, output: FileDescriptor
    do { input = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec) } catch {
        throw SourceFailure("cannot open \(path): \(systemReason(error))")
    }
    defer { try? input.close() }
    do {
        output = try FileDescriptor.open(FilePath(destination.path), .writeOnly, options: [.create, .truncate, .closeOnExec],
                                         permissions: [.ownerReadWrite, .groupRead, .otherRead])
    } catch {
        throw SourceFailure("cannot create \(destination.path): \(systemReason(error))")
    }
    defer { try? output.close() }
    var copied: Int64 = 0
    while true {
        let n: Int
        do { n = try input.read(into: buffer) } catch { throw SourceFailure("cannot read \(path): \(systemReason(error))") }
        if n == 0 { break }
        copied += Int64(n)
        if copied > maxBytes { throw SourceFailure("more than the expected \(maxBytes) bytes") }
        do { try output.writeAll(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) } catch {
            throw SourceFailure("cannot write \(destination.path): \(systemReason(error))")
        }
        progress.progress(done: copied, total: total)
    }
}
