import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ModelStore {
    /// A download of unknown size may be at most this large.
    static let unknownSizeLimit: Int64 = 64 << 30

    /// Fetches a built-in model into the store (see `pull(_: PullTarget, ...)`).
    public func pull(_ manifest: ModelManifest, progress: ProgressSink) throws(ModelStoreError) -> URL {
        try pull(PullTarget(manifest), progress: progress)
    }

    /// Fetches `target` into the store: tries each source in order into `.<file>.partial` in the store directory,
    /// checks size and SHA-256 against what is expected (or, when nothing is, that it is a GGUF file), fsyncs and
    /// renames it into place, and records its SHA-256 and names beside it (`StoreRecord`). A lock file serialises
    /// pulls of one file across processes. A transfer that breaks off keeps its partial file, and the next pull
    /// resumes it with an HTTP Range request; a resumed file that then fails its checksum is fetched again whole.
    /// Unless `force`, a file already in the store that matches the target is returned without fetching.
    public func pull(_ target: PullTarget, force: Bool = false, progress: ProgressSink) throws(ModelStoreError) -> URL {
        guard isPlainFileName(target.file) else {
            throw .invalidManifest(name: target.name, reason: "file name '\(target.file)' is not a plain file name")
        }
        if let sha = target.sha256, !isSHA256Hex(sha) {
            throw .invalidManifest(name: target.name, reason: "sha256 '\(sha)' is not 64 hex digits")
        }
        let directory = modelsDirectory
        try makeDirectories(directory.path, what: "the model store")
        let lock = try FileLock(path: directory.appendingPathComponent(".\(target.file).lock").path) {
            progress.message("waiting for another process pulling \(target.name)")
        }
        defer { lock.release() }

        // Another process may have finished the pull while we waited for the lock.
        if !force, let path = installedPath(of: target) {
            try addNames(target.names, to: target.file)
            return path
        }
        removeStaleTemporaries(of: target.file)

        let partial = directory.appendingPathComponent(".\(target.file).partial")
        let workDirectory = directory.appendingPathComponent(".\(target.file).pip-\(getpid())")
        let final = directory.appendingPathComponent(target.file)
        let sizeText = target.size.map { ", \($0) bytes" } ?? ""
        var failures: [String] = []
        for source in target.sources {
            progress.message("pulling \(target.name) (\(target.file)\(sizeText)) from \(source.label)")
            var attempts = 0
            while true {
                attempts += 1
                do throws(SourceFailure) {
                    let resumedAt = try fetch(source, target: target, into: partial, workDirectory: workDirectory,
                                              progress: progress)
                    try? FileManager.default.removeItem(at: workDirectory)
                    let digest: String
                    do throws(SourceFailure) { digest = try verify(partial, target: target, progress: progress) } catch {
                        // A resumed file may hold bytes of an older version of the file: fetch it whole once.
                        if resumedAt > 0 && attempts == 1 {
                            progress.message("\(error.reason) after resuming; fetching the whole file again")
                            unlink(partial.path)
                            continue
                        }
                        throw error
                    }
                    try install(partial, at: final)
                    let names = mergedNames(target.names, record(for: target.file)?.names ?? [])
                    do {
                        try writeRecord(StoreRecord(
                            file: target.file, size: fileInfo(final.path)?.size ?? 0, sha256: digest,
                            checked: target.sha256 != nil, source: source.label, names: names, pulledAt: Self.now()))
                    } catch {
                        progress.message("warning: the model is in place but its record is not: \(error.description)")
                    }
                    progress.message("pulled \(target.name) into \(final.path) (sha256 \(digest))")
                    return final
                } catch {
                    if !error.keepsPartial { unlink(partial.path) }
                    try? FileManager.default.removeItem(at: workDirectory)
                    progress.message("source \(source.label) failed: \(error.reason)"
                        + (error.keepsPartial ? " (the bytes so far are kept; pulling again resumes)" : ""))
                    failures.append("\(source.label): \(error.reason)")
                    break
                }
            }
        }
        throw .allSourcesFailed(model: target.name, failures: failures)
    }

    /// The target's file when it is in the store and matches what is known of it (size; SHA-256 as recorded).
    public func installedPath(of target: PullTarget) -> URL? {
        let url = modelsDirectory.appendingPathComponent(target.file)
        guard let info = fileInfo(url.path), info.isRegular else { return nil }
        if let size = target.size, info.size != size { return nil }
        if let sha = target.sha256, let recorded = record(for: target.file)?.sha256, recorded != sha { return nil }
        return url
    }

    /// Adds `names` to the file's record (a record is made, with the SHA-256 computed, when there is none).
    public func addNames(_ names: [String], to file: String) throws(ModelStoreError) {
        if var r = record(for: file) {
            let merged = mergedNames(r.names, names)
            guard merged != r.names else { return }
            r.names = merged
            try writeRecord(r)
        } else {
            let path = modelsDirectory.appendingPathComponent(file).path
            let digest = try SHA256.hexDigest(ofFile: path)
            let size = fileInfo(path)?.size ?? 0
            let manifest = Self.manifests().first { $0.file == file && $0.size == size }
            try writeRecord(StoreRecord(file: file, size: size, sha256: digest,
                                        checked: manifest.map { $0.sha256.lowercased() == digest } ?? false,
                                        source: "already in the store", names: names, pulledAt: Self.now()))
        }
    }

    /// Fetches one source into `partial`; returns the byte offset a download resumed at (0: from the start).
    private func fetch(
        _ source: ModelSource, target: PullTarget, into partial: URL, workDirectory: URL, progress: ProgressSink
    ) throws(SourceFailure) -> Int64 {
        let maxBytes = target.size.map(Int64.init) ?? Self.unknownSizeLimit
        switch source {
        case .url(let text):
            guard let url = URL(string: text), url.scheme != nil else { throw SourceFailure("not a URL") }
            return try downloadURL(url, to: partial, maxBytes: maxBytes, timeout: timeout, progress: progress)
        case .pip(let parts):
            guard !parts.isEmpty else { throw SourceFailure("no parts") }
            try fetchPipParts(parts, to: partial, workDirectory: workDirectory, maxBytes: maxBytes, progress: progress)
            return 0
        }
    }

    /// Size and SHA-256 against the target's; with no SHA-256 to compare, the file must at least begin as a GGUF
    /// file does (an HTML error page is not a model). Returns the computed digest.
    private func verify(_ partial: URL, target: PullTarget, progress: ProgressSink) throws(SourceFailure) -> String {
        let size = fileInfo(partial.path)?.size ?? -1
        if let expected = target.size, size != expected {
            throw SourceFailure("got \(size) bytes, expected \(expected)", keepsPartial: size >= 0 && size < expected)
        }
        progress.message("verifying sha256 of \(target.file)")
        let digest: String
        do {
            digest = try SHA256.hexDigest(ofFile: partial.path)
        } catch {
            throw SourceFailure(error.description)
        }
        if let expected = target.sha256 {
            guard digest == expected else { throw SourceFailure("sha256 \(digest), expected \(expected)") }
        } else if let magic = fileMagic(partial.path), magic != Array("GGUF".utf8) {
            throw SourceFailure("not a GGUF file (it begins with \(magic.map { String(format: "%02x", $0) }.joined(separator: " ")))")
        }
        return digest
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

    /// Removes `.<file>.partial-<pid>` files (an older layout) and `.<file>.pip-<pid>` directories whose process is
    /// gone (an interrupted pull). Called with the file's lock held.
    func removeStaleTemporaries(of file: String) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: modelsDirectory.path)) ?? []
        for entry in entries {
            for marker in [".\(file).partial-", ".\(file).pip-"] where entry.hasPrefix(marker) {
                guard let pid = Int32(entry.dropFirst(marker.count)), pid > 0, !processIsAlive(pid) else { continue }
                try? FileManager.default.removeItem(at: modelsDirectory.appendingPathComponent(entry))
            }
        }
    }
}

/// `a` then the names of `b` not in it.
func mergedNames(_ a: [String], _ b: [String]) -> [String] {
    var out = a
    for n in b where !out.contains(n) { out.append(n) }
    return out
}

/// The first 4 bytes of a file, nil when it has fewer or cannot be read.
func fileMagic(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var b = [UInt8](repeating: 0, count: 4)
    return read(fd, &b, 4) == 4 ? b : nil
}

/// mkdir -p with POSIX calls, so a failure is an errno text, not a Foundation error code.
func makeDirectories(_ path: String, what: String) throws(ModelStoreError) {
    var prefix = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
        prefix += "/" + part
        if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
            throw .io(path: path, reason: "cannot create \(what): \(prefix): \(errnoText())")
        }
        var st = stat()
        if stat(prefix, &st) != 0 || (st.st_mode & S_IFMT) != S_IFDIR {
            throw .io(path: path, reason: "cannot create \(what): \(prefix): \(errnoText(ENOTDIR))")
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
        // swift-system has no flock(2), so its EINTR retry is written here.
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
