import GGUF

/// Every token's text as bytes in one buffer, with an open-addressing hash from bytes to id.
///
/// Token texts are compared as bytes, never as `String`: Swift strings compare by canonical equivalence, which
/// would merge distinct vocabulary entries such as a precomposed and a decomposed "é".
struct TokenTable: Sendable {
    private let storage: [UInt8]      // all token texts back to back
    private let offsets: [Int]        // token i is storage[offsets[i] ..< offsets[i + 1]]
    private let slots: [Int32]        // hash slots holding token ids, -1 = empty; count is a power of two
    private let mask: Int

    var count: Int { offsets.count - 1 }

    /// Empty texts become "[EMPTY_<id>]" as llama.cpp names them; duplicate texts throw. The texts' buffer is adopted
    /// as it is when none is empty (no copy).
    init(_ texts: GGUFStrings) throws(TokenizerError) {
        var storage = texts.utf8Storage
        var offsets: [Int] = [0]
        offsets.reserveCapacity(texts.count + 1)
        offsets.append(contentsOf: texts.ends)
        if texts.indices.contains(where: { texts.ends[$0] == offsets[$0] }) {
            storage = []
            storage.reserveCapacity(texts.utf8Storage.count + 16)
            offsets = [0]
            for i in texts.indices {
                let text = texts.utf8(i)
                if text.isEmpty {
                    storage.append(contentsOf: "[EMPTY_\(i)]".utf8)
                } else {
                    storage.append(contentsOf: text)
                }
                offsets.append(storage.count)
            }
        }
        var size = 16
        while size < texts.count * 2 { size <<= 1 }
        var slots = [Int32](repeating: -1, count: size)
        let mask = size - 1
        var duplicate: (Int, Int)?
        storage.withUnsafeBufferPointer { all in
            offsets.withUnsafeBufferPointer { at in
                slots.withUnsafeMutableBufferPointer { table in
                    for id in 0..<texts.count {
                        let text = UnsafeBufferPointer(rebasing: all[at[id] ..< at[id + 1]])
                        var slot = Int(truncatingIfNeeded: TokenTable.hash(text)) & mask
                        while table[slot] >= 0 {
                            let other = Int(table[slot])
                            if TokenTable.equal(UnsafeBufferPointer(rebasing: all[at[other] ..< at[other + 1]]), text) {
                                duplicate = (other, id)
                                return
                            }
                            slot = (slot + 1) & mask
                        }
                        table[slot] = Int32(id)
                    }
                }
            }
        }
        if let (first, second) = duplicate {
            throw .duplicateToken(text: String(decoding: storage[offsets[first] ..< offsets[first + 1]], as: UTF8.self),
                                  firstID: first, secondID: second)
        }
        self.storage = storage
        self.offsets = offsets
        self.slots = slots
        self.mask = mask
    }

    /// The id whose text is exactly `bytes`.
    func id(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        storage.withUnsafeBufferPointer { all in
            var slot = Int(truncatingIfNeeded: TokenTable.hash(bytes)) & mask
            while true {
                let id = slots[slot]
                if id < 0 { return nil }
                let i = Int(id)
                if TokenTable.equal(UnsafeBufferPointer(rebasing: all[offsets[i] ..< offsets[i + 1]]), bytes) {
                    return id
                }
                slot = (slot + 1) & mask
            }
        }
    }

    func id<C: Collection<UInt8>>(_ bytes: C) -> Int32? {
        if let found = bytes.withContiguousStorageIfAvailable({ id($0) }) { return found }
        return Array(bytes).withUnsafeBufferPointer { id($0) }
    }

    func bytes(_ id: Int) -> ArraySlice<UInt8> { storage[offsets[id] ..< offsets[id + 1]] }

    func length(_ id: Int) -> Int { offsets[id + 1] - offsets[id] }

    func text(_ id: Int) -> String { String(decoding: bytes(id), as: UTF8.self) }

    // FNV-1a, 64 bit.
    @inline(__always)
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3
        }
        return h
    }

    @inline(__always)
    private static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return a.count == 0 }
        return memcmp(pa, pb, a.count) == 0
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
