/// llama.cpp's repeat penalty over the last `window` tokens: a positive logit is divided by `penalty`, a negative one
/// multiplied, once per distinct token.
public struct RepeatPenalty: LogitProcessor {
    public let penalty: Float
    public let window: Int
    private var recent: [Int32] = []

    public init(penalty: Float, window: Int = 64, history: [Int32] = []) {
        self.penalty = penalty
        self.window = max(window, 0)
        recent = Array(history.suffix(self.window))
    }

    public mutating func apply(_ c: inout Candidates) {
        guard penalty != 1, !recent.isEmpty else { return }
        let seen = Set(recent)
        for i in 0..<c.count where seen.contains(c.ids[i]) {
            c.logits[i] = c.logits[i] > 0 ? c.logits[i] / penalty : c.logits[i] * penalty
        }
        c.sorted = false
    }

    /// The same penalty applied in place to a full row indexed by token id: O(window^2) comparisons to find each
    /// distinct id once (no set to allocate per step), not O(vocabulary).
    func penalize(_ row: UnsafeMutableBufferPointer<Float>) {
        guard penalty != 1 else { return }
        for (i, id) in recent.enumerated() where id >= 0 && Int(id) < row.count && !recent[..<i].contains(id) {
            let x = row[Int(id)]
            row[Int(id)] = x > 0 ? x / penalty : x * penalty
        }
    }

    public mutating func accept(_ token: Int32) {
        guard window > 0 else { return }
        recent.append(token)
        if recent.count > window { recent.removeFirst(recent.count - window) }
    }
}
