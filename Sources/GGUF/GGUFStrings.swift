/// An array of strings kept as one byte buffer and the end offset of each element: what a metadata string array
/// parses into. A vocabulary's 262k tokens become two allocations instead of 262k `String`s (gemma3's header parsed in
/// ~20 ms before, a few now), and a tokenizer can hash the bytes without decoding them. The bytes are as on disk, not
/// checked as UTF-8 while parsing (that is left to the consumer's thread): elements decode to `String` on access with
/// invalid sequences repaired (U+FFFD), and `repairingInvalidUTF8()` gives bytes that are exactly those strings'.
public struct GGUFStrings: RandomAccessCollection, Sendable, Equatable, ExpressibleByArrayLiteral {
    /// Every element's bytes, back to back.
    public let utf8Storage: [UInt8]
    /// Element i is utf8Storage[(i == 0 ? 0 : ends[i - 1]) ..< ends[i]].
    public let ends: [Int]

    public init(_ strings: [String]) {
        var storage: [UInt8] = []
        var ends: [Int] = []
        ends.reserveCapacity(strings.count)
        for s in strings {
            storage.append(contentsOf: s.utf8)
            ends.append(storage.count)
        }
        utf8Storage = storage
        self.ends = ends
    }

    public init(arrayLiteral elements: String...) { self.init(elements) }

    init(storage: [UInt8], ends: [Int]) {
        utf8Storage = storage
        self.ends = ends
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { ends.count }

    public subscript(i: Int) -> String { String(decoding: utf8(i), as: UTF8.self) }

    /// Element i's bytes.
    public func utf8(_ i: Int) -> ArraySlice<UInt8> { utf8Storage[(i == 0 ? 0 : ends[i - 1]) ..< ends[i]] }
}

extension GGUFStrings {
    /// Reads `count` strings (each a u64 length then its bytes) at the cursor into one buffer
    /// (`GGUFCursor.strings`); a length that does not fit is reported by the cursor's checked reads, with their
    /// messages.
    static func read(_ count: Int, cursor c: inout GGUFCursor, _ what: @autoclosure () -> String)
        throws(GGUFError) -> GGUFStrings
    {
        guard let (bytes, ends) = c.strings(count) else {
            for _ in 0..<count { _ = try c.stringBytes(what()) }  // throws where the fast read stopped
            preconditionFailure("GGUFCursor.strings refused strings that the checked reads accept")
        }
        return GGUFStrings(storage: bytes, ends: ends)
    }

    /// These strings with every element that is not valid UTF-8 replaced by its bytes as `String(decoding:as:)`
    /// repairs them; self when all are valid (checked in one pass over the buffer, then at the elements' boundaries).
    public func repairingInvalidUTF8() -> GGUFStrings {
        let allValid = utf8Storage.withUnsafeBytes { all -> Bool in
            guard isValidUTF8(all) else { return false }
            // A valid buffer whose element boundaries all fall on the start of a sequence has valid elements.
            for e in self.ends where e < all.count && all[e] & 0xC0 == 0x80 { return false }
            return true
        }
        if allValid { return self }
        var storage: [UInt8] = []
        var repairedEnds: [Int] = []
        storage.reserveCapacity(utf8Storage.count + 16)
        repairedEnds.reserveCapacity(count)
        utf8Storage.withUnsafeBytes { all in
            var start = 0
            for end in self.ends {
                let element = UnsafeRawBufferPointer(rebasing: all[start..<end])
                if isValidUTF8(element) {
                    storage.append(contentsOf: element)
                } else {
                    storage.append(contentsOf: String(decoding: element.bindMemory(to: UInt8.self), as: UTF8.self).utf8)
                }
                repairedEnds.append(storage.count)
                start = end
            }
        }
        return GGUFStrings(storage: storage, ends: repairedEnds)
    }
}

/// Whether the bytes are well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), the
/// sequences `String(decoding:as:)` keeps unchanged. ASCII is checked 8 bytes at a time.
func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    guard let p = bytes.baseAddress else { return true }
    let n = bytes.count
    var i = 0
    while i < n {
        if i + 8 <= n, p.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            i += 8
            continue
        }
        let c = p.load(fromByteOffset: i, as: UInt8.self)
        if c < 0x80 {
            i += 1
            continue
        }
        let len: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF  // allowed range of the second byte
        switch c {
        case 0xC2...0xDF: len = 2
        case 0xE0: len = 3; lo = 0xA0  // no overlong forms
        case 0xE1...0xEC, 0xEE...0xEF: len = 3
        case 0xED: len = 3; hi = 0x9F  // no surrogates
        case 0xF0: len = 4; lo = 0x90  // no overlong forms
        case 0xF1...0xF3: len = 4
        case 0xF4: len = 4; hi = 0x8F  // nothing above U+10FFFF
        default: return false
        }
        guard i + len <= n else { return false }
        let c1 = p.load(fromByteOffset: i + 1, as: UInt8.self)
        guard c1 >= lo, c1 <= hi else { return false }
        for k in 2..<len where p.load(fromByteOffset: i + k, as: UInt8.self) & 0xC0 != 0x80 { return false }
        i += len
    }
    return true
}
