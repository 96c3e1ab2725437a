import Foundation
import ModelStore

/// A file named on the command line that the command writes at the end (`--stats-file`), opened and checked before
/// any work so that a path that cannot be written fails at once, not after a long run.
///
/// The path is written to, never replaced behind the user's back: a symbolic link keeps pointing where it pointed, a
/// FIFO or process substitution (`--stats-file >(jq .)`) receives the bytes, `/dev/stdout` appends to whatever stdout
/// is. Only a regular file that the tool may own outright (absent, or ours with one link and no other name) is
/// replaced atomically (temporary file + rename), so a reader never sees half a document.
final class OutputFile {
    private enum Target {
        /// Write `<directory>/.<name>.tmp-<pid>`, then rename it over the path.
        case replace
        /// Write through this descriptor (regular files are truncated first).
        case descriptor(Int32, regular: Bool, owned: Bool)
        /// A FIFO with no reader yet: opened (blocking until one comes) only when writing, so the run does not wait.
        case fifoWithoutReader
    }

    let path: String
    let flag: String
    private let target: Target

    /// Opens or checks `path`; throws a runtime error naming `flag` and the path when it cannot be written.
    init(_ path: String, flag: String) throws {
        self.path = path
        self.flag = flag
        var st = stat()
        if lstat(path, &st) != 0 {
            guard errno == ENOENT else { throw Self.failure(flag, path, errno) }
            let directory = (path as NSString).deletingLastPathComponent
            let dir = directory.isEmpty ? "." : directory
            guard access(dir, W_OK | X_OK) == 0 else { throw Self.failure(flag, path, errno, where: dir) }
            target = .replace
            return
        }
        let mode = st.st_mode & S_IFMT
        if mode == S_IFREG && st.st_uid == geteuid() && st.st_nlink == 1 {
            let directory = (path as NSString).deletingLastPathComponent
            if access(path, W_OK) != 0 { throw Self.failure(flag, path, errno) }
            if access(directory.isEmpty ? "." : directory, W_OK | X_OK) == 0 {
                target = .replace
                return
            }
        }
        if mode == S_IFDIR { throw Self.failure(flag, path, EISDIR) }
        var fd: Int32
        if mode == S_IFIFO {
            fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            if fd < 0 && errno == ENXIO {
                guard access(path, W_OK) == 0 else { throw Self.failure(flag, path, errno) }
                target = .fifoWithoutReader
                return
            }
            if fd >= 0 { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) }
        } else {
            fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0o644)
        }
        guard fd >= 0 else { throw Self.failure(flag, path, errno) }
        var opened = stat()
        _ = fstat(fd, &opened)
        // /dev/stdout, /proc/self/fd/1 or a link to them: a new descriptor of a regular file would start at offset 0
        // and overwrite what stdout already holds, so write through the process's own descriptor instead.
        for std in [STDOUT_FILENO, STDERR_FILENO] {
            var s = stat()
            if fstat(std, &s) == 0 && s.st_dev == opened.st_dev && s.st_ino == opened.st_ino {
                close(fd)
                target = .descriptor(std, regular: false, owned: false)
                return
            }
        }
        target = .descriptor(fd, regular: (opened.st_mode & S_IFMT) == S_IFREG, owned: true)
    }

    deinit {
        if case .descriptor(let fd, _, true) = target { close(fd) }
    }

    /// Writes `bytes` as the whole content of the path.
    func write(_ bytes: [UInt8]) throws {
        switch target {
        case .replace:
            let directory = (path as NSString).deletingLastPathComponent
            let name = (path as NSString).lastPathComponent
            let temp = (directory.isEmpty ? "" : directory + "/") + ".\(name).tmp-\(getpid())"
            let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw Self.failure(flag, path, errno, where: temp) }
            let err = bytes.withUnsafeBytes { writeFully(fd, $0) }
            close(fd)
            if err == 0 && rename(temp, path) == 0 { return }
            let code = err != 0 ? err : errno
            unlink(temp)
            throw Self.failure(flag, path, code)
        case .descriptor(let fd, let regular, _):
            if regular {
                _ = ftruncate(fd, 0)
                _ = lseek(fd, 0, SEEK_SET)
            }
            let err = bytes.withUnsafeBytes { writeFully(fd, $0) }
            if err != 0 { throw Self.failure(flag, path, err) }
        case .fifoWithoutReader:
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Self.failure(flag, path, errno) }
            let err = bytes.withUnsafeBytes { writeFully(fd, $0) }
            close(fd)
            if err != 0 { throw Self.failure(flag, path, err) }
        }
    }

    private static func failure(_ flag: String, _ path: String, _ code: Int32, where other: String? = nil) -> CLIError {
        let reason = String(cString: strerror(code))
        if let other, other != path { return .runtime("cannot write \(flag) '\(path)': '\(other)': \(reason)") }
        return .runtime("cannot write \(flag) '\(path)': \(reason)")
    }
}
