import Foundation

extension ModelStore {
    /// Deletes the store file that `name` names (see `storedFile(named:)`), with its record and any partial download;
    /// returns the path it had. Waits for a pull of the same file to finish first.
    public func remove(_ name: String) throws(ModelStoreError) -> URL {
        guard let file = storedFile(named: name) else { throw .notInStore(name: name) }
        let directory = modelsDirectory
        let lock = try FileLock(path: directory.appendingPathComponent(".\(file).lock").path) {}
        defer { lock.release() }
        let url = directory.appendingPathComponent(file)
        guard unlink(url.path) == 0 || errno == ENOENT else { throw .io(path: url.path, reason: errnoText()) }
        unlink(recordURL(for: file).path)
        unlink(directory.appendingPathComponent(".\(file).partial").path)
        unlink(directory.appendingPathComponent(".\(file).lock").path)
        return url
    }

    /// The outcome of re-hashing one store file.
    public struct Verification: Sendable, Equatable {
        public var file: String
        public var sha256: String
        /// What it should hash to (its record, else a built-in manifest with its name and size); nil when unknown.
        public var expected: String?
        public var ok: Bool { expected.map { $0 == sha256 } ?? true }
    }

    /// Re-hashes the files that `names` name (every file in the store when empty) and compares each with its record
    /// or manifest. With `record`, a file without a record gets one holding the computed hash.
    public func verify(_ names: [String], record writeMissing: Bool = false,
                       progress: ProgressSink) throws(ModelStoreError) -> [Verification] {
        var files: [String] = []
        for n in names {
            guard let f = storedFile(named: n) else { throw .notInStore(name: n) }
            if !files.contains(f) { files.append(f) }
        }
        if names.isEmpty { files = installedModels().map(\.file) }
        var results: [Verification] = []
        for file in files {
            let path = modelsDirectory.appendingPathComponent(file).path
            progress.message("hashing \(file)")
            let digest = try SHA256.hexDigest(ofFile: path)
            let size = fileInfo(path)?.size ?? 0
            let recorded = record(for: file)
            let manifest = Self.manifests().first { $0.file == file && $0.size == size }
            results.append(Verification(file: file, sha256: digest, expected: recorded?.sha256 ?? manifest?.sha256.lowercased()))
            if writeMissing && recorded == nil {
                try writeRecord(StoreRecord(
                    file: file, size: size, sha256: digest, checked: manifest.map { $0.sha256.lowercased() == digest } ?? false,
                    source: "already in the store", names: manifest.map { [$0.name] } ?? [], pulledAt: Self.now()))
            }
        }
        return results
    }
}
