#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// One block on disk: a 128-byte header, the block's token ids (i32), then its K/V payload (f16), all little-endian.
///
/// Header: magic "SLMKVBLK" | u32 format version | u32 header bytes (128) | 16 B model id | u32 numerics |
/// u32 layers | u32 kvDim | u32 block tokens | u64 block index | 16 B block hash | 16 B parent hash |
/// u64 payload bytes | u64 checksum of tokens + payload | u64 checksum of header bytes 0..<104 | 16 zero bytes.
/// Every field is compared with what the reader expects before a byte of payload is trusted.
struct BlockFileHeader: Equatable {
    static let magic: [UInt8] = Array("SLMKVBLK".utf8)
    static let currentVersion: UInt32 = 1
    static let size = 128

    var version: UInt32 = currentVersion
    var modelID: Hash128
    var numerics: UInt32
    var layerCount: UInt32
    var kvDim: UInt32
    var blockTokens: UInt32
    var blockIndex: UInt64
    var hash: Hash128
    var parent: Hash128
    var payloadBytes: UInt64
    var checksum: UInt64

    init(block: KVBlock, checksum: UInt64) {
        let l = block.layout
        modelID = l.modelID
        numerics = l.numerics
        layerCount = UInt32(l.layerCount)
        kvDim = UInt32(l.kvDim)
        blockTokens = UInt32(l.blockTokens)
        blockIndex = UInt64(block.index)
        hash = block.hash
        parent = block.parent
        payloadBytes = UInt64(l.payloadBytes)
        self.checksum = checksum
    }

    func encoded() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        func put<T: FixedWidthInteger>(_ v: T, _ at: Int) {
            withUnsafeBytes(of: v.littleEndian) { for (i, x) in $0.enumerated() { b[at + i] = x } }
        }
        for (i, x) in Self.magic.enumerated() { b[i] = x }
        put(version, 8); put(UInt32(Self.size), 12)
        put(modelID.high, 16); put(modelID.low, 24)
        put(numerics, 32); put(layerCount, 36); put(kvDim, 40); put(blockTokens, 44)
        put(blockIndex, 48)
        put(hash.high, 56); put(hash.low, 64)
        put(parent.high, 72); put(parent.low, 80)
        put(payloadBytes, 88); put(checksum, 96)
        put(Self.headerChecksum(b), 104)
        return b
    }

    static func headerChecksum(_ b: [UInt8]) -> UInt64 {
        var h = Hasher128(seed: 0x48454144)  // "HEAD"
        b.withUnsafeBytes { h.add(bytes: UnsafeRawBufferPointer(rebasing: $0[0..<104])) }
        return h.finalize().low
    }

    /// Parses and checks the header's own integrity (magic, version, size, header checksum); the caller compares the
    /// fields with what it expects.
    static func decode(_ b: [UInt8]) -> Result<BlockFileHeader, BlockFileProblem> {
        guard b.count >= size else { return .failure(.truncated) }
        guard Array(b[0..<8]) == magic else { return .failure(.notABlockFile) }
        func get<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            var v: T = 0
            withUnsafeMutableBytes(of: &v) { for i in 0..<MemoryLayout<T>.size { $0[i] = b[at + i] } }
            return T(littleEndian: v)
        }
        let version = get(8, UInt32.self)
        guard version == currentVersion else { return .failure(.version(version)) }
        guard get(12, UInt32.self) == UInt32(size), get(104, UInt64.self) == headerChecksum(b) else {
            return .failure(.corrupt("header checksum"))
        }
        var h = BlockFileHeader(raw: ())
        h.version = version
        h.modelID = Hash128(high: get(16, UInt64.self), low: get(24, UInt64.self))
        h.numerics = get(32, UInt32.self)
        h.layerCount = get(36, UInt32.self)
        h.kvDim = get(40, UInt32.self)
        h.blockTokens = get(44, UInt32.self)
        h.blockIndex = get(48, UInt64.self)
        h.hash = Hash128(high: get(56, UInt64.self), low: get(64, UInt64.self))
        h.parent = Hash128(high: get(72, UInt64.self), low: get(80, UInt64.self))
        h.payloadBytes = get(88, UInt64.self)
        h.checksum = get(96, UInt64.self)
        return .success(h)
    }

    private init(raw: Void) {
        modelID = .zero; numerics = 0; layerCount = 0; kvDim = 0; blockTokens = 0; blockIndex = 0
        hash = .zero; parent = .zero; payloadBytes = 0; checksum = 0
    }

    /// Bytes the whole file must have, or nil on overflow.
    var expectedFileSize: Int? {
        let (tokenBytes, o1) = Int(blockTokens).multipliedReportingOverflow(by: 4)
        guard !o1, payloadBytes <= UInt64(Int.max) else { return nil }
        let (a, o2) = Self.size.addingReportingOverflow(tokenBytes)
        let (b, o3) = a.addingReportingOverflow(Int(payloadBytes))
        return o2 || o3 ? nil : b
    }
}

/// Why a block file was not used. Each becomes one warning line; the block is recomputed.
enum BlockFileProblem: Error, Equatable, CustomStringConvertible {
    case truncated
    case notABlockFile
    case version(UInt32)
    case corrupt(String)
    case foreign(String)
    case unreadable(Int32)

