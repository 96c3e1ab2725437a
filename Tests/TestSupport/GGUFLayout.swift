import Foundation

/// Byte positions of every field in the header of a (well-formed) GGUF file, found by a scanner separate from the
/// GGUF target's parser, so the malformed corpus can patch bytes precisely. Offsets are absolute file positions.
public struct GGUFLayout {
    public struct KV {
        public var key: String
        /// Position of the key's u64 length (the entry starts here).
        public var start: Int
        public var valueTypeOffset: Int
        public var valueType: UInt32
        /// Position of the value (for an array: its u32 element type, then u64 count at +4, elements at +12).
        public var valueOffset: Int
        public var end: Int
    }

    public struct TensorEntry {
        public var name: String
        public var start: Int
        public var nDimsOffset: Int
        public var dimsOffset: Int
        public var dims: [UInt64]
        public var typeOffset: Int
        public var type: UInt32
        public var offsetOffset: Int
        public var offset: UInt64
        public var end: Int
    }

    public struct ScanError: Error, CustomStringConvertible {
        public let description: String
        var ranOut = false
    }

    public var version: UInt32
    public var kvs: [KV] = []
    public var tensorInfos: [TensorEntry] = []
    public var headerEnd: Int = 0
    public var alignment: Int = 32
    public var dataOffset: Int = 0
    public var fileSize: Int
    /// The header bytes [0, headerEnd).
    public var header: [UInt8]

    public static let tensorCountOffset = 8
    public static let kvCountOffset = 16
    public static let firstKVOffset = 24

    /// Reads the header of the file at `path`, reading a larger prefix until the header fits.
    public init(path: String) throws {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let size = Int(try handle.seekToEnd())
        var length = min(size, 4 << 20)
        while true {
            try handle.seek(toOffset: 0)
            let prefix = [UInt8](try handle.read(upToCount: length) ?? Data())
            do {
                try self.init(prefix: prefix, fileSize: size)
                return
            } catch let error as ScanError where error.ranOut && length < size {
                length = min(size, length * 4)
            }
        }
    }

    public init(prefix bytes: [UInt8], fileSize: Int) throws {
        self.fileSize = fileSize
        var at = 0
        func need(_ n: Int) throws {
            guard n >= 0, at + n <= bytes.count else { throw ScanError(description: "header scan ran out at \(at)", ranOut: true) }
        }
        func u32() throws -> UInt32 { try need(4); defer { at += 4 }; return bytes.readLE(UInt32.self, at: at) }
        func u64() throws -> UInt64 { try need(8); defer { at += 8 }; return bytes.readLE(UInt64.self, at: at) }
        func string() throws -> String {
            let n = try u64()
            guard n < UInt64(bytes.count) else { throw ScanError(description: "string length \(n) at \(at - 8)", ranOut: true) }
            try need(Int(n))
            defer { at += Int(n) }
            return String(decoding: bytes[at..<at + Int(n)], as: UTF8.self)
        }
        func skipValue(_ type: UInt32) throws {
            switch type {
            case 0, 1, 7: try need(1); at += 1
            case 2, 3: try need(2); at += 2
            case 4, 5, 6: try need(4); at += 4
            case 10, 11, 12: try need(8); at += 8
            case 8: _ = try string()
            case 9:
                let elementType = try u32()
                let count = try u64()
                guard count < UInt64(bytes.count) else { throw ScanError(description: "array count \(count)", ranOut: true) }
                for _ in 0..<Int(count) { try skipValue(elementType) }
            default: throw ScanError(description: "value type \(type) at \(at)")
            }
        }

        try need(24)
        guard Array(bytes[0..<4]) == Array("GGUF".utf8) else { throw ScanError(description: "bad magic") }
        version = bytes.readLE(UInt32.self, at: 4)
        let tensorCount = Int(bytes.readLE(UInt64.self, at: Self.tensorCountOffset))
        let kvCount = Int(bytes.readLE(UInt64.self, at: Self.kvCountOffset))
        at = Self.firstKVOffset
        for _ in 0..<kvCount {
            let start = at
            let key = try string()
            let typeOffset = at
            let type = try u32()
            let valueOffset = at
            try skipValue(type)
            kvs.append(KV(key: key, start: start, valueTypeOffset: typeOffset, valueType: type,
                          valueOffset: valueOffset, end: at))
            if key == "general.alignment", type == 4 { alignment = Int(bytes.readLE(UInt32.self, at: valueOffset)) }
        }
        for _ in 0..<tensorCount {
            let start = at
            let name = try string()
            let nDimsOffset = at
            let nDims = try u32()
            let dimsOffset = at
            var dims: [UInt64] = []
            for _ in 0..<nDims { dims.append(try u64()) }
            let typeOffset = at
            let type = try u32()
            let offsetOffset = at
            let offset = try u64()
            tensorInfos.append(TensorEntry(name: name, start: start, nDimsOffset: nDimsOffset, dimsOffset: dimsOffset,
                                           dims: dims, typeOffset: typeOffset, type: type, offsetOffset: offsetOffset,
                                           offset: offset, end: at))
        }
        headerEnd = at
        dataOffset = (at + alignment - 1) / alignment * alignment
        header = Array(bytes[0..<at])
    }

    public func kv(_ key: String) -> KV? { kvs.first { $0.key == key } }
    public func tensor(_ name: String) -> TensorEntry? { tensorInfos.first { $0.name == name } }
}
