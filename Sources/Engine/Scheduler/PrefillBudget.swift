/// How many prompt tokens a step may take beside running decodes, so that a long prompt arriving does not stall the
/// streams already running: a step with prompt rows may take at most `factor` times the decode-only step of one
/// sequence (the fastest; estimated when no sequence has decoded alone), or `ownFactor` times the decode-only step of
/// the rows running now, whichever is longer, measured online. The second bound matters once many sequences decode:
/// their own step then exceeds `factor` times the fastest, and the first bound alone would leave a newcomer one prompt
/// row per step (its slot idle for as many steps as its prompt has tokens, and newcomers arriving together queued
/// behind each other).
/// Decode-only step times are kept per number of decoding rows, and the cost of one prompt row from steps that carry
/// them (compute-bound: about linear in rows). With nothing decoding, a prompt gets the whole chunk. A long prompt
/// (more than a chunk left) takes the tighter `longFactor` and `longOwnFactor`: it would hold the running streams back
/// for many steps, while a short one (a user turn) is done in one or two, and its request waits on them.
struct PrefillBudget {
    let chunk: Int
    let factor: Double
    let longFactor: Double
    let ownFactor: Double
    let longOwnFactor: Double
    /// Exponential moving averages: decode-only steps by row count (index = rows), in seconds; and of the steps with
    /// prompt rows, the time beyond their decode rows' (seconds) and the prompt rows. Their ratio is a prompt row's
    /// cost, weighted by rows: a step with one prompt row, whose excess is mostly the machine's jitter, moves it
    /// little, and a run of such steps that took no longer than decoding alone cannot drive it to zero in a few steps.
    private var decodeStep: [Double?]
    private var promptExcess = 0.0
    private var promptRows = 0.0
    private let weight = 0.2

    init(chunk: Int, maxRows: Int, factor: Double = 2.2, longFactor: Double = 1.4, ownFactor: Double = 1.3,
         longOwnFactor: Double = 1.15) {
        self.chunk = chunk
        self.factor = factor
        self.longFactor = min(longFactor, factor)
        self.ownFactor = ownFactor
        self.longOwnFactor = min(longOwnFactor, ownFactor)
        decodeStep = Array(repeating: nil, count: maxRows + 1)
    }

    /// Whether a prompt with `remaining` tokens to evaluate takes the long prompts' share.
    func isLong(remaining: Int) -> Bool { remaining > chunk }

    /// Prompt rows the next step may take while `decoding` rows decode (`long`: for long prompts).
    func rows(decoding: Int, long: Bool = false) -> Int {
        guard decoding > 0 else { return chunk }
        guard let one = decodeTime(rows: 1), let own = decodeTime(rows: decoding), let row = perPromptRow else {
            return min(chunk, 8)  // nothing measured yet: a small chunk until the first steps are timed
        }
        let fastest = min(one, decodeStep.lazy.compactMap { $0 }.min() ?? one)
        let room = max((long ? longFactor : factor) * fastest, (long ? longOwnFactor : ownFactor) * own) - own
        let fits = room / row  // may be infinite or NaN (a row estimated at 0): clamp before converting
        if !(fits >= 1) { return 1 }
        return fits >= Double(chunk) ? chunk : Int(fits)
    }

    /// A prompt row's cost in seconds, nil before a step with prompt rows was timed.
    var perPromptRow: Double? { promptRows > 0 ? promptExcess / promptRows : nil }

    /// A decode-only step of `rows` rows: measured, or else estimated from the counts that were (a server's clients
    /// starting and finishing together pass through counts that never run decode-only, and taking a full chunk
    /// there made the slowest steps of all): between two measured counts linearly; above the largest, that step plus
    /// a prompt row's cost per extra row (a decode row costs about as much: both are compute-bound); below the
    /// smallest, that step less a prompt row's cost per missing row, but at least the share of its rows (a server
    /// whose clients always run together never steps one sequence alone, and taking its 4-row step as the fastest
    /// let a prompt stretch steps to 2.2 times that). Nil when nothing is measured.
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
            let ta = decodeStep[a]!
            guard let row = perPromptRow else { return ta }
            return max(ta - Double(a - k) * row, ta * Double(k) / Double(a))
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
        let excess = seconds.isFinite ? max(seconds - base, 0) : 0
        if promptRows == 0 {
            promptExcess = excess
            promptRows = Double(prompt)
        } else {
            promptExcess += weight * (excess - promptExcess)
            promptRows += weight * (Double(prompt) - promptRows)
        }
    }
}
