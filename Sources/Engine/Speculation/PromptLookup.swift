/// Prompt-lookup drafting: the tokens that followed the most recent earlier occurrence of the sequence's last n
/// tokens (n from `longest` down to `shortest`) are a guess at what comes next. Strong wherever the output copies its
/// input (extraction, reformatting, edits, JSON with repeated keys); no second model.
///
/// history: [prompt + every token fed since], grown in place (capacity reserved for the whole context).
struct PromptLookup {
    private(set) var history: [Int32]
    let shortest: Int
    let longest: Int

    init(prompt: [Int32], capacity: Int, shortest: Int = 2, longest: Int = 4) {
        history = []
        history.reserveCapacity(max(capacity, prompt.count) + 1)
        history.append(contentsOf: prompt)
        self.shortest = max(1, shortest)
        self.longest = max(self.shortest, longest)
    }

    mutating func append(_ tokens: [Int32]) { history.append(contentsOf: tokens) }
    mutating func append(_ token: Int32) { history.append(token) }

    /// Appends up to `limit` draft tokens to `out` and returns how many (0: no match of `shortest` tokens or more).
    /// The longest n that matches wins; among matches of that n, the most recent one whose continuation is not empty.
    /// O(history) per call: a backward scan comparing the last token first (a few microseconds at 4k tokens).
    func draft(_ limit: Int, into out: inout [Int32]) -> Int {
        let h = history.count
        guard limit > 0, h > shortest else { return 0 }
        return history.withUnsafeBufferPointer { p in
            var n = min(longest, h - 1)
            while n >= shortest {
                // Candidate starts i: h[i..<i+n] == h[h-n..<h], with at least one token after it (i + n < h).
                var i = h - n - 1
                while i >= 0 {
                    if p[i + n - 1] == p[h - 1] {
                        var k = 0
                        while k < n - 1 && p[i + k] == p[h - n + k] { k += 1 }
                        if k == n - 1 {
                            let from = i + n
                            let count = min(limit, h - from)
                            for j in 0..<count { out.append(p[from + j]) }
                            return count
                        }
                    }
                    i -= 1
                }
                n -= 1
            }
            return 0
        }
    }
}
