import Foundation

/// A temporary SLM_HOME for one test process: `<tmp>/slm-home-<pid>-<uuid>/models` is a symbolic link to the real
/// model store (shared, read-mostly), and everything else under it (the prefix cache in `cache/`) starts empty and is
/// removed when the process exits. Tests that run `slm` use it so they never write into the user's `~/.cache/slm/cache`.
public final class TestHome: Sendable {
    public static let shared = TestHome()

    public let path: String
    public var url: URL { URL(fileURLWithPath: path, isDirectory: true) }
    /// `$SLM_HOME/cache` of this home.
    public var cache: String { path + "/cache" }

    private init() {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("slm-home-\(getpid())-\(UUID().uuidString)")
        path = dir.path
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(at: TestPaths.modelStore, withIntermediateDirectories: true)
        try? FileManager.default.createSymbolicLink(
            atPath: dir.appendingPathComponent("models").path, withDestinationPath: TestPaths.modelStore.path)
        TestHome.removeAtExit = path
        atexit {
            if let p = TestHome.removeAtExit { try? FileManager.default.removeItem(atPath: p) }
        }
    }

    nonisolated(unsafe) private static var removeAtExit: String?
}
