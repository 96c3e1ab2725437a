/// A character set ready for matching: a 128-bit bitmap answers ASCII in one test; other code points search the ranges.
struct CompiledCharSet: Sendable {
    let ranges: [ClosedRange<UInt32>]
    let negated: Bool
    private let asciiLow: UInt64
    private let asciiHigh: UInt64

    init(_ c: CharSet) {
        ranges = c.ranges
        negated = c.negated
        var lo: UInt64 = 0, hi: UInt64 = 0
        for cp in UInt32(0)..<128 {
            let inSet = c.ranges.contains { $0.contains(cp) } != c.negated
            if inSet { if cp < 64 { lo |= 1 << UInt64(cp) } else { hi |= 1 << UInt64(cp - 64) } }
        }
        asciiLow = lo
        asciiHigh = hi
    }

    @inline(__always)
    func matches(_ cp: UInt32) -> Bool {
        if cp < 64 { return asciiLow >> UInt64(cp) & 1 != 0 }
        if cp < 128 { return asciiHigh >> UInt64(cp - 64) & 1 != 0 }
        var found = false
        for r in ranges where r.contains(cp) { found = true; break }
        return found != negated
    }

    /// Whether some code point in `lo...hi` is in the set (for a UTF-8 sequence seen only in part).
    func matchesSome(_ lo: UInt32, _ hi: UInt32) -> Bool {
        if !negated { return ranges.contains { $0.lowerBound <= hi && lo <= $0.upperBound } }
        // Negated: some code point of lo...hi lies outside every range.
        var next = lo
        for r in ranges where r.upperBound >= next {
            if r.lowerBound > next { return true }
            if r.upperBound >= hi { return false }
            next = r.upperBound + 1
        }
        return next <= hi
    }

    /// Whether the set matches no code point at all.
    var isEmpty: Bool { !matchesSome(0, 0x10FFFF) }

    /// The smallest member of `lo...hi` that is a Unicode scalar, nil when none.
    func first(in lo: UInt32, _ hi: UInt32) -> UInt32? {
        for (a, b) in [(lo, min(hi, 0xD7FF)), (max(lo, 0xE000), hi)] where a <= b {
            if !negated {
                for r in ranges where r.upperBound >= a && r.lowerBound <= b { return max(r.lowerBound, a) }
                continue
            }
            var next = a
            for r in ranges where r.upperBound >= next {
                if r.lowerBound > next { break }
                next = r.upperBound + 1
            }
            if next <= b { return next }
        }
        return nil
    }

    /// The member a shortest completion writes: one of the fewest UTF-8 bytes, a letter or digit when the set has
    /// one (so a forced completion reads as text), nil for an empty set.
    var preferredMember: UInt32? {
        let ascii = Array(UInt32(0x61)...0x7A) + Array(UInt32(0x30)...0x39) + Array(UInt32(0x41)...0x5A)
            + Array(UInt32(0x20)...0x7E) + Array(UInt32(0)...0x7F)
        if let c = ascii.first(where: matches) { return c }
        return first(in: 0x80, 0x7FF) ?? first(in: 0x800, 0xFFFF) ?? first(in: 0x10000, 0x10FFFF)
    }
}
