/// The codepoint classes llama.cpp's pre-tokenizers test (unicode.h `unicode_cpt_flags`): general category
/// groups \p{L}, \p{N}, \p{M} and \p{P}, and its own whitespace set (Unicode White_Space).
struct CodepointClass: Sendable {
    let isLetter: Bool
    let isNumber: Bool
    let isMark: Bool
    let isPunctuation: Bool
    let isWhitespace: Bool

    init(_ cp: UInt32) {
        if cp < 0x80 {
            let c = UInt8(cp)
            isLetter = (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            isNumber = c >= 0x30 && c <= 0x39
            isWhitespace = c == 0x20 || (c >= 0x09 && c <= 0x0D)
            isMark = false
            // !"#%&'()*,-./:;?@[\]_{} (the rest of ASCII's signs, $+<=>^`|~, are symbols)
            isPunctuation = (0x21...0x23).contains(c) || (0x25...0x2A).contains(c) || (0x2C...0x2F).contains(c)
                || c == 0x3A || c == 0x3B || c == 0x3F || c == 0x40 || (0x5B...0x5D).contains(c) || c == 0x5F
                || c == 0x7B || c == 0x7D
            return
        }
        isWhitespace = CodepointClass.whitespace(cp)
        guard let scalar = Unicode.Scalar(cp) else {
            isLetter = false
            isNumber = false
            isMark = false
            isPunctuation = false
            return
        }
        isMark = switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: true
        default: false
        }
        isPunctuation = switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation: true
        default: false
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            isLetter = true
            isNumber = false
        case .decimalNumber, .letterNumber, .otherNumber:
            isLetter = false
            isNumber = true
        default:
            isLetter = false
            isNumber = false
        }
    }

    /// llama.cpp's `unicode_set_whitespace` (gen-unicode-data.py): 0x09-0x0D, 0x20, 0x85, 0xA0, 0x1680,
    /// 0x2000-0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000.
    private static func whitespace(_ cp: UInt32) -> Bool {
        switch cp {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}
