#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A GGUF file mapped read-only into memory, its header parsed and validated. Immutable after init; the mapping
/// lives as long as the object, so pointers from `data(of:)` are valid while the caller holds it.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let fileSize: Int
    /// general.alignment, or 32 when absent.
    public let alignment: Int
    /// Start of the tensor data section (end of the header rounded up to `alignment`).
    public let dataOffset: Int
    public let metadata: [String: GGUFValue]
    /// Keys in file order.
    public let metadataKeys: [String]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]

    private let mapping: UnsafeMutableRawPointer?
    private let tensorIndex: [String: Int]

    public init(path: String) throws(GGUFError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: Self.errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .cannotOpen(path: path, reason: Self.errnoText()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .notARegularFile(path: path) }
        let size = Int(st.st_size)

        // An empty file cannot be mapped; the parser reports it as truncated inside the magic.
        var mapping: UnsafeMutableRawPointer? = nil
        if size > 0 {
            let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
            guard let p, p != MAP_FAILED else { throw .cannotMap(path: path, reason: Self.errnoText()) }
            mapping = p
        }
        let header: GGUFHeader
        do {
            header = try GGUFParser.parse(base: mapping.map { UnsafeRawPointer($0) }, size: size)
        } catch {
            if let mapping { munmap(mapping, size) }
            throw error
        }
        self.mapping = mapping
        self.fileSize = size
        self.version = header.version
        self.alignment = header.alignment
        self.dataOffset = header.dataOffset
        self.metadata = header.metadata
        self.metadataKeys = header.metadataKeys
        self.tensors = header.tensors
        var index = [String: Int](minimumCapacity: header.tensors.count)
        for (i, t) in header.tensors.enumerated() { index[t.name] = i }
        self.tensorIndex = index
    }

    deinit {
        if let mapping { munmap(mapping, fileSize) }
    }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// Start of the mapping. A valid GGUF file is never empty, so a parsed file always has one.
    public var baseAddress: UnsafeRawPointer {
        guard let mapping else { preconditionFailure("GGUFFile without a mapping") }  // unreachable: init checks
        return UnsafeRawPointer(mapping)
    }

    /// baseAddress + dataOffset + tensor.offset. `tensor` must come from this file (its bounds were checked).
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawPointer {
        precondition(tensor.offset >= 0 && tensor.byteCount <= fileSize - dataOffset - tensor.offset,
                     "tensor '\(tensor.name)' is not from \(path)")
        return baseAddress + dataOffset + tensor.offset
    }

    /// The tensor's bytes, `byteCount` long.
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: data(of: tensor), count: tensor.byteCount)
    }

    private static func errnoText() -> String {
        guard let s = strerror(errno) else { return "errno \(errno)" }
        return String(cString: s)
    }
}
