/// GBNF for JSON's building blocks. Everything that could repeat without end in a way no reader wants is bounded:
/// integer digits (16), fraction digits (16), exponent digits (2: every number is a finite double, which strict
/// parsers such as Foundation's require), and whitespace. Whitespace may come only after
/// `{`, `[` and `,` and before `}` and `]` (`ws`: nothing, one space, or one newline and at most 20 spaces or tabs
/// of indent) and after `:` (`sp`: at most one space), so an answer is compact or pretty-printed but never spends
/// tokens on blank lines or a break before a comma. Strings hold no raw control character (RFC 8259), and a `\u`
/// escape of a UTF-16 surrogate comes only as a high-low pair, so a strict parser accepts every string.
enum JSONGrammarPrimitives {
    static let rules: [(String, String)] = [
        ("ws", #"( " " | "\n" [ \t]{0,20} )?"#),
        ("sp", #"" "?"#),
        ("char", #"[^"\\\x00-\x1f] | "\\" ( ["\\/bfnrt] | "u" ( [0-9a-cefA-CEF] hex{3} | [dD] [0-7] hex{2} | [dD] [89abAB] hex{2} "\\u" [dD] [c-fC-F] hex{2} ) )"#),
        ("hex", "[0-9a-fA-F]"),
        ("string", #""\"" char* "\"""#),
        ("integer", #""-"? ("0" | [1-9] [0-9]{0,15})"#),
        ("number", #""-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?"#),
        ("boolean", #""true" | "false""#),
        ("null", #""null""#),
        ("value", "object | array | string | number | boolean | null"),
        ("object", #""{" ws ( string ":" sp value ( "," ws string ":" sp value )* ws )? "}""#),
        ("array", #""[" ws ( value ( "," ws value )* ws )? "]""#),
    ]

    /// Any JSON value (`--json`).
    public static var anyValueGBNF: String {
        (["root ::= value"] + rules.map { "\($0.0) ::= \($0.1)" }).joined(separator: "\n") + "\n"
    }

    /// A GBNF string literal for these exact characters.
    static func literal(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20 || u.value == 0x7F:
                let h = String(u.value, radix: 16)
                out += "\\x" + (h.count < 2 ? "0" : "") + h
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// A code point as it may appear inside a GBNF character class.
    static func classChar(_ c: UInt32) -> String {
        if c < 0x20 || c == 0x7F || c == 0x5C || c == 0x5D || c == 0x5B || c == 0x2D || c == 0x5E || c == 0x22 {
            let h = String(c, radix: 16)
            return "\\x" + (h.count < 2 ? "0" : "") + h
        }
        guard let u = Unicode.Scalar(c) else { return "" }
        if c > 0xFFFF {
            let h = String(c, radix: 16)
            return "\\U" + String(repeating: "0", count: 8 - h.count) + h
        }
        return String(Character(u))
    }

    static let formats: [String: String] = [
        // Real calendar dates only (02-29 left out: whether it exists depends on the year), years 1000-9999.
        "date": #"[1-9] [0-9]{3} "-" (("01" | "03" | "05" | "07" | "08" | "10" | "12") "-" ("0" [1-9] | [12] [0-9] | "3" [01]) | ("04" | "06" | "09" | "11") "-" ("0" [1-9] | [12] [0-9] | "30") | "02-" ("0" [1-9] | "1" [0-9] | "2" [0-8]))"#,
        "time": #"([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9])"#,
        "uuid": #"[0-9a-f]{8} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{12}"#,
    ]
}
