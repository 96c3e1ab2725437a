import XCTest
@testable import SLMEngine
import TestSupport

/// `TokenVocabulary.fewestTokens` against the obvious twin (a shortest path that tries every token of the
/// vocabulary at every position), on both reference vocabularies; which bytes of text (printable ASCII, tab,
/// newline, return, every byte of a multi-byte UTF-8 character) are not a token of their own.
final class TokenSpellingTests: XCTestCase {
    func bruteForce(_ v: TokenVocabulary, _ bytes: [UInt8]) -> Int? {
        let n = bytes.count
        var best = [Int](repeating: Int.max, count: n + 1)
        best[n] = 0
        for i in stride(from: n - 1, through: 0, by: -1) {
            for t in 0..<Int32(v.size) {
                let b = v.bytes(t)
                guard !b.isEmpty, !v.eog.contains(t), b.count <= n - i, best[i + b.count] != Int.max,
                      bytes[i..<(i + b.count)].elementsEqual(b) else { continue }
                best[i] = min(best[i], best[i + b.count] + 1)
            }
        }
        return best[0] == Int.max ? nil : best[0]
    }

    func check(_ file: String, bytesWithoutToken: [Int]) throws {
        let engine = try EngineModel.load(file)
        let v = TokenVocabulary.shared(for: engine.tokenizer, key: engine.file.path)
        let texts = [#"{"name":"","age":0}"#, #"{"x":-9,"y":-9}"#, "\u{E9}t\u{E9} \u{1F600}", "   \n\t", #"[true,false,null]"#, ""]
        for text in texts {
            let bytes = Array(text.utf8)
            let path = try XCTUnwrap(v.fewestTokens(spelling: bytes), text)
            XCTAssertEqual(path.flatMap { Array(v.bytes($0)) }, bytes, text)
            XCTAssertEqual(path.count, bruteForce(v, bytes), text)
            XCTAssertLessThanOrEqual(path.count, engine.tokenize(text, addSpecial: false, parseSpecial: false).count, text)
        }
        // SmolLM2's byte-level vocabulary dropped the lead bytes of planes 4-12 (never in its training text); a
        // completion never needs them (AnswerReserve checks each grammar's characters).
        let missing = ([0x09, 0x0A, 0x0D] + Array(0x20...0xBF) + Array(0xC2...0xF4)).filter {
            v.fewestTokens(spelling: [UInt8($0)])?.count != 1
        }
        XCTAssertEqual(missing, bytesWithoutToken)
    }

    func testSmolLM2() throws { try check(TestPaths.smollmFile, bytesWithoutToken: [0xF1, 0xF2]) }
    func testGemma3() throws { try check(TestPaths.gemmaFile, bytesWithoutToken: []) }
}
