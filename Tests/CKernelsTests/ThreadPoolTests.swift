import CKernels
import XCTest

final class ThreadPoolTests: XCTestCase {
    /// Slot ith counts the calls with that ith; slot 256 records a wrong nth.
    private static let task: slm_task_fn = { ctx, ith, nth in
        let counts = ctx!.assumingMemoryBound(to: Int.self)
        counts[Int(ith)] += 1  // only the thread given this ith writes this slot
        if nth != Int32(counts[257]) { counts[256] += 1 }
    }

    func testEveryWorkerRunsExactlyOncePerRun() {
        for n in 1...8 {
            guard let tp = slm_threadpool_create(Int32(n)) else { return XCTFail("create(\(n))") }
            defer { slm_threadpool_destroy(tp) }
            XCTAssertEqual(slm_threadpool_n_threads(tp), Int32(n))
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: 258)
            defer { counts.deallocate() }
            counts.initialize(repeating: 0, count: 258)
            counts[257] = n
            // 10000 runs on up to 2 threads (the decode pattern); oversubscribed pools get 1000 to stay quick.
            let runs = n <= 2 ? 10_000 : 1_000
            let start = Date()
            for run in 1...runs {
                slm_threadpool_run(tp, Self.task, counts)
                if run % 250 == 0 || run == runs {  // run returns only after every worker finished
                    for i in 0..<n where counts[i] != run {
                        XCTFail("threads=\(n) run=\(run): ith \(i) called \(counts[i]) times"); return
                    }
                }
            }
            XCTAssertEqual(counts[256], 0, "nth passed to the task differs from the pool size")
            for i in n..<256 { XCTAssertEqual(counts[i], 0) }
            // Generous: a run costs microseconds; this catches a pool that falls back to sleeping every run.
            XCTAssertLessThan(Date().timeIntervalSince(start), 10, "threads=\(n): \(runs) runs too slow")
        }
    }

    /// The caller may run unclaimed indices itself, but a pool whose workers never run anything would be useless:
    /// with tasks of some tens of microseconds a worker must pick up an index (within a generous 5 s on a busy
    /// machine).
    func testWorkersTakePart() {
        guard let tp = slm_threadpool_create(2) else { return XCTFail("create") }
        defer { slm_threadpool_destroy(tp) }
        let state = UnsafeMutablePointer<UInt>.allocate(capacity: 3)  // [caller thread id, runs off the caller, sink]
        defer { state.deallocate() }
        state.initialize(repeating: 0, count: 3)
        state[0] = UInt(pthread_self())
        let task: slm_task_fn = { ctx, ith, _ in
            let st = ctx!.assumingMemoryBound(to: UInt.self)
            var x: UInt = 0
            for i in 0..<20_000 { x = x &+ UInt(i) &* 2654435761 }
            if ith == 1 {
                st[2] = x
                if UInt(pthread_self()) != st[0] { st[1] += 1 }  // only the thread running ith 1 writes here
            }
        }
        let deadline = Date().addingTimeInterval(5)
        while state[1] == 0 && Date() < deadline { slm_threadpool_run(tp, task, state) }
        XCTAssertGreaterThan(state[1], 0, "no index ever ran on a worker thread")
    }

    func testNilPoolRunsInline() {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 258)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0, count: 258)
        counts[257] = 1
        slm_threadpool_run(nil, Self.task, counts)
        XCTAssertEqual(counts[0], 1)
        XCTAssertEqual(counts[256], 0)
        XCTAssertEqual(slm_threadpool_n_threads(nil), 1)
    }

    /// The pool's scratch: aligned, kept (same address, same bytes) while requests fit, grown by at least doubling
    /// when they do not, none without a pool. slm_attention's decode schedule takes its partials from it, so a decode
    /// allocates only while its context grows.
    func testScratchIsKeptWhileRequestsFitAndGrowsByDoubling() throws {
        XCTAssertNil(slm_threadpool_scratch(nil, 16))
        let tp = slm_threadpool_create(2)
        defer { slm_threadpool_destroy(tp) }
        let a = try XCTUnwrap(slm_threadpool_scratch(tp, 1000))
        XCTAssertEqual(UInt(bitPattern: a) % 64, 0)
        a.storeBytes(of: 0x5a5a_5a5a, toByteOffset: 996, as: UInt32.self)
        XCTAssertEqual(slm_threadpool_scratch(tp, 10), a)
        XCTAssertEqual(slm_threadpool_scratch(tp, 1000), a)
        XCTAssertEqual(a.load(fromByteOffset: 996, as: UInt32.self), 0x5a5a_5a5a)
        XCTAssertEqual(slm_threadpool_scratch(tp, 1024), a, "sizes are rounded up to 64 bytes")
        let b = try XCTUnwrap(slm_threadpool_scratch(tp, 1025))
        XCTAssertNotEqual(b, a)
        XCTAssertEqual(UInt(bitPattern: b) % 64, 0)
        XCTAssertEqual(slm_threadpool_scratch(tp, 2000), b, "grown to twice the old size, not just to the request")
    }

    func testCreateClampsThreadCount() {
        let tp = slm_threadpool_create(0)
        XCTAssertEqual(slm_threadpool_n_threads(tp), 1)
        slm_threadpool_destroy(tp)
        slm_threadpool_destroy(nil)
    }

    func testSplitRangeCoversExactlyOnceWithAlignment() {
        for n: Int64 in [0, 1, 5, 31, 32, 33, 100, 576, 1000, 1536, 49152] {
            for align: Int64 in [1, 4, 16, 32] {
                for nth: Int32 in 1...9 {
                    var next: Int64 = 0
                    var sizes: [Int64] = []
                    for ith in 0..<nth {
                        var b: Int64 = -1, e: Int64 = -1
                        slm_split_range(n, align, ith, nth, &b, &e)
                        XCTAssertEqual(b, next, "n=\(n) align=\(align) \(ith)/\(nth): contiguous")
                        XCTAssertLessThanOrEqual(b, e)
                        if e < n { XCTAssertEqual((e - b) % align, 0, "only the last range may be ragged") }
                        if b < n { XCTAssertEqual(b % align, 0, "non-empty ranges start on a multiple of align") }
                        sizes.append(e - b)
                        next = e
                    }
                    XCTAssertEqual(next, n, "n=\(n) align=\(align) nth=\(nth): covers [0, n)")
                    // Nearly equal: in units of align, sizes differ by at most one unit.
                    let units = sizes.map { ($0 + align - 1) / align }
                    XCTAssertLessThanOrEqual(units.max()! - units.min()!, 1, "n=\(n) align=\(align) nth=\(nth)")
                }
            }
        }
    }
}
