import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads `url` into `destination` with URLSession, streaming to disk. When `destination` already holds bytes (an
/// interrupted earlier transfer), asks for the rest with an HTTP Range request and appends what a 206 answer brings; a
/// 200 answer restarts from the first byte. A file URL (a local mirror) is copied directly, since URLSession on Linux
/// does not open file URLs. `timeout` is the longest wait for a connection or for the next bytes; the transfer as a
/// whole has no limit. More than `maxBytes` bytes in all fail the download (a wrong file must not fill the disk).
/// Returns the offset the transfer resumed at (0: from the start). A failure after bytes arrived keeps them
/// (`SourceFailure.keepsPartial`), so the next attempt resumes.
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
    let fd = open(destination.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw SourceFailure("cannot create \(destination.path): \(errnoText())") }
    defer { close(fd) }
    if existing == 0 { _ = ftruncate(fd, 0) }

    let delegate = DownloadDelegate(fd: fd, offset: existing, maxBytes: maxBytes, timeout: timeout, progress: progress)
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = timeout
    configuration.timeoutIntervalForResource = 7 * 24 * 3600
    configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
    let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
    var request = URLRequest(url: url, timeoutInterval: timeout)
    if existing > 0 {
        request.setValue("bytes=\(existing)-", forHTTPHeaderField: "Range")
        progress.message("resuming at byte \(existing) (\(String(format: "%.1f", Double(existing) / 1e6)) MB already here)")
    }
    let task = session.dataTask(with: request)
    task.resume()
    delegate.finished.wait()
    session.finishTasksAndInvalidate()

    if let failure = delegate.failure { throw failure }
    guard fsync(fd) == 0 || errno == EINVAL else { throw SourceFailure("cannot write \(destination.path): \(errnoText())") }
    return delegate.startOffset
}

/// Receives the body of one data task and writes it to a file descriptor. URLSession calls it on its own queue;
/// the downloading thread waits on `finished` and reads `failure` and `startOffset` only after that.
private final class DownloadDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let finished = DispatchSemaphore(value: 0)
    private let fd: Int32
    private let requestedOffset: Int64
    private let maxBytes: Int64
    private let timeout: TimeInterval
    private let progress: ProgressSink
    private let lock = NSLock()
    private var offset: Int64 = 0
    private var received: Int64 = 0
    private var expected: Int64?
    /// Whether `expected` came from the server's Content-Length (rather than our own limit).
    private var expectedFromServer = false
    private var failureValue: SourceFailure?

    var failure: SourceFailure? { lock.withLock { failureValue } }
    var startOffset: Int64 { lock.withLock { offset } }

    init(fd: Int32, offset: Int64, maxBytes: Int64, timeout: TimeInterval, progress: ProgressSink) {
        self.fd = fd
        requestedOffset = offset
        self.offset = offset
        self.maxBytes = maxBytes
        self.timeout = timeout
        self.progress = progress
    }

    private func fail(_ reason: String, keepsPartial: Bool) {
        lock.withLock {
            if failureValue == nil { failureValue = SourceFailure(reason, keepsPartial: keepsPartial && received + offset > 0) }
        }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 200
        var start: Int64 = 0
        switch status {
        case 206:
            // "Content-Range: bytes START-END/TOTAL": the rest of the file, from where we stopped.
            let range = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Range") ?? ""
            guard let first = parseContentRangeStart(range), first == requestedOffset else {
                fail("the server resumed at '\(range)', not at byte \(requestedOffset)", keepsPartial: false)
                completionHandler(.cancel)
                return
            }
            start = first
        case 416 where requestedOffset > 0 && requestedOffset == maxBytes:
            // Nothing left to send: the earlier transfer had every byte.
            lock.withLock { offset = requestedOffset }
            completionHandler(.cancel)
            return
        case 200..<300:
            start = 0
        default:
            fail("HTTP status \(status)", keepsPartial: requestedOffset > 0 && status != 416)
            completionHandler(.cancel)
            return
        }
        if start == 0 && requestedOffset > 0 {
            progress.message("the server sent the whole file; starting again from the first byte")
            _ = ftruncate(fd, 0)
        }
        let length = response.expectedContentLength
        if length > 0 && start + length > maxBytes {
            fail("the server announces \(start + length) bytes, expected at most \(maxBytes)", keepsPartial: false)
            completionHandler(.cancel)
            return
        }
        lock.withLock {
            offset = start
            expected = length > 0 ? start + length : (maxBytes < Int64.max / 2 ? maxBytes : nil)
            expectedFromServer = length > 0
        }
        _ = lseek(fd, off_t(start), SEEK_SET)
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let (done, total, tooMuch): (Int64, Int64?, Bool) = lock.withLock {
            received += Int64(data.count)
            return (offset + received, expected, offset + received > maxBytes)
        }
        if tooMuch {
            fail("more than the expected \(maxBytes) bytes", keepsPartial: false)
            dataTask.cancel()
            return
        }
        let err = data.withUnsafeBytes { writeFully(fd, $0) }
        if err != 0 {
            fail("cannot write the download: \(errnoText(err))", keepsPartial: true)
            dataTask.cancel()
            return
        }
        progress.progress(done: done, total: total)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error {
            let (done, total) = lock.withLock { (offset + received, expected) }
            var reason = networkReason(error, timeout: timeout)
            if let total, done < total { reason = "the transfer stopped after \(done) of \(total) bytes (\(reason))" }
            fail(reason, keepsPartial: true)
        } else {
            // A server that closes the connection early without an error still leaves the file short.
            let (done, total, declared) = lock.withLock { (offset + received, expected, expectedFromServer) }
            if declared, let total, done < total {
                fail("the transfer stopped after \(done) of \(total) bytes", keepsPartial: true)
            }
        }
        finished.signal()
    }
}

