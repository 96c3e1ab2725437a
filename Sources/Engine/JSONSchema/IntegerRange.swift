/// GBNF for the decimal integers in [lo, hi] (either end open), written without leading zeros or "-0": the
/// classic digit-by-digit range split. Open ends stop at 16 digits, like the plain integer rule.
enum IntegerRange {
    static let maxMagnitude: Int64 = 9_999_999_999_999_999

    static func gbnf(lo: Int64?, hi: Int64?) -> String {
        var alts: [String] = []
        if hi == nil || hi! < 0 || lo == nil || lo! < 0 {
            // Negative part: magnitudes in [max(-hi, 1), -lo].
            if lo == nil || lo! < 0 {
                let mLo = max(hi.map { -$0 } ?? 1, 1)
                let mHi = lo.map { -$0 } ?? maxMagnitude
                if mLo <= mHi { alts.append("\"-\" (" + nonNegative(mLo, mHi) + ")") }
            }
        }
        if hi == nil || hi! >= 0 {
            let a = max(lo ?? 0, 0)
            let b = hi ?? maxMagnitude
            if a <= b { alts.append(nonNegative(a, b)) }
        }
        return alts.map { "(" + $0 + ")" }.joined(separator: " | ")
    }

    private static func nonNegative(_ a: Int64, _ b: Int64) -> String {
        let sa = String(a), sb = String(b)
        var alts: [String] = []
        for len in sa.count...sb.count {
            let lo = len == sa.count ? sa : "1" + String(repeating: "0", count: len - 1)
            let hi = len == sb.count ? sb : String(repeating: "9", count: len)
            alts.append(sameLength(Array(lo.utf8), Array(hi.utf8)))
        }
        return alts.map { "(" + $0 + ")" }.joined(separator: " | ")
    }

    /// Decimal strings of one length between a and b (a <= b, same length).
    private static func sameLength(_ a: [UInt8], _ b: [UInt8]) -> String {
        let n = a.count
        if n == 0 { return "\"\"" }
        if a == b { return "\"" + String(decoding: a, as: UTF8.self) + "\"" }
        let restAllZero = a.dropFirst().allSatisfy { $0 == 0x30 }
        let restAllNine = b.dropFirst().allSatisfy { $0 == 0x39 }
        let any = n > 1 ? " [0-9]{\(n - 1)}" : ""
        let a0 = a[0] - 0x30, b0 = b[0] - 0x30
        if restAllZero && restAllNine { return "[\(a0)-\(b0)]" + any }
        if a0 == b0 { return "\"\(a0)\" (" + sameLength(Array(a.dropFirst()), Array(b.dropFirst())) + ")" }
        var alts: [String] = []
        alts.append("\"\(a0)\" (" + sameLength(Array(a.dropFirst()), [UInt8](repeating: 0x39, count: n - 1)) + ")")
        if b0 >= a0 + 2 { alts.append("[\(a0 + 1)-\(b0 - 1)]" + any) }
        alts.append("\"\(b0)\" (" + sameLength([UInt8](repeating: 0x30, count: n - 1), Array(b.dropFirst())) + ")")
        return alts.joined(separator: " | ")
    }
}
