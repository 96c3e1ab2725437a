/// GPT-2's reversible byte -> unicode mapping: printable bytes (0x21-0x7E, 0xA1-0xAC, 0xAE-0xFF) map to the
/// codepoint of the same value, the other 68 bytes to 256, 257, ... in byte order. A BPE vocabulary spells every
/// token in these codepoints, so " the" is "Ġthe".
enum ByteLevelEncoding {
    /// UTF-8 of the codepoint that stands for each byte.
    static let encoded: [[UInt8]] = {
        var table = [[UInt8]](repeating: [], count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let cp: UInt32
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                cp = UInt32(b)
            } else {
                cp = next
                next += 1
            }
            table[b] = Array(String(Character(Unicode.Scalar(cp)!)).utf8)
        }
        return table
    }()

    /// Codepoint -> byte, the inverse (codepoints 0..<324), -1 where no byte maps there.
    static let decoded: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        var next = 256
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                table[b] = Int16(b)
            } else {
                table[next] = Int16(b)
                next += 1
            }
        }
        return table
    }()

    static func encode(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8]) {
        for b in bytes { out.append(contentsOf: encoded[Int(b)]) }
    }

    /// A vocabulary string back to raw bytes. A codepoint outside the mapping (llama.cpp prints "[UNK_BYTE_...]"
    /// there) is kept as its own UTF-8.
    static func decode(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        for scalar in String(decoding: text, as: UTF8.self).unicodeScalars {
            let cp = Int(scalar.value)
            if cp < decoded.count, decoded[cp] >= 0 {
                out.append(UInt8(decoded[cp]))
            } else {
                out.append(contentsOf: String(Character(scalar)).utf8)
            }
        }
        return out
    }
}
