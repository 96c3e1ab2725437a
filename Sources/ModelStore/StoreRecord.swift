import Foundation

/// What the store knows about one of its files, kept beside it as `.<file>.json`: where it came from, its SHA-256
/// (verified against an expected value when one was known, computed either way) and the names it answers to
/// (`--model NAME`, `slm rm NAME`). Files placed by hand have no record until `slm verify --record` writes one.
public struct StoreRecord: Codable, Sendable, Equatable {
    public var file: String
    public var size: Int
    public var sha256: String
    /// Whether `sha256` was checked against an expected value (a manifest, `--sha256`, the hub's LFS record) when the
    /// file was placed; false when it was only computed.
    public var checked: Bool
    /// The URL or label of the source the bytes came from.
    public var source: String
    /// Names besides the file name: a manifest name, `hf.co/ORG/REPO:QUANT`, a URL.
    public var names: [String]
    /// ISO 8601 time the file was placed.
    public var pulledAt: String

    public init(file: String, size: Int, sha256: String, checked: Bool, source: String, names: [String], pulledAt: String) {
        self.file = file
        self.size = size
        self.sha256 = sha256
        self.checked = checked
        self.source = source
        self.names = names
        self.pulledAt = pulledAt
    }

    enum CodingKeys: String, CodingKey {
        case file, size, sha256, checked, source, names
        case pulledAt = "pulled_at"
    }
}

extension ModelStore {
    func recordURL(for file: String) -> URL { modelsDirectory.appendingPathComponent(".\(file).json") }

    /// The record of `file`, nil when there is none or it cannot be read as one.
    public func record(for file: String) -> StoreRecord? {
        guard isPlainFileName(file), let data = FileManager.default.contents(atPath: recordURL(for: file).path) else {
            return nil
        }
        return try? JSONDecoder().decode(StoreRecord.self, from: data)
    }

    /// Writes the record atomically (temporary file, rename).
    func writeRecord(_ record: StoreRecord) throws(ModelStoreError) {
        let url = recordURL(for: record.file)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(record) else {
            throw .io(path: url.path, reason: "cannot encode the record")
        }
        let temp = url.path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temp, contents: data + Data("\n".utf8)) else {
            throw .io(path: temp, reason: "cannot write the record")
        }
        guard rename(temp, url.path) == 0 else {
            let reason = errnoText()
            unlink(temp)
            throw .io(path: url.path, reason: reason)
        }
    }

    static func now() -> String {
        ISO8601DateFormatter().string(from: Date())
    }
}
