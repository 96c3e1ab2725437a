import SLMEngine
import XCTest

/// Stop strings in streamed text: never printed, found across pieces, earliest wins, held-back text released.
final class StopMatcherTests: XCTestCase {
    /// Feeds `pieces` in order; returns everything printed (including `finish()` when no stop was hit) and whether
    /// a stop was found, like the generation loop does.
    func run(_ stops: [String], _ pieces: [String]) -> (text: String, stopped: Bool) {
        var m = StopMatcher(stops: stops)
        var out = ""
        for p in pieces {
            let (emit, stopped) = m.feed(p)
            out += emit
            if stopped { return (out, true) }
        }
        return (out + m.finish(), false)
    }

    func testNoStopsPassesEverythingThrough() {
        var m = StopMatcher(stops: [])
        XCTAssertEqual(m.feed("abc").emit, "abc")
        XCTAssertEqual(run([""], ["a", "b"]).text, "ab", "an empty stop string is ignored")
    }

    func testStopWithinOnePiece() {
        XCTAssertEqual(run(["END"].self, ["hello END world"]).text, "hello ")
        XCTAssertTrue(run(["END"], ["hello END world"]).stopped)
    }

    func testStopSplitAcrossPieces() {
        for split in [["hel", "lo E", "N", "D world"], ["hello ", "E", "ND"], ["h", "e", "l", "l", "o", " ", "E", "N", "D"]] {
            let r = run(["END"], split)
            XCTAssertEqual(r.text, "hello ", "\(split)")
            XCTAssertTrue(r.stopped)
        }
    }

    func testHeldBackPrefixIsNotPrintedEarly() {
        var m = StopMatcher(stops: ["</s>"])
        let a = m.feed("text <")
        XCTAssertEqual(a.emit, "text ", "'<' might start the stop: held back")
        XCTAssertFalse(a.stopped)
        let b = m.feed("/")
        XCTAssertEqual(b.emit, "", "'</' still might")
        let c = m.feed("x")
        XCTAssertEqual(c.emit, "</x", "'</x' cannot: released")
    }

    func testHeldBackPrefixReleasedAtTheEnd() {
        let r = run(["STOP"], ["all done ST"])
        XCTAssertEqual(r.text, "all done ST", "a partial stop at the end is ordinary text")
        XCTAssertFalse(r.stopped)
        var m = StopMatcher(stops: ["STOP"])
        XCTAssertEqual(m.feed("ab ST").emit, "ab ")
        XCTAssertEqual(m.finish(), "ST")
        XCTAssertEqual(m.finish(), "", "finish empties the buffer")
    }

    func testEarliestOfSeveralStopsWins() {
        XCTAssertEqual(run(["world", "lo"], ["hello world"]).text, "hel")
        XCTAssertEqual(run(["lo", "world"], ["hello world"]).text, "hel", "order of the stops does not matter")
        // Overlapping candidates: "ab" starts before "b".
        XCTAssertEqual(run(["b", "ab"], ["xab"]).text, "x")
        // A longer stop whose prefix is held back must not delay a shorter one that completes first.
        XCTAssertEqual(run(["abcd", "bc"], ["a", "b", "c", "d"]).text, "a")
    }

    func testHoldsTheLongestPossiblePrefix() {
        var m = StopMatcher(stops: ["aab"])
        XCTAssertEqual(m.feed("xaa").emit, "x", "'aa' could start 'aab'")
        XCTAssertEqual(m.feed("a").emit, "a", "'aaa': only the last 'aa' can still start it")
        XCTAssertTrue(m.feed("b").stopped)
    }

    func testMultibyteText() {
        XCTAssertEqual(run(["。"], ["日本語", "です。", "次"]).text, "日本語です")
        XCTAssertEqual(run(["🙂"], ["ok ", "🙂 done"]).text, "ok ")
    }

    /// Stop strings are matched on the text's characters as written: "\n" inside "\r\n" is still a newline that
    /// was generated, and the text before it is printed whole.
    func testNewlineInsideCRLF() {
        let r = run(["\n"], ["a\r", "\nb"])
        XCTAssertTrue(r.stopped)
        XCTAssertEqual(r.text, "a\r")
        let one = run(["\n"], ["a\r\nb"])
        XCTAssertTrue(one.stopped)
        XCTAssertEqual(one.text, "a\r", "the \\r before the stop is printed")
    }
}
