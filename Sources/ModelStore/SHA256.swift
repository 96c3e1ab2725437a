import Crypto
import SystemPackage

/// SHA-256 (swift-crypto's), streaming: `update` any number of times, then `finalize` once.
public struct SHA256 {
    private var hasher = Crypto.SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    public mutating func update(_ bytes: [UInt8]) {
        hasher.update(data: bytes)
    }

    /// The 32-byte digest.
    public mutating func finalize() -> [UInt8] {
        Array(hasher.finalize())
    }

    public static func hex(_ digest: [UInt8]) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var text = ""
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return text
    }

    /// Lower-case hex digest of `bytes`.
    public static func hexDigest(_ bytes: [UInt8]) -> String {
        hex(Array(Crypto.SHA256.hash(data: bytes)))
    }

    /// Lower-case hex digest of a file, read in 4 MB chunks.
    public static func hexDigest(ofFile path: String) throws(ModelStoreError) -> String {
        let chunk = 4 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var hasher = Crypto.SHA256()
        do {
            let fd = try FileDescriptor.open(FilePath(path), .readOnly, options: .closeOnExec)
            try fd.closeAfter {
                while true {
                    let n = try fd.read(into: buffer)
                    if n == 0 { break }
                    hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                }
            }
        } catch {
            throw .io(path: path, reason: systemReason(error))
        }
        return hex(Array(hasher.finalize()))
    }
}
