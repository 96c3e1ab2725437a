/// A 128-bit content hash: names prefix-cache blocks and models, and checksums block files.
///
/// Not cryptographic. It only has to spread keys and catch corruption: a block is used only after its exact token
/// ids, its parent's hash and the model identity have been compared, so a collision costs a cache miss, never a
/// wrong answer. Written here rather than taken from a package: its values name files on disk, so they must not change
/// with a library's version, and a cryptographic hash would cost more than a block's checksum needs.
public struct Hash128: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static let zero = Hash128(high: 0, low: 0)

    /// 32 lowercase hex digits (file and directory names).
    public var description: String { hex16(high) + hex16(low) }

    /// Parses the 32-digit form of `description`.
    public init?(hex: Substring) {
        guard hex.count == 32, let h = UInt64(hex.prefix(16), radix: 16), let l = UInt64(hex.suffix(16), radix: 16)
        else { return nil }
        self.init(high: h, low: l)
    }
}

private func hex16(_ x: UInt64) -> String {
    let s = String(x, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}

/// Streaming hasher: two 64-bit lanes of multiply-rotate mixing over 8-byte words, finished with MurmurHash3's
/// 64-bit finalizer. About one multiply per lane per word, so checksumming a block file costs far less than reading it.
public struct Hasher128: Sendable {
    private var a: UInt64
    private var b: UInt64
    private var length: UInt64 = 0

    public init(seed: UInt64 = 0) {
        a = 0x243F_6A88_85A3_08D3 ^ seed
        b = 0x1319_8A2E_0370_7344 &+ seed
    }

    @inline(__always)
    public mutating func add(_ w: UInt64) {
        a = ((a ^ w) &* 0x9E37_79B9_7F4A_7C15).rotated(31)
        b = ((b &+ w) &* 0xC2B2_AE3D_27D4_EB4F).rotated(29) ^ a
        length &+= 8
    }

    public mutating func add(_ h: Hash128) {
        add(h.high)
        add(h.low)
    }

    /// Any bytes; the tail that does not fill a word is zero-padded (the length is mixed in at the end).
    public mutating func add(bytes: UnsafeRawBufferPointer) {
        guard let p = bytes.baseAddress else { return }
        let words = bytes.count / 8
        for i in 0..<words { add(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))) }
        let rest = bytes.count - words * 8
        if rest > 0 {
            var w: UInt64 = 0
            for j in 0..<rest { w |= UInt64(p.load(fromByteOffset: words * 8 + j, as: UInt8.self)) << (8 * UInt64(j)) }
            add(w)
            length &-= UInt64(8 - rest)
        }
    }

    public func finalize() -> Hash128 {
        let x = fmix64(a ^ length)
        let y = fmix64(b &+ x)
        return Hash128(high: fmix64(x ^ y.rotated(17)), low: y)
    }
}

/// MurmurHash3's 64-bit finalizer (an avalanche step).
@inline(__always)
private func fmix64(_ k0: UInt64) -> UInt64 {
    var k = k0
    k ^= k >> 33
    k &*= 0xFF51_AFD7_ED55_8CCD
    k ^= k >> 33
    k &*= 0xC4CE_B9FE_1A85_EC53
    k ^= k >> 33
    return k
}

extension UInt64 {
    @inline(__always) func rotated(_ r: UInt64) -> UInt64 { (self << r) | (self >> (64 - r)) }
}
