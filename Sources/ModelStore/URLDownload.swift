import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads `url` into `destination` (created or truncated) with URLSession, streaming to disk; a file URL (a
/// local mirror) is copied directly, since URLSession on Linux does not open file URLs.
/// `timeout` is the longest wait for a connection or for the next bytes; the transfer as a whole has no limit.
/// More than `maxBytes` bytes fail the download (a wrong file must not fill the disk).
func downloadURL(
    _ url: URL, to destination: URL, maxBytes: Int64, timeout: TimeInterval, progress: ProgressSink
) throws(SourceFailure) {
    if url.isFileURL {
        return try copyLocalFile(url.path, to: destination, maxBytes: maxBytes, progress: progress)
    }
    guard FileManager.default.createFile(atPath: destination.path, contents: nil),
        let handle = try? FileHandle(forWritingTo: destination)
    else { throw SourceFailure("cannot create \(destination.path)") }
    defer { try? handle.close() }

    let delegate = DownloadDelegate(handle: handle, maxBytes: maxBytes, progress: progress)
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = timeout
    configuration.timeoutIntervalForResource = 7 * 24 * 3600
    configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
    let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
    let task = session.dataTask(with: URLRequest(url: url, timeoutInterval: timeout))
    task.resume()
    delegate.finished.wait()
    session.finishTasksAndInvalidate()

    if let failure = delegate.failure { throw failure }
    do {
        try handle.synchronize()
    } catch {
        throw SourceFailure("cannot write \(destination.path): \(error.localizedDescription)")
    }
}

/// Receives the body of one data task and appends it to a file. URLSession calls it on its own queue;
/// the downloading thread waits on `finished` and reads `failure` only after that.
private final class DownloadDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let finished = DispatchSemaphore(value: 0)
    private let handle: FileHandle
    private let maxBytes: Int64
    private let progress: ProgressSink
    private let lock = NSLock()
    private var received: Int64 = 0
    private var expected: Int64?
    private var failureValue: SourceFailure?

    var failure: SourceFailure? { lock.withLock { failureValue } }

    init(handle: FileHandle, maxBytes: Int64, progress: ProgressSink) {
        self.handle = handle
        self.maxBytes = maxBytes
        self.progress = progress
    }

    private func fail(_ reason: String) {
        lock.withLock { if failureValue == nil { failureValue = SourceFailure(reason) } }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            fail("HTTP status \(http.statusCode)")
            completionHandler(.cancel)
            return
        }
        let length = response.expectedContentLength
        if length > maxBytes {
            fail("the server announces \(length) bytes, expected \(maxBytes)")
            completionHandler(.cancel)
            return
        }
        lock.withLock { expected = length > 0 ? length : maxBytes }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let (done, total, tooMuch): (Int64, Int64?, Bool) = lock.withLock {
            received += Int64(data.count)
            return (received, expected, received > maxBytes)
        }
        if tooMuch {
            fail("more than the expected \(maxBytes) bytes")
            dataTask.cancel()
            return
        }
        do {
            try handle.write(contentsOf: data)
        } catch {
            fail("cannot write the download: \(error.localizedDescription)")
            dataTask.cancel()
            return
        }
        progress.progress(done: done, total: total)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error { fail(error.localizedDescription) }
        finished.signal()
    }
}

/// Copies a local file in 4 MB chunks with progress; more than `maxBytes` bytes fail the copy.
private func copyLocalFile(
    _ path: String, to destination: URL, maxBytes: Int64, progress: ProgressSink
) throws(SourceFailure) {
    guard let input = FileHandle(forReadingAtPath: path) else { throw SourceFailure("cannot open \(path)") }
    defer { try? input.close() }
    guard FileManager.default.createFile(atPath: destination.path, contents: nil),
        let output = try? FileHandle(forWritingTo: destination)
    else { throw SourceFailure("cannot create \(destination.path)") }
    defer { try? output.close() }
    let total = fileInfo(path).map { Int64($0.size) }
    var copied: Int64 = 0
    do {
        while let chunk = try input.read(upToCount: 4 << 20), !chunk.isEmpty {
            copied += Int64(chunk.count)
            if copied > maxBytes { throw SourceFailure("more than the expected \(maxBytes) bytes") }
            try output.write(contentsOf: chunk)
            progress.progress(done: copied, total: total)
        }
    } catch let failure as SourceFailure {
        throw failure
    } catch {
        throw SourceFailure("cannot copy \(path): \(error.localizedDescription)")
    }
}
