import XCTest
import GGUF
import TestSupport

final class MetadataAccessTests: GGUFTestCase {
    func makeFile() throws -> GGUFFile {
        var w = GGUFWriter()
        w.add("s", .string("text"))
        w.add("u8", .uint8(7))
        w.add("i16", .int16(-3))
        w.add("u64.big", .uint64(.max))
        w.add("i64", .int64(-5))
        w.add("f32", .float32(0.25))
        w.add("f64", .float64(0.5))
        w.add("b", .bool(true))
        w.add("strings", .array(.string(["x", "y"])))
        w.add("floats", .array(.float32([1, 2])))
        w.add("doubles", .array(.float64([3])))
        w.add("ints.u32", .array(.uint32([1, 2, 3])))
        w.add("ints.i8", .array(.int8([-1, 1])))
        w.add("ints.u64.big", .array(.uint64([1, .max])))
        return try open(w.bytes())
    }

    func testTypedGetters() throws {
        let f = try makeFile()
        XCTAssertEqual(try f.string("s"), "text")
        XCTAssertEqual(try f.int("u8"), 7)
        XCTAssertEqual(try f.int("i16"), -3)
        XCTAssertEqual(try f.int("i64"), -5)
        XCTAssertEqual(try f.float("f32"), 0.25)
        XCTAssertEqual(try f.float("f64"), 0.5)
        XCTAssertEqual(try f.float("u8"), 7)  // integers are accepted as floats
        XCTAssertEqual(try f.bool("b"), true)
        XCTAssertEqual(try f.stringArray("strings"), ["x", "y"])
        XCTAssertEqual(try f.floatArray("floats"), [1, 2])
        XCTAssertEqual(try f.floatArray("doubles"), [3])
        XCTAssertEqual(try f.intArray("ints.u32"), [1, 2, 3])
        XCTAssertEqual(try f.intArray("ints.i8"), [-1, 1])
    }

    func testOptionalGettersReturnNilForMissingKeys() throws {
        let f = try makeFile()
        XCTAssertNil(try f.optionalString("nope"))
        XCTAssertNil(try f.optionalInt("nope"))
        XCTAssertNil(try f.optionalFloat("nope"))
        XCTAssertNil(try f.optionalBool("nope"))
        XCTAssertNil(try f.optionalStringArray("nope"))
        XCTAssertNil(try f.optionalFloatArray("nope"))
        XCTAssertNil(try f.optionalIntArray("nope"))
        XCTAssertEqual(try f.optionalInt("u8"), 7)
        XCTAssertEqual(try f.optionalString("s"), "text")
    }

    func testMissingKeyNamesTheKey() throws {
        let f = try makeFile()
        XCTAssertThrowsError(try f.string("llama.block_count")) { error in
            XCTAssertEqual(error as? GGUFError, .missingKey("llama.block_count"))
            XCTAssertEqual("\(error)", "missing metadata key 'llama.block_count'")
        }
        XCTAssertThrowsError(try f.int("x")) { XCTAssertEqual($0 as? GGUFError, .missingKey("x")) }
        XCTAssertThrowsError(try f.float("x")) { XCTAssertEqual($0 as? GGUFError, .missingKey("x")) }
        XCTAssertThrowsError(try f.bool("x")) { XCTAssertEqual($0 as? GGUFError, .missingKey("x")) }
        XCTAssertThrowsError(try f.stringArray("x")) { XCTAssertEqual($0 as? GGUFError, .missingKey("x")) }
        XCTAssertThrowsError(try f.floatArray("x")) { XCTAssertEqual($0 as? GGUFError, .missingKey("x")) }
        XCTAssertThrowsError(try f.intArray("x")) { XCTAssertEqual($0 as? GGUFError, .missingKey("x")) }
    }

    func testWrongTypeNamesKeyAndTypes() throws {
        let f = try makeFile()
        XCTAssertThrowsError(try f.int("s")) { error in
            XCTAssertEqual(error as? GGUFError, .wrongType(key: "s", expected: "integer", actual: "string"))
            XCTAssertEqual("\(error)", "metadata key 's' has type string, expected integer")
        }
        XCTAssertThrowsError(try f.string("u8")) {
            XCTAssertEqual($0 as? GGUFError, .wrongType(key: "u8", expected: "string", actual: "u8"))
        }
        XCTAssertThrowsError(try f.float("s")) {
            XCTAssertEqual($0 as? GGUFError, .wrongType(key: "s", expected: "float", actual: "string"))
        }
        XCTAssertThrowsError(try f.bool("u8")) {
            XCTAssertEqual($0 as? GGUFError, .wrongType(key: "u8", expected: "bool", actual: "u8"))
        }
        XCTAssertThrowsError(try f.stringArray("floats")) {
            XCTAssertEqual($0 as? GGUFError, .wrongType(key: "floats", expected: "array<string>", actual: "array<f32>"))
        }
        XCTAssertThrowsError(try f.floatArray("ints.u32")) {
            XCTAssertEqual($0 as? GGUFError, .wrongType(key: "ints.u32", expected: "array<f32>", actual: "array<u32>"))
        }
        XCTAssertThrowsError(try f.intArray("strings")) {
            XCTAssertEqual($0 as? GGUFError, .wrongType(key: "strings", expected: "array of integers",
                                                        actual: "array<string>"))
        }
        // The optional forms still reject a present key of the wrong type.
        XCTAssertThrowsError(try f.optionalInt("s"))
        XCTAssertThrowsError(try f.optionalStringArray("s"))
    }

    func testIntegersOutOfRange() throws {
        let f = try makeFile()
        XCTAssertThrowsError(try f.int("u64.big")) {
            XCTAssertEqual($0 as? GGUFError, .valueOutOfRange(key: "u64.big", value: "18446744073709551615"))
        }
        XCTAssertThrowsError(try f.intArray("ints.u64.big")) {
            XCTAssertEqual($0 as? GGUFError, .valueOutOfRange(key: "ints.u64.big[1]", value: "18446744073709551615"))
        }
    }
}
