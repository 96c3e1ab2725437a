import Foundation

/// A temporary SLM_HOME for one test process: `<tmp>/slm-home-<pid>-<uuid>/models` holds a symbolic link to each file
/// of the real model store (the reference models are shared, never copied), and everything else under it (the prefix
/// cache in `cache/`, records a pull writes) starts empty and is removed when the process exits. Tests that run `slm`
/// use it, so they never write into the user's `~/.cache/slm/cache` nor into the shared store.
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
        let models = dir.appendingPathComponent("models")
        try? FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: TestPaths.modelStore.path)) ?? []
        for file in files where file.hasSuffix(".gguf") && !file.hasPrefix(".") {
            try? FileManager.default.createSymbolicLink(
                atPath: models.appendingPathComponent(file).path,
                withDestinationPath: TestPaths.modelStore.appendingPathComponent(file).path)
        }
        TestHome.removeAtExit = path
        atexit {
            if let p = TestHome.removeAtExit { try? FileManager.default.removeItem(atPath: p) }
        }
    }

    nonisolated(unsafe) private static var removeAtExit: String?
}
