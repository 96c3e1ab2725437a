import Foundation

/// Keeps tokens whose probability is at least p times the most likely token's (p <= 0: all).
public struct MinP: LogitProcessor {
    public let p: Float
    public init(_ p: Float) { self.p = p }
    public mutating func apply(_ c: inout Candidates) {
        guard p > 0, c.count > 1, let maxLogit = c.logits.max() else { return }
        // p_i >= p * p_max  <=>  logit_i >= logit_max + ln(p)
        c.keep(atLeast: maxLogit + logf(p))
    }
}
