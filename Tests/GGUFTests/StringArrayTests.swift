import XCTest
@testable import GGUF
import TestSupport

/// String arrays parse into one byte buffer (GGUFStrings): bytes as on disk, elements repaired when decoded, and
/// repairingInvalidUTF8() giving exactly the decoded strings' bytes.
final class StringArrayTests: GGUFTestCase {
    /// A file with one string array whose placeholder bytes (X, Y, Z) are replaced by `patch`.
    private func stringsFile(_ texts: [String], patch: [UInt8: UInt8]) throws -> GGUFFile {
        var w = GGUFWriter()
        w.add("a", .array(.string(GGUFStrings(texts))))
        var bytes = w.bytes()
        for (placeholder, value) in patch {
            let at = try XCTUnwrap(bytes.lastIndex(of: placeholder))
            bytes[at] = value
        }
        return try open(bytes)
    }

    func testValidStringsKeepTheirBytesAndDecode() throws {
        let texts = ["", "x", "▁héllo", "🦙", "", String(repeating: "long ", count: 50)]
        let f = try stringsFile(texts, patch: [:])
        let s = try f.strings("a")
        XCTAssertEqual(Array(s), texts)
        XCTAssertEqual(s.count, texts.count)
        for (i, t) in texts.enumerated() { XCTAssertEqual(Array(s.utf8(i)), Array(t.utf8)) }
        XCTAssertEqual(s.repairingInvalidUTF8(), s)
        XCTAssertEqual(try f.stringArray("a"), texts)
    }

    func testInvalidElementsAreRepairedOnRequestAndWhenDecoded() throws {
        // "aXb" -> a 0xFF b (a byte that never starts UTF-8); "Y" -> a lone 3-byte lead
        let f = try stringsFile(["aXb", "ok", "Y"], patch: [UInt8(ascii: "X"): 0xFF, UInt8(ascii: "Y"): 0xE2])
        let s = try f.strings("a")
        XCTAssertEqual(Array(s.utf8(0)), [0x61, 0xFF, 0x62], "parsed bytes are the file's")
        XCTAssertEqual(Array(s.utf8(2)), [0xE2])
        XCTAssertEqual(Array(s), ["a\u{FFFD}b", "ok", "\u{FFFD}"])
        let r = s.repairingInvalidUTF8()
        XCTAssertEqual(Array(r.utf8(0)), Array("a\u{FFFD}b".utf8))
        XCTAssertEqual(Array(r.utf8(1)), Array("ok".utf8))
        XCTAssertEqual(Array(r.utf8(2)), Array("\u{FFFD}".utf8))
    }

    func testASequenceSplitAcrossElementsIsInvalidInBoth() throws {
        // "€" is E2 82 AC: the buffer as a whole is valid UTF-8, but neither element is.
        let f = try stringsFile(["XY", "Z"], patch: [UInt8(ascii: "X"): 0xE2, UInt8(ascii: "Y"): 0x82,
                                                     UInt8(ascii: "Z"): 0xAC])
        let s = try f.strings("a")
        XCTAssertEqual(s.utf8Storage, [0xE2, 0x82, 0xAC])
        let r = s.repairingInvalidUTF8()
        XCTAssertNotEqual(r, s)
        XCTAssertEqual(Array(r), Array(s))
        XCTAssertEqual(Array(r.utf8(0)), Array(s[0].utf8))
        XCTAssertEqual(Array(r.utf8(1)), Array(s[1].utf8))
    }

    func testTheValidatorAgreesWithTheStandardLibrary() {
        // Random short byte strings biased toward UTF-8's interesting bytes, against String(validating:).
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
                                    0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        var valid = 0
        for _ in 0..<50_000 {
            let n = Int(next() % 12)
            let bytes = (0..<n).map { _ in interesting[Int(next() % UInt64(interesting.count))] }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            if expected { valid += 1 }
            let got = bytes.withUnsafeBytes { isValidUTF8($0) }
            XCTAssertEqual(got, expected, "\(bytes.map { String($0, radix: 16) })")
            if got != expected { return }
        }
        XCTAssertGreaterThan(valid, 1000, "the sample must contain valid multi-byte strings too")
    }

    func testATruncatedArrayStillNamesWhatWasBeingRead() throws {
        var w = GGUFWriter()
        w.add("a", .array(.string(["first", "second"])))
        var bytes = w.bytes()
        bytes.removeLast(bytes.count - (try XCTUnwrap(bytes.lastIndex(of: UInt8(ascii: "s")))) - 2)
        XCTAssertThrowsError(try open(bytes)) { error in
            XCTAssertTrue("\(error)".contains("string in array 'a'"), "\(error)")
        }
    }
}
