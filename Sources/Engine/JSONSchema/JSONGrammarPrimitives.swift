/// GBNF for JSON's building blocks. Everything that could repeat without end in a way no reader wants is bounded:
/// whitespace runs (at most 20 characters), integer digits (16), fraction digits (16), exponent digits (3).
enum JSONGrammarPrimitives {
    static let rules: [(String, String)] = [
        ("ws", #"[ \t\n]{0,20}"#),
        ("char", #"[^"\\\x00-\x1f] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})"#),
        ("string", #""\"" char* "\"""#),
        ("integer", #""-"? ("0" | [1-9] [0-9]{0,15})"#),
        ("number", #""-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?"#),
        ("boolean", #""true" | "false""#),
        ("null", #""null""#),
        ("value", "object | array | string | number | boolean | null"),
        ("object", #""{" ws ( string ws ":" ws value ws ( "," ws string ws ":" ws value ws )* )? "}""#),
        ("array", #""[" ws ( value ws ( "," ws value ws )* )? "]""#),
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
