/// One step of the sampling chain. `apply` reshapes the candidates; `accept` tells it which token was chosen
/// (for processors with per-sequence state: repeat penalty, grammar).
public protocol LogitProcessor {
    mutating func apply(_ candidates: inout Candidates)
    mutating func accept(_ token: Int32)
}

extension LogitProcessor {
    public mutating func accept(_ token: Int32) {}
}
