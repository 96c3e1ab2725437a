/// How many prompt tokens a step may take beside running decodes, so that a long prompt arriving does not stall the
/// streams already running: a step with prompt rows may take at most `factor` times the fastest decode-only step
/// seen (one sequence decoding alone, when seen), measured online. Decode-only step times are kept per number of
/// decoding rows, and the cost of one prompt row from steps that carry them (compute-bound: about linear in rows).
/// With nothing decoding, a prompt gets the whole chunk. A long prompt (more than a chunk left) takes the tighter
/// `longFactor`: it would hold the running streams back for many steps, while a short one (a user turn) is done in one
/// or two, and its request waits on them.
struct PrefillBudget {
    let chunk: Int
    let factor: Double
    let longFactor: Double
    /// Exponential moving averages, in seconds: decode-only steps by row count (index = rows), one prompt row.
    private var decodeStep: [Double?]
    private var perPromptRow: Double?
    private let weight = 0.2

    init(chunk: Int, maxRows: Int, factor: Double = 2.2, longFactor: Double = 1.4) {
        self.chunk = chunk
        self.factor = factor
        self.longFactor = min(longFactor, factor)
        decodeStep = Array(repeating: nil, count: maxRows + 1)
    }

    /// Whether a prompt with `remaining` tokens to evaluate takes the long prompts' share.
    func isLong(remaining: Int) -> Bool { remaining > chunk }

    /// Prompt rows the next step may take while `decoding` rows decode (`long`: for long prompts).
    func rows(decoding: Int, long: Bool = false) -> Int {
        guard decoding > 0 else { return chunk }
        guard let fastest = decodeStep.lazy.compactMap({ $0 }).min(), let own = decodeTime(rows: decoding),
              let row = perPromptRow, row > 0 else {
            return min(chunk, 8)  // nothing measured yet: a small chunk until the first steps are timed
        }
        let room = (long ? longFactor : factor) * fastest - own
        return max(1, min(chunk, Int(room / row)))
    }

    /// A decode-only step of `rows` rows: measured, or else estimated from the counts that were (a server's clients
    /// starting and finishing together pass through counts that never run decode-only, and taking a full chunk
    /// there made the slowest steps of all): between two measured counts linearly; above the largest, that step plus
    /// a prompt row's cost per extra row (a decode row costs about as much: both are compute-bound); below the
    /// smallest, that step (an upper bound). Nil when nothing is measured.
    func decodeTime(rows: Int) -> Double? {
        let k = min(rows, decodeStep.count - 1)
        if let t = decodeStep[k] { return t }
        let below = (0..<k).last { decodeStep[$0] != nil }, above = (k + 1..<decodeStep.count).first { decodeStep[$0] != nil }
        switch (below, above) {
        case let (b?, a?):
            let tb = decodeStep[b]!, ta = decodeStep[a]!
            return tb + (ta - tb) * Double(k - b) / Double(a - b)
        case let (b?, nil):
            guard let row = perPromptRow else { return nil }
            return decodeStep[b]! + Double(k - b) * row
        case let (nil, a?):
            return decodeStep[a]!
        case (nil, nil):
            return nil
        }
    }

    /// Records a step of `decoding` decode rows and `prompt` prompt rows that took `seconds`.
    mutating func record(decoding: Int, prompt: Int, seconds: Double) {
        let k = min(decoding, decodeStep.count - 1)
        if prompt == 0 {
            decodeStep[k] = decodeStep[k].map { $0 + weight * (seconds - $0) } ?? seconds
            return
        }
        let base = decoding == 0 ? 0 : (decodeTime(rows: k) ?? 0)
        let sample = max(seconds - base, 0) / Double(prompt)
        perPromptRow = perPromptRow.map { $0 + weight * (sample - $0) } ?? sample
    }
}
