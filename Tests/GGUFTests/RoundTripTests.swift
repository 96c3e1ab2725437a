import XCTest
import GGUF
import TestSupport

/// Files built by TestSupport's GGUFWriter read back exactly.
final class RoundTripTests: GGUFTestCase {
    static let everyValue: [(String, GGUFValue)] = [
        ("t.u8", .uint8(250)),
        ("t.i8", .int8(-100)),
        ("t.u16", .uint16(65_000)),
        ("t.i16", .int16(-32_000)),
        ("t.u32", .uint32(4_000_000_000)),
        ("t.i32", .int32(-2_000_000_000)),
        ("t.f32", .float32(-1.5e-7)),
        ("t.bool.true", .bool(true)),
        ("t.bool.false", .bool(false)),
        ("t.string", .string("héllo ✓ 🦙")),
        ("t.string.empty", .string("")),
        ("t.u64", .uint64(.max)),
        ("t.i64", .int64(.min)),
        ("t.f64", .float64(3.141592653589793)),
        ("a.u8", .array(.uint8([0, 1, 255]))),
        ("a.i8", .array(.int8([-128, 0, 127]))),
        ("a.u16", .array(.uint16([1, 65535]))),
        ("a.i16", .array(.int16([-32768, 32767]))),
        ("a.u32", .array(.uint32([7, .max]))),
        ("a.i32", .array(.int32([.min, -1, 0, .max]))),
        ("a.f32", .array(.float32([0, -0.5, .infinity, 1e30]))),
        ("a.bool", .array(.bool([true, false, true]))),
        ("a.string", .array(.string(["", "x", "ünïcödé", String(repeating: "long ", count: 100)]))),
        ("a.u64", .array(.uint64([0, .max]))),
        ("a.i64", .array(.int64([.min, .max]))),
        ("a.f64", .array(.float64([1e300, -2.5]))),
        ("a.empty", .array(.uint32([]))),
        ("a.nested", .array(.array([.int32([1, 2]), .string(["a"]), .array([.float32([1]), .bool([])])]))),
        ("a.nested.empty", .array(.array([]))),
    ]

    func roundTrip(version: UInt32) throws {
        var w = GGUFWriter(version: version, alignment: 64)
        w.add("general.alignment", .uint32(64))
        for (k, v) in Self.everyValue { w.add(k, v) }
        w.addTensor("a.f32", dims: [3], type: .f32)
        w.addTensor("b.q4_k", dims: [256, 2, 3], type: .q4_K)
        w.addTensor("c.q6_k", dims: [512, 1, 1, 2], type: .q6_K)
        w.addTensor("d.f16", dims: [5, 7], type: .f16)
        w.addTensor("e.iq4_nl", dims: [32, 3], type: .iq4_nl)
        w.addTensor("f.bf16", dims: [1], type: .bf16)
        let f = try open(w.bytes())

        XCTAssertEqual(f.version, version)
        XCTAssertEqual(f.alignment, 64)
        XCTAssertEqual(f.metadataKeys, ["general.alignment"] + Self.everyValue.map(\.0))
        for (k, v) in Self.everyValue { XCTAssertEqual(f.metadata[k], v, k) }
        XCTAssertEqual(f.dataOffset % 64, 0)

        XCTAssertEqual(f.tensors.map(\.name), w.tensors.map(\.name))
        for (t, (written, offset)) in zip(f.tensors, zip(w.tensors, w.tensorOffsets)) {
            XCTAssertEqual(t.dims, written.dims, t.name)
            XCTAssertEqual(t.type, written.type, t.name)
            XCTAssertEqual(t.offset, offset, t.name)
            XCTAssertEqual(t.byteCount, written.data.count, t.name)
            XCTAssertEqual(t.elementCount, written.dims.reduce(1, *), t.name)
            XCTAssertEqual(Array(f.bytes(of: t)), written.data, t.name)
        }
        let q4k = try XCTUnwrap(f.tensor(named: "b.q4_k"))
        XCTAssertEqual(q4k.byteCount, 6 * 144)  // 6 rows of one 256-element Q4_K block
        XCTAssertEqual(q4k.rowCount, 6)
    }

    func testRoundTripV3() throws { try roundTrip(version: 3) }
    func testRoundTripV2() throws { try roundTrip(version: 2) }

    func testDefaultAlignmentAndNoTensors() throws {
        var w = GGUFWriter()
        w.add("k", .uint8(1))
        let f = try open(w.bytes())
        XCTAssertEqual(f.alignment, 32)
        XCTAssertTrue(f.tensors.isEmpty)
        // header = 24 + key (8 + 1) + type 4 + value 1 = 38 bytes, padded to 64
        XCTAssertEqual(f.dataOffset, 64)
        XCTAssertEqual(f.fileSize, 64)
    }

    func testInvalidUTF8IsRepaired() throws {
        var w = GGUFWriter()
        w.add("k", .string("aXb"))
        var bytes = w.bytes()
        let x = try XCTUnwrap(bytes.lastIndex(of: UInt8(ascii: "X")))
        bytes[x] = 0xFF
        let f = try open(bytes)
        XCTAssertEqual(try f.string("k"), "a\u{FFFD}b")
    }

    func testEveryKnownTensorTypeSizeValidates() throws {
        var w = GGUFWriter()
        for t in GGUFTensorType.allKnown {
            w.addTensor("t\(t.rawValue)", dims: [t.blockSize * 2, 3], type: t)
        }
        let f = try open(w.bytes())
        XCTAssertEqual(f.tensors.count, GGUFTensorType.allKnown.count)
        for t in f.tensors { XCTAssertEqual(t.byteCount, 6 * t.type.typeSize, t.name) }
        XCTAssertEqual(GGUFTensorType.q4_K.description, "Q4_K")
        XCTAssertEqual(GGUFTensorType.bf16.description, "BF16")
        XCTAssertEqual(GGUFTensorType(rawValue: 4).description, "type 4")
        XCTAssertFalse(GGUFTensorType(rawValue: 4).isKnown)
        XCTAssertEqual(GGUFTensorType.q8_0.blockSize, 32)
        XCTAssertEqual(GGUFTensorType.q8_0.typeSize, 34)
        XCTAssertEqual(GGUFTensorType.q6_K.typeSize, 210)
    }
}
