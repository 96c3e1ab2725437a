import CKernels
import HeapModule

/// The engine's one top-k: the `k` highest scores of a row, best first, ties to the lower index (the lower token id
/// when the row is a logits row), NaN ranked as -infinity. One pass with a k-entry heap: a vector scan
/// (`slm_first_above`) skips to the next value above the heap's worst entry, so a vocabulary-sized row costs a scan
/// plus the few replacements near the top. The heap's storage is kept between calls: a selection held by a sampler
/// allocates nothing after its first step. When most of the row is kept (a full ranking, as top-p without top-k asks
/// for) a sort is the faster tool, in the same order.
struct TopSelection {
    struct Entry: Comparable {
        var score: Float
        var index: Int32

        /// Ranks lower: a lower score, or the same score at a higher index.
        static func < (a: Entry, b: Entry) -> Bool { a.score < b.score || (a.score == b.score && a.index > b.index) }
    }

    private var heap = Heap<Entry>()

    init() {}

    /// Calls `take(index, score)` for the `min(k, row.count)` best entries of `row`, best first (none for k <= 0).
    mutating func select(_ k: Int, of row: UnsafeBufferPointer<Float>, _ take: (Int32, Float) -> Void) {
        let k = min(k, row.count)
        guard k > 0 else { return }
        if k >= row.count / 4 {
            var all = (0..<row.count).map { Entry(score: Self.rank(row[$0]), index: Int32($0)) }
            all.sort(by: >)
            for e in all[..<k] { take(e.index, e.score) }
            return
        }
        for i in 0..<k { heap.insert(Entry(score: Self.rank(row[i]), index: Int32(i))) }
        var worst = heap.min!.score
        let base = row.baseAddress!
        var i = k
        while i < row.count {
            // The next entry above the worst kept (equal is not enough: the kept entry has the lower index; NaN is
            // never above), found by the vector scan.
            i += Int(slm_first_above(base + i, Int64(row.count - i), worst))
            guard i < row.count else { break }
            heap.replaceMin(with: Entry(score: row[i], index: Int32(i)))
            worst = heap.min!.score
            i += 1
        }
        while let e = heap.popMax() { take(e.index, e.score) }
    }

    @inline(__always) static func rank(_ x: Float) -> Float { x.isNaN ? -.infinity : x }
}