/// START of "bytes START-END/TOTAL".
func parseContentRangeStart(_ header: String) -> Int64? {
    guard header.hasPrefix("bytes ") else { return nil }
    return Int64(header.dropFirst(6).prefix { $0 != "-" })
}

/// A URLSession failure in words (Foundation's own texts and codes are not for users).
func networkReason(_ error: Error, timeout: TimeInterval) -> String {
    guard let code = (error as? URLError)?.code else { return "network error" }
    switch code {
    case .timedOut: return "no data for \(Int(timeout)) s (timed out)"
    case .networkConnectionLost: return "the connection was closed before the end of the file"
    case .cannotConnectToHost: return "cannot connect to the server (connection refused)"
    case .cannotFindHost, .dnsLookupFailed: return "cannot resolve the server's host name"
    case .notConnectedToInternet: return "no network connection"
    case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
         .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
        return "the secure connection failed (TLS)"
    case .badServerResponse: return "the server's response is malformed"
    case .unsupportedURL: return "unsupported URL"
    case .cancelled: return "cancelled"
    case .unknown: return "the connection failed"
    default: return "network error (URLError \(code.rawValue))"
    }
}

/// write(2) until all of `bytes` is out; 0, or the errno that stopped it. (Public for the CLI's own output files.)
public func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
    guard let base = bytes.baseAddress else { return 0 }
    var done = 0
    while done < bytes.count {
        let n = write(fd, base + done, bytes.count - done)
        if n < 0 {
            if errno == EINTR { continue }
            return errno
        }
        done += n
    }
    return 0
}

/// Copies a local file in 4 MB chunks with progress; more than `maxBytes` bytes fail the copy.
private func copyLocalFile(
    _ path: String, to destination: URL, maxBytes: Int64, progress: ProgressSink
) throws(SourceFailure) {
    let input = open(path, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw SourceFailure("cannot open \(path): \(errnoText())") }
    defer { close(input) }
    let output = open(destination.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard output >= 0 else { throw SourceFailure("cannot create \(destination.path): \(errnoText())") }
    defer { close(output) }
    let total = fileInfo(path).map { Int64($0.size) }
    let chunk = 4 << 20
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
    defer { buffer.deallocate() }
    var copied: Int64 = 0
    while true {
        let n = read(input, buffer, chunk)
        if n < 0 {
            if errno == EINTR { continue }
            throw SourceFailure("cannot read \(path): \(errnoText())")
        }
        if n == 0 { break }
        copied += Int64(n)
        if copied > maxBytes { throw SourceFailure("more than the expected \(maxBytes) bytes") }
        let err = writeFully(output, UnsafeRawBufferPointer(start: buffer, count: n))
        if err != 0 { throw SourceFailure("cannot write \(destination.path): \(errnoText(err))") }
        progress.progress(done: copied, total: total)
    }
}
