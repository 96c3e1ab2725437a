extension CodepointText {
    /// One expression of a sequence, as llama.cpp's `unicode_regex_split_stl` applies it: within each piece, the
    /// leftmost match after the previous one (`match(p, end)`: the end of a match starting at p inside a piece ending
    /// at `end`, or nil), and the text between matches, become the next pieces.
    func splitMatches(_ pieces: [Range<Int>], _ match: (_ p: Int, _ end: Int) -> Int?) -> [Range<Int>] {
        var next: [Range<Int>] = []
        next.reserveCapacity(pieces.count * 2)
        for piece in pieces {
            var gapStart = piece.lowerBound
            var p = piece.lowerBound
            while p < piece.upperBound {
                if let e = match(p, piece.upperBound), e > p {
                    if p > gapStart { next.append(gapStart ..< p) }
                    next.append(p ..< e)
                    p = e
                    gapStart = e
                } else {
                    p += 1
                }
            }
            if gapStart < piece.upperBound { next.append(gapStart ..< piece.upperBound) }
        }
        return next
    }

    /// A match of `member+` at p (nil when p is not a member).
    static func run(_ p: Int, _ end: Int, _ member: (Int) -> Bool) -> Int? {
        guard member(p) else { return nil }
        var q = p
        while q < end && member(q) { q += 1 }
        return q
    }

    /// A match of `\s?member+` at p.
    static func spaceThenRun(_ p: Int, _ end: Int, space: (Int) -> Bool, _ member: (Int) -> Bool) -> Int? {
        let q = space(p) && p + 1 < end && member(p + 1) ? p + 1 : p
        return run(q, end, member)
    }
}
