/// Finds stop strings in streamed text. Text that could still be the start of a stop string is held back, so the
/// stop text itself is never printed.
public struct StopMatcher: Sendable {
    public let stops: [String]
    private var pending = ""

    public init(stops: [String]) { self.stops = stops.filter { !$0.isEmpty } }

    /// Feeds new text; returns what can be printed now, and whether a stop string was found (the printable part then
    /// ends right before it).
    public mutating func feed(_ text: String) -> (emit: String, stopped: Bool) {
        guard !stops.isEmpty else { return (text, false) }
        pending += text
        var earliest: String.Index? = nil
        for s in stops {
            if let r = pending.range(of: s), earliest == nil || r.lowerBound < earliest! { earliest = r.lowerBound }
        }
        if let e = earliest {
            let out = String(pending[..<e])
            pending = ""
            return (out, true)
        }
        // Hold back the longest suffix that is a prefix of some stop string.
        var hold = 0
        for s in stops {
            var n = min(s.count - 1, pending.count)
            while n > hold {
                if pending.hasSuffix(s.prefix(n)) { hold = n; break }
                n -= 1
            }
        }
        let cut = pending.index(pending.endIndex, offsetBy: -hold)
        let out = String(pending[..<cut])
        pending = String(pending[cut...])
        return (out, false)
    }

    /// At the end: whatever was held back.
    public mutating func finish() -> String {
        defer { pending = "" }
        return pending
    }
}
