/// Nucleus sampling: keeps the smallest set of most likely tokens whose probability reaches p (p >= 1: all).
public struct TopP: LogitProcessor {
    public let p: Float
    public init(_ p: Float) { self.p = p }
    public mutating func apply(_ c: inout Candidates) {
        guard p < 1, c.count > 1 else { return }
        c.sortDescending()
        c.computeProbabilities()
        var sum: Float = 0
        var keep = c.count
        for i in 0..<c.count {
            sum += c.probs[i]
            if sum >= p { keep = i + 1; break }
        }
        c.keepTop(keep)
    }
}
