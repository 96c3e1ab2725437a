import Foundation
import XCTest

@testable import ModelStore

final class SHA256Tests: XCTestCase {
    /// FIPS 180-4 example vectors (NIST CSRC "SHA256.pdf" and the SHS validation examples).
    func testKnownVectors() {
        XCTAssertEqual(
            SHA256.hexDigest([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(
            SHA256.hexDigest(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            SHA256.hexDigest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(
            SHA256.hexDigest(Array(("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                + "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu").utf8)),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(
            SHA256.hexDigest(Array(repeating: UInt8(ascii: "a"), count: 1_000_000)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Feeding the same bytes in pieces of any size gives the digest of feeding them at once; the piece sizes cross
    /// the 55/56/64-byte padding and block boundaries.
    func testIncrementalUpdatesMatchOneShot() {
        var generator = SplitMix64(seed: 7)
        let bytes = (0..<1000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000] {
            let message = Array(bytes[0..<length])
            let expected = SHA256.hexDigest(message)
            for piece in [1, 3, 7, 63, 64, 65] {
                var hasher = SHA256()
                var start = 0
                while start < message.count {
                    let end = min(start + piece, message.count)
                    hasher.update(Array(message[start..<end]))
                    start = end
                }
                XCTAssertEqual(SHA256.hex(hasher.finalize()), expected, "length \(length), pieces of \(piece)")
            }
        }
    }

    /// A file larger than one 4 MB read chunk hashes to what coreutils' sha256sum says.
    func testFileDigestMatchesSha256sum() throws {
        let sha256sum = "/usr/bin/sha256sum"
        guard FileManager.default.isExecutableFile(atPath: sha256sum) else { throw XCTSkip("no \(sha256sum)") }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("slm-sha-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        // A 4099-byte random block (not a divisor of 64 or of the chunk size) repeated past 4 MB.
        let block = Data(randomBytes(4099, seed: 42))
        var data = Data()
        while data.count < (4 << 20) + 12_345 { data.append(block) }
        try data.write(to: url)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: sha256sum)
        process.arguments = [url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let expected = String(output.prefix(64))

        XCTAssertEqual(try SHA256.hexDigest(ofFile: url.path), expected)
    }

    func testFileDigestOfMissingFileThrows() {
        XCTAssertThrowsError(try SHA256.hexDigest(ofFile: "/nonexistent/slm-sha-test")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/slm-sha-test"))
        }
    }
}

/// A small deterministic generator for test data.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
