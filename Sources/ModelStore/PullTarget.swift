/// One file to fetch into the store: the file name it gets there, what it must be (when known) and where to get it.
/// A built-in manifest, a Hugging Face reference and a bare URL all become one of these.
public struct PullTarget: Sendable, Equatable {
    /// How messages name it: a manifest name, `hf.co/ORG/REPO:QUANT`, a URL.
    public var name: String
    /// File name in the store.
    public var file: String
    /// Expected size and lower-case hex SHA-256, when known; a fetched file that differs is refused.
    public var size: Int?
    public var sha256: String?
    /// Tried in order; the first that yields a file passing the checks wins.
    public var sources: [ModelSource]
    /// Names recorded for the file besides its file name (see `StoreRecord.names`).
    public var names: [String]

    public init(name: String, file: String, size: Int?, sha256: String?, sources: [ModelSource], names: [String]) {
        self.name = name
        self.file = file
        self.size = size
        self.sha256 = sha256?.lowercased()
        self.sources = sources
        self.names = names
    }

    public init(_ manifest: ModelManifest) {
        self.init(name: manifest.name, file: manifest.file, size: manifest.size, sha256: manifest.sha256,
                  sources: manifest.sources, names: [manifest.name])
    }
}

/// A string of 64 hex digits (a SHA-256 as given on the command line).
public func isSHA256Hex(_ s: String) -> Bool {
    s.count == 64 && s.allSatisfy { $0.isASCII && $0.isHexDigit }
}
