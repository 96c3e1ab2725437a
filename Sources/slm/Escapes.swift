/// Backslash escapes both ways: reading them in command-line text as llama.cpp's `-e` does, and writing bytes so that
/// control characters and invalid UTF-8 are visible (token pieces, error messages).
enum Escapes {
    /// llama.cpp's `string_process_escapes`: `\n \r \t \' \" \\` and `\xNN` (exactly two hex digits, a raw byte);
    /// any other backslash, and a final lone one, stay as they are.
    static func process(_ text: String) -> [UInt8] {
        let input = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            let c = input[i]
            guard c == UInt8(ascii: "\\"), i + 1 < input.count else {
                out.append(c)
                i += 1
                continue
            }
            let e = input[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(e)
            case UInt8(ascii: "x") where i + 2 <= input.count:
                if let high = hexValue(input[i]), let low = hexValue(input[i + 1]) {
                    out.append(high << 4 | low)
                    i += 2
                } else {
                    out.append(c)
                    out.append(e)
                }
            default:
                out.append(c)
                out.append(e)
            }
        }
        return out
    }

    /// `process`, as text; `\xNN` escapes that do not form UTF-8 are a usage error naming `what`.
    static func processed(_ text: String, what: String) throws -> String {
        let bytes = process(text)
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw CLIError.usage("\(what): its \\x escapes do not form valid UTF-8 text")
        }
        return s
    }

    /// Text with control characters written as escapes: `\n \r \t`, other C0 and DEL as `\xNN`, C1 as `\u{NN}`.
    /// `quoting` also escapes `\` and `"`, so that `process` turns the result back into the text.
    static func visible(_ text: String, quoting: Bool = false) -> String {
        var out = ""
        for u in text.unicodeScalars {
            switch u.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x5C where quoting: out += "\\\\"
            case 0x22 where quoting: out += "\\\""
            case 0..<0x20, 0x7F: out += "\\x" + hex2(UInt8(u.value))
            case 0x80..<0xA0: out += "\\u{" + String(u.value, radix: 16) + "}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Bytes as `visible(quoting: true)` text, each byte that is not part of valid UTF-8 as `\xNN`.
    static func visible(bytes: [UInt8]) -> String {
        var out = ""
        var i = 0
        while i < bytes.count {
            let n = utf8SequenceLength(bytes, at: i)
            if n == 0 {
                out += "\\x" + hex2(bytes[i])
                i += 1
            } else {
                out += visible(String(decoding: bytes[i..<(i + n)], as: UTF8.self), quoting: true)
                i += n
            }
        }
        return out
    }

    /// Length of the valid UTF-8 sequence starting at `i`, or 0 when the bytes there are not one.
    private static func utf8SequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let lead = b[i]
        let n: Int
        switch lead {
        case 0x00..<0x80: return 1
        case 0xC2..<0xE0: n = 2
        case 0xE0..<0xF0: n = 3
        case 0xF0..<0xF5: n = 4
        default: return 0
        }
        guard i + n <= b.count else { return 0 }
        return String(validating: b[i..<(i + n)], as: UTF8.self) != nil ? n : 0
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func hex2(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }
}