    var description: String {
        switch self {
        case .truncated: return "truncated"
        case .notABlockFile: return "not a prefix-cache block file (bad magic)"
        case .version(let v): return "format version \(v), this slm reads version \(BlockFileHeader.currentVersion)"
        case .corrupt(let what): return "corrupt (\(what) mismatch)"
        case .foreign(let what): return "written for another \(what)"
        case .unreadable(let e): return "unreadable (\(String(cString: strerror(e))))"
        }
    }
}

/// Checksum of a block's tokens and payload as stored in its file.
func blockChecksum(tokens: [Int32], payload: UnsafeRawBufferPointer) -> UInt64 {
    var h = Hasher128(seed: 0x424F_4459)  // "BODY"
    tokens.map { $0.littleEndian }.withUnsafeBytes { h.add(bytes: $0) }
    h.add(bytes: payload)
    return h.finalize().low
}

enum BlockFile {
    /// Reads the block `hash` (index `index`, after `parent`, holding exactly `tokens`) from `path`, checking every
    /// header field against `layout` and the expected identity, the file size, the token ids and the checksum.
    static func read(path: String, layout: KVLayout, index: Int, hash: Hash128, parent: Hash128,
                     tokens: ArraySlice<Int32>) -> Result<KVBlock, BlockFileProblem>? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return errno == ENOENT ? nil : .failure(.unreadable(errno)) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(.unreadable(errno)) }
        var headerBytes = [UInt8](repeating: 0, count: BlockFileHeader.size)
        guard Int(st.st_size) >= BlockFileHeader.size,
              headerBytes.withUnsafeMutableBytes({ readFully(fd, $0) }) else { return .failure(.truncated) }
        let header: BlockFileHeader
        switch BlockFileHeader.decode(headerBytes) {
        case .failure(let p): return .failure(p)
        case .success(let h): header = h
        }
        guard header.modelID == layout.modelID else { return .failure(.foreign("model")) }
        guard header.numerics == layout.numerics else { return .failure(.foreign("kernel family")) }
        guard header.layerCount == UInt32(layout.layerCount), header.kvDim == UInt32(layout.kvDim),
              header.blockTokens == UInt32(layout.blockTokens), header.payloadBytes == UInt64(layout.payloadBytes)
        else { return .failure(.foreign("KV layout")) }
        guard header.hash == hash, header.parent == parent, header.blockIndex == UInt64(index) else {
            return .failure(.foreign("prefix (its name does not match its header)"))
        }
        guard let size = header.expectedFileSize else { return .failure(.corrupt("size")) }
        guard Int(st.st_size) >= size else { return .failure(.truncated) }
        guard Int(st.st_size) == size else { return .failure(.corrupt("file size")) }

        var fileTokens = [Int32](repeating: 0, count: layout.blockTokens)
        guard fileTokens.withUnsafeMutableBytes({ readFully(fd, $0) }) else { return .failure(.truncated) }
        fileTokens = fileTokens.map { Int32(littleEndian: $0) }
        guard fileTokens.elementsEqual(tokens) else { return .failure(.foreign("prefix (token ids differ)")) }
        let block = KVBlock(layout: layout, index: index, hash: hash, parent: parent, tokens: fileTokens)
        guard readFully(fd, block.payload) else { return .failure(.truncated) }
        guard blockChecksum(tokens: fileTokens, payload: UnsafeRawBufferPointer(block.payload)) == header.checksum else {
            return .failure(.corrupt("checksum"))
        }
        return .success(block)
    }

    /// The header of the file at `path` (for listings), or nil when it is unreadable or not valid.
    static func readHeader(path: String) -> BlockFileHeader? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: BlockFileHeader.size)
        guard bytes.withUnsafeMutableBytes({ readFully(fd, $0) }) else { return nil }
        return try? BlockFileHeader.decode(bytes).get()
    }

    /// Writes `block` to `path` atomically: a uniquely named temporary file in the same directory, fsync, rename.
    /// Readers see either no file or the whole file; two processes writing the same block both leave a valid one.
    static func write(_ block: KVBlock, to path: String, tempPath: String) -> Int32? {
        let body = UnsafeRawBufferPointer(block.payload)
        let header = BlockFileHeader(block: block, checksum: blockChecksum(tokens: block.tokens, payload: body)).encoded()
        let fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return errno }
        var ok = header.withUnsafeBytes { writeFully(fd, $0) }
        ok = ok && block.tokens.map { $0.littleEndian }.withUnsafeBytes { writeFully(fd, $0) }
        ok = ok && writeFully(fd, body)
        ok = ok && fsync(fd) == 0
        let err = errno
        close(fd)
        guard ok, rename(tempPath, path) == 0 else {
            let e = ok ? errno : err
            unlink(tempPath)
            return e
        }
        return nil
    }
}

func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Bool {
    var done = 0
    while done < buffer.count {
        guard let n = try? FileDescriptor(rawValue: fd).read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...])),
              n > 0 else { return false }
        done += n
    }
    return true
}

func writeFully(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
    (try? FileDescriptor(rawValue: fd).writeAll(buffer)) != nil
}
