import Foundation
import SystemPackage

/// Everything that can go wrong in the model store; `description` is one line naming the model, path or source.
public enum ModelStoreError: Error, CustomStringConvertible, Equatable {
    /// `--model NAME` is neither an existing file nor a known model name.
    case unknownModel(name: String, known: [String])
    /// `--model PATH` names something that exists but is not a regular file (e.g. a directory).
    case notAFile(path: String)
    /// `--model PATH` looks like a path (has a `/` or ends in `.gguf`) but nothing is there.
    case fileNotFound(path: String)
    /// A manifest that cannot be used as is (e.g. a file name with a `/`).
    case invalidManifest(name: String, reason: String)
    /// A file-system call on `path` failed.
    case io(path: String, reason: String)
    /// Every source of `model` was tried and failed; `failures` has one entry per source.
    case allSourcesFailed(model: String, failures: [String])
    /// A Hugging Face reference or URL that cannot be turned into a file to fetch.
    case hub(reference: String, reason: String)
    /// `slm rm NAME` (or `verify NAME`) of a name that no file in the store answers to.
    case notInStore(name: String)

    public var description: String {
        switch self {
        case .unknownModel(let name, let known):
            return "unknown model '\(name)': no such file and no such model name (known models: "
                + known.joined(separator: ", ") + ")"
        case .notAFile(let path):
            return "model path '\(path)' is not a regular file (a .gguf file is expected)"
        case .fileNotFound(let path):
            return "model file '\(path)' does not exist"
        case .invalidManifest(let name, let reason):
            return "manifest of model '\(name)' is invalid: \(reason)"
        case .io(let path, let reason):
            return "\(path): \(reason)"
        case .allSourcesFailed(let model, let failures):
            if failures.isEmpty { return "could not fetch model '\(model)': it has no sources" }
            return "could not fetch model '\(model)': every source failed (" + failures.joined(separator: "; ") + ")"
        case .hub(let reference, let reason):
            return "cannot pull '\(reference)': \(reason)"
        case .notInStore(let name):
            return "no model '\(name)' in the store (see slm models)"
        }
    }
}

/// A Foundation error in words a user can act on: the POSIX reason (strerror) under it when there is one, never
/// "NSCocoaErrorDomain error 512". (Public for the CLI.)
public func systemReason(_ error: Error) -> String {
    if let e = error as? Errno { return e.description }
    let ns = error as NSError
    let underlying = (ns.userInfo[NSUnderlyingErrorKey] as? NSError) ?? ns
    if underlying.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(underlying.code))) }
    switch ns.code {
    case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return String(cString: strerror(ENOENT))
    case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return String(cString: strerror(EACCES))
    case NSFileWriteOutOfSpaceError: return String(cString: strerror(ENOSPC))
    case NSFileWriteVolumeReadOnlyError: return String(cString: strerror(EROFS))
    default: return "the operation failed"
    }
}

/// strerror(errno) as a String.
func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// Why one source of a pull failed; becomes one entry of `ModelStoreError.allSourcesFailed`.
struct SourceFailure: Error {
    var reason: String
    /// The bytes fetched so far are good and may be resumed from (an interrupted transfer), rather than wrong.
    var keepsPartial: Bool
    init(_ reason: String, keepsPartial: Bool = false) {
        self.reason = reason
        self.keepsPartial = keepsPartial
    }
}
