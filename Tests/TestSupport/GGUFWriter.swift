import Foundation
import GGUF

/// Builds small GGUF files for tests: any metadata value (every type, nested arrays), v2 or v3, tensors laid out
/// at aligned offsets. Independent of the reader's code, so a round trip tests both.
public struct GGUFWriter {
    public struct Tensor {
        public var name: String
        public var dims: [Int]
        public var type: GGUFTensorType
        public var data: [UInt8]
        public init(name: String, dims: [Int], type: GGUFTensorType, data: [UInt8]) {
            self.name = name
            self.dims = dims
            self.type = type
            self.data = data
        }
    }

    public var version: UInt32
    /// Alignment used for padding; write a `general.alignment` u32 key yourself when it is not 32.
    public var alignment: Int
    public var metadata: [(key: String, value: GGUFValue)] = []
    public var tensors: [Tensor] = []

    public init(version: UInt32 = 3, alignment: Int = 32) {
        self.version = version
        self.alignment = alignment
    }

    public mutating func add(_ key: String, _ value: GGUFValue) {
        metadata.append((key, value))
    }

    /// Adds a tensor whose data is `data`, or deterministic filler bytes of the right size when nil.
    public mutating func addTensor(_ name: String, dims: [Int], type: GGUFTensorType, data: [UInt8]? = nil) {
        let elements = dims.reduce(1, *)
        let size = type.byteCount(elements: elements) ?? 0
        let bytes = data ?? (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ name.utf8.count) }
        tensors.append(Tensor(name: name, dims: dims, type: type, data: bytes))
    }

    /// Offsets of each tensor relative to the data section, as `bytes()` lays them out.
    public var tensorOffsets: [Int] {
        var offsets: [Int] = []
        var next = 0
        for t in tensors {
            offsets.append(next)
            next = Self.align(next + t.data.count, alignment)
        }
        return offsets
    }

    public func bytes() -> [UInt8] {
        var out: [UInt8] = Array("GGUF".utf8)
        out.appendLE(version)
        out.appendLE(UInt64(tensors.count))
        out.appendLE(UInt64(metadata.count))
        for (key, value) in metadata {
            out.appendGGUFString(key)
            out.appendLE(Self.typeID(of: value))
            Self.appendValue(value, to: &out)
        }
        let offsets = tensorOffsets
        for (t, offset) in zip(tensors, offsets) {
            out.appendGGUFString(t.name)
            out.appendLE(UInt32(t.dims.count))
            for d in t.dims { out.appendLE(UInt64(d)) }
            out.appendLE(t.type.rawValue)
            out.appendLE(UInt64(offset))
        }
        out.append(contentsOf: [UInt8](repeating: 0, count: Self.align(out.count, alignment) - out.count))
        let dataStart = out.count
        for (t, offset) in zip(tensors, offsets) {
            out.append(contentsOf: [UInt8](repeating: 0, count: dataStart + offset - out.count))
            out.append(contentsOf: t.data)
        }
        return out
    }

    public func write(to path: String) throws {
        try Data(bytes()).write(to: URL(fileURLWithPath: path))
    }

    static func align(_ n: Int, _ a: Int) -> Int { (n + a - 1) / a * a }

    /// gguf_type names in id order (0 = uint8 ... 12 = float64). GGUFValue and GGUFArray name their cases the same.
    static let typeNames = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string",
                            "array", "uint64", "int64", "float64"]

    public static func typeID(of value: GGUFValue) -> UInt32 { typeID(ofCase: value) }

    public static func typeID(of array: GGUFArray) -> UInt32 { typeID(ofCase: array) }

    /// Every case of both enums carries a payload, so the mirror's one child is labelled with the case name.
    private static func typeID(ofCase value: Any) -> UInt32 {
        guard let name = Mirror(reflecting: value).children.first?.label, let id = typeNames.firstIndex(of: name) else {
            preconditionFailure("\(value) is not a GGUFValue or GGUFArray case")
        }
        return UInt32(id)
    }

    /// The bytes of a value without its type id.
    public static func appendValue(_ value: GGUFValue, to out: inout [UInt8]) {
        switch value {
        case .uint8(let v): out.append(v)
        case .int8(let v): out.append(UInt8(bitPattern: v))
        case .uint16(let v): out.appendLE(v)
        case .int16(let v): out.appendLE(v)
        case .uint32(let v): out.appendLE(v)
        case .int32(let v): out.appendLE(v)
        case .float32(let v): out.appendLE(v.bitPattern)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let s): out.appendGGUFString(s)
        case .array(let a): appendArray(a, to: &out)
        case .uint64(let v): out.appendLE(v)
        case .int64(let v): out.appendLE(v)
        case .float64(let v): out.appendLE(v.bitPattern)
        }
    }

    /// u32 element type, u64 count, elements.
    public static func appendArray(_ array: GGUFArray, to out: inout [UInt8]) {
        out.appendLE(typeID(of: array))
        out.appendLE(UInt64(array.count))
        switch array {
        case .uint8(let a): out.append(contentsOf: a)
        case .int8(let a): a.forEach { out.append(UInt8(bitPattern: $0)) }
        case .uint16(let a): a.forEach { out.appendLE($0) }
        case .int16(let a): a.forEach { out.appendLE($0) }
        case .uint32(let a): a.forEach { out.appendLE($0) }
        case .int32(let a): a.forEach { out.appendLE($0) }
        case .float32(let a): a.forEach { out.appendLE($0.bitPattern) }
        case .bool(let a): a.forEach { out.append($0 ? 1 : 0) }
        case .string(let a): a.forEach { out.appendGGUFString($0) }
        case .array(let a): a.forEach { appendArray($0, to: &out) }
        case .uint64(let a): a.forEach { out.appendLE($0) }
        case .int64(let a): a.forEach { out.appendLE($0) }
        case .float64(let a): a.forEach { out.appendLE($0.bitPattern) }
        }
    }
}

extension Array where Element == UInt8 {
    public mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }

    /// u64 length + UTF-8 bytes.
    public mutating func appendGGUFString(_ s: String) {
        appendLE(UInt64(s.utf8.count))
        append(contentsOf: s.utf8)
    }

    /// Overwrites `T.bitWidth / 8` bytes at `offset` with `v` little-endian.
    public mutating func setLE<T: FixedWidthInteger>(_ v: T, at offset: Int) {
        Swift.withUnsafeBytes(of: v.littleEndian) { raw in
            for (i, b) in raw.enumerated() { self[offset + i] = b }
        }
    }

    public func readLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var v = T.zero
        Swift.withUnsafeMutableBytes(of: &v) { raw in
            for i in 0..<raw.count { raw[i] = self[offset + i] }
        }
        return T(littleEndian: v)
    }
}
