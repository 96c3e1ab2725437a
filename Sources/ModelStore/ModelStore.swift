import Foundation

/// The local model store: `<home>/models/<file>` for each model, with `.<file>.json` beside it (`StoreRecord`).
public struct ModelStore: Sendable {
    public let home: URL
    /// How long a download may wait for a connection or for its next bytes.
    public var timeout: TimeInterval = 30
    /// The Hugging Face endpoint (`$HF_ENDPOINT`, as huggingface_hub reads it; default https://huggingface.co).
    public var hubEndpoint: String

    /// `home` nil: `defaultHome`.
    public init(home: URL? = nil) {
        self.home = home ?? Self.defaultHome
        var endpoint = ProcessInfo.processInfo.environment["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://huggingface.co"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        hubEndpoint = endpoint
    }

    /// slm's home, the one place `$SLM_HOME` is read: the store is `models/` in it and the prefix cache `cache/`.
    /// `~/.cache/slm` when the variable is unset or empty.
    public static var defaultHome: URL {
        if let h = ProcessInfo.processInfo.environment["SLM_HOME"], !h.isEmpty { return URL(fileURLWithPath: h, isDirectory: true) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/slm")
    }

    public var modelsDirectory: URL { home.appendingPathComponent("models", isDirectory: true) }

    /// The built-in manifests (the same as Models/*.json), the default model first.
    public static func manifests() -> [ModelManifest] { BuiltinManifests.all }

    public static func manifest(named name: String) -> ModelManifest? {
        manifests().first { $0.name == name }
    }

    /// The model's file when it is in the store with the manifest's size. The sha256 was verified when it was pulled
    /// (`slm verify` checks it again); hashing a large file on every start would cost more than loading it.
    public func localPath(for manifest: ModelManifest) -> URL? {
        guard isPlainFileName(manifest.file) else { return nil }
        let url = modelsDirectory.appendingPathComponent(manifest.file)
        guard let info = fileInfo(url.path), info.isRegular, info.size == manifest.size else { return nil }
        return url
    }

    /// The file a `--model` argument names, in this order: an existing file, used as is; a built-in name (pulled
    /// when not in the store yet); a model in the store by file name, file name without `.gguf`, or a name recorded
    /// when it was pulled (`hf.co/ORG/REPO:QUANT`, a URL); a Hugging Face reference or URL, pulled; else an error
    /// naming the argument (and listing the known names).
    public func resolve(_ nameOrPath: String, progress: ProgressSink) throws(ModelStoreError) -> URL {
        let info = fileInfo(nameOrPath)
        if let info, info.isRegular { return URL(fileURLWithPath: nameOrPath) }
        // A model name wins over a directory of the same name in the working directory.
        if let manifest = Self.manifest(named: nameOrPath) {
            if let path = localPath(for: manifest) { return path }
            return try pull(manifest, progress: progress)
        }
        if let file = storedFile(named: nameOrPath) { return modelsDirectory.appendingPathComponent(file) }
        if info != nil { throw .notAFile(path: nameOrPath) }
        if let reference = HubReference(nameOrPath) {
            return try pull(try target(for: reference, progress: progress), progress: progress)
        }
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".gguf") {
            throw .fileNotFound(path: nameOrPath)
        }
        throw .unknownModel(name: nameOrPath, known: Self.manifests().map(\.name) + installedModels().map(\.file))
    }

    /// The store file that `name` names: its file name, the file name without `.gguf`, or one of its recorded names
    /// (compared without regard to case); a built-in name counts when its file is in the store.
    public func storedFile(named name: String) -> String? {
        let installed = installedModels()
        if let m = Self.manifest(named: name), installed.contains(where: { $0.file == m.file }) { return m.file }
        let lower = name.lowercased()
        for m in installed {
            let stem = m.file.hasSuffix(".gguf") ? String(m.file.dropLast(5)) : m.file
            if m.file == name || stem == name || m.names.contains(where: { $0.lowercased() == lower }) { return m.file }
        }
        for m in installed where m.file.lowercased() == lower || m.file.lowercased() == lower + ".gguf" { return m.file }
        return nil
    }

    /// One file in the store: its size, the manifest name it matches (by file name and size) and its record.
    public struct Installed: Sendable {
        public var file: String
        public var size: Int
        /// The built-in model this file is, when its name and size match a manifest.
        public var manifestName: String?
        public var record: StoreRecord?
        /// Every name the file answers to besides its file name: the manifest name, then the recorded names.
        public var names: [String] { mergedNames(manifestName.map { [$0] } ?? [], record?.names ?? []) }
    }

    /// The files in the store (hidden records, temporary and lock files excluded), sorted by file name.
    public func installedModels() -> [Installed] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: modelsDirectory.path)) ?? []
        return files.sorted().compactMap { file in
            guard !file.hasPrefix("."),
                let info = fileInfo(modelsDirectory.appendingPathComponent(file).path), info.isRegular
            else { return nil }
            let name = Self.manifests().first { $0.file == file && $0.size == info.size }?.name
            return Installed(file: file, size: info.size, manifestName: name, record: record(for: file))
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
