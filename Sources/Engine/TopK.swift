/// Keeps the k most likely tokens (k <= 0: all).
public struct TopK: LogitProcessor {
    public let k: Int
    public init(_ k: Int) { self.k = k }
    public mutating func apply(_ c: inout Candidates) {
        if k > 0 { c.keepTop(k) }
    }
}
