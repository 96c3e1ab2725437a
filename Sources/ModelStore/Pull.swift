import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ModelStore {
    /// How long a URL source may take to connect or to deliver its next bytes.
    static let connectTimeout: TimeInterval = 10

    /// Fetches the model into the store: tries each source in order into `.<file>.partial-<pid>` in the store
    /// directory, verifies size and sha256, fsyncs and renames it into place. A lock file serialises pulls of the same
    /// model across processes; a partial file whose pid is no longer alive is removed first.
    public func pull(_ manifest: ModelManifest, progress: ProgressSink) throws(ModelStoreError) -> URL {
        guard isPlainFileName(manifest.file) else {
            throw .invalidManifest(name: manifest.name, reason: "file name '\(manifest.file)' is not a plain file name")
        }
        let directory = modelsDirectory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory.path, reason: "cannot create the model store: \(error.localizedDescription)")
        }
        let lock = try FileLock(path: directory.appendingPathComponent(".\(manifest.file).lock").path) {
            progress.message("waiting for another process pulling \(manifest.name)")
        }
        defer { lock.release() }

        // Another process may have finished the pull while we waited for the lock.
        if let path = localPath(for: manifest) { return path }
        removeStaleTemporaries(of: manifest)

        let pid = getpid()
        let partial = directory.appendingPathComponent(".\(manifest.file).partial-\(pid)")
        let workDirectory = directory.appendingPathComponent(".\(manifest.file).pip-\(pid)")
        let final = directory.appendingPathComponent(manifest.file)
        var failures: [String] = []
        for source in manifest.sources {
            progress.message("pulling \(manifest.name) (\(manifest.file), \(manifest.size) bytes) from \(source.label)")
            do {
                try fetch(source, manifest: manifest, into: partial, workDirectory: workDirectory, progress: progress)
                try? FileManager.default.removeItem(at: workDirectory)
                try verify(partial, manifest: manifest, progress: progress)
                try install(partial, at: final)
                progress.message("pulled \(manifest.name) into \(final.path)")
                return final
            } catch {
                try? FileManager.default.removeItem(at: partial)
                try? FileManager.default.removeItem(at: workDirectory)
                progress.message("source \(source.label) failed: \(error.reason)")
                failures.append("\(source.label): \(error.reason)")
            }
        }
        throw .allSourcesFailed(model: manifest.name, failures: failures)
    }

    private func fetch(
        _ source: ModelSource, manifest: ModelManifest, into partial: URL, workDirectory: URL, progress: ProgressSink
    ) throws(SourceFailure) {
        switch source {
        case .url(let text):
            guard let url = URL(string: text), url.scheme != nil else { throw SourceFailure("not a URL") }
            try downloadURL(
                url, to: partial, maxBytes: Int64(manifest.size), timeout: Self.connectTimeout, progress: progress)
        case .pip(let parts):
            guard !parts.isEmpty else { throw SourceFailure("no parts") }
            try fetchPipParts(
                parts, to: partial, workDirectory: workDirectory, maxBytes: Int64(manifest.size), progress: progress)
        }
    }

    private func verify(_ partial: URL, manifest: ModelManifest, progress: ProgressSink) throws(SourceFailure) {
        let size = fileInfo(partial.path)?.size ?? -1
        guard size == manifest.size else {
            throw SourceFailure("got \(size) bytes, expected \(manifest.size)")
        }
        progress.message("verifying sha256 of \(manifest.file)")
        let digest: String
        do {
            digest = try SHA256.hexDigest(ofFile: partial.path)
        } catch {
            throw SourceFailure(error.description)
        }
        guard digest == manifest.sha256.lowercased() else {
            throw SourceFailure("sha256 \(digest), expected \(manifest.sha256)")
        }
    }

    /// fsync the file, rename it over `final` (atomic within one file system), fsync the directory.
    private func install(_ partial: URL, at final: URL) throws(SourceFailure) {
        let fd = open(partial.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SourceFailure("cannot open \(partial.path): \(errnoText())") }
        let synced = fsync(fd) == 0
        let syncError = errno
        close(fd)
        guard synced else { throw SourceFailure("fsync \(partial.path): \(errnoText(syncError))") }
        guard rename(partial.path, final.path) == 0 else {
            throw SourceFailure("cannot rename \(partial.path) to \(final.path): \(errnoText())")
        }
        let directoryFD = open(final.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Removes `.<file>.partial-<pid>` files and `.<file>.pip-<pid>` directories whose process is gone
    /// (an interrupted pull). Called with the model's lock held.
    func removeStaleTemporaries(of manifest: ModelManifest) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: modelsDirectory.path)) ?? []
        for entry in entries {
            for marker in [".\(manifest.file).partial-", ".\(manifest.file).pip-"] where entry.hasPrefix(marker) {
                guard let pid = Int32(entry.dropFirst(marker.count)), pid > 0, !processIsAlive(pid) else { continue }
                try? FileManager.default.removeItem(at: modelsDirectory.appendingPathComponent(entry))
            }
        }
    }
}

/// kill(pid, 0) succeeds or is refused for permission: the process exists.
func processIsAlive(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || errno == EPERM
}

/// An exclusive flock(2) on a lock file, held until `release`. Locks belong to the open file description, so two
/// FileLocks on one path conflict even within one process.
final class FileLock {
    private var fd: Int32

    /// Blocks until the lock is held; `onWait` is called once if another holder makes us wait.
    init(path: String, onWait: () -> Void) throws(ModelStoreError) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: path, reason: "cannot open lock file: \(errnoText())") }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
        guard errno == EWOULDBLOCK else {
            let reason = errnoText()
            close(fd)
            throw .io(path: path, reason: "cannot lock: \(reason)")
        }
        onWait()
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let reason = errnoText()
            close(fd)
            throw .io(path: path, reason: "cannot lock: \(reason)")
        }
    }

    func release() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
    }

    deinit { release() }
}
