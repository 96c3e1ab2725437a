/// Divides logits by the temperature (applied last, after the filters, as llama.cpp does).
public struct Temperature: LogitProcessor {
    public let t: Float
    public init(_ t: Float) { self.t = t }
    public mutating func apply(_ c: inout Candidates) {
        guard t > 0, t != 1 else { return }
        for i in 0..<c.count { c.logits[i] /= t }
    }
}
