import Foundation

/// The local model store: `<home>/models/<file>` for each pulled model.
public struct ModelStore: Sendable {
    public let home: URL

    /// `home` nil: `$SLM_HOME`, or `~/.cache/slm` when that is unset or empty.
    public init(home: URL? = nil) {
        if let home {
            self.home = home
        } else if let env = ProcessInfo.processInfo.environment["SLM_HOME"], !env.isEmpty {
            self.home = URL(fileURLWithPath: env, isDirectory: true)
        } else {
            self.home = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/slm")
        }
    }

    public var modelsDirectory: URL { home.appendingPathComponent("models", isDirectory: true) }

    /// The built-in manifests (the same as Models/*.json), the default model first.
    public static func manifests() -> [ModelManifest] { BuiltinManifests.all }

    public static func manifest(named name: String) -> ModelManifest? {
        manifests().first { $0.name == name }
    }

    /// The model's file when it is in the store with the manifest's size. The sha256 was verified when it was pulled;
    /// hashing a large file on every start would cost more than loading it.
    public func localPath(for manifest: ModelManifest) -> URL? {
        guard isPlainFileName(manifest.file) else { return nil }
        let url = modelsDirectory.appendingPathComponent(manifest.file)
        guard let info = fileInfo(url.path), info.isRegular, info.size == manifest.size else { return nil }
        return url
    }

    /// The file a `--model` argument names: an existing file is used as is; a manifest name is pulled when it is not
    /// in the store yet; anything else is an error naming the argument (and listing the known names).
    public func resolve(_ nameOrPath: String, progress: ProgressSink) throws(ModelStoreError) -> URL {
        let info = fileInfo(nameOrPath)
        if let info, info.isRegular { return URL(fileURLWithPath: nameOrPath) }
        // A model name wins over a directory of the same name in the working directory.
        if let manifest = Self.manifest(named: nameOrPath) {
            if let path = localPath(for: manifest) { return path }
            return try pull(manifest, progress: progress)
        }
        if info != nil { throw .notAFile(path: nameOrPath) }
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".gguf") {
            throw .fileNotFound(path: nameOrPath)
        }
        throw .unknownModel(name: nameOrPath, known: Self.manifests().map(\.name))
    }

    /// The files in the store (hidden temporary and lock files excluded), with the manifest name of each known one.
    public func installedModels() -> [(name: String?, file: String, size: Int)] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: modelsDirectory.path)) ?? []
        return files.sorted().compactMap { file in
            guard !file.hasPrefix("."),
                let info = fileInfo(modelsDirectory.appendingPathComponent(file).path), info.isRegular
            else { return nil }
            let name = Self.manifests().first { $0.file == file && $0.size == info.size }?.name
            return (name: name, file: file, size: info.size)
        }
    }
}

/// A file name that stays inside the store directory.
func isPlainFileName(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
}

/// stat(2) of `path` following symlinks, or nil when nothing is there.
func fileInfo(_ path: String) -> (isRegular: Bool, size: Int)? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return ((info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size))
}
