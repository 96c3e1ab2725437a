/// What the header of a GGUF file says, validated. Layout (little-endian):
///   magic "GGUF" | u32 version | u64 tensor_count | u64 kv_count
///   kv_count x  (string key | u32 value type | value)
///   tensor_count x (string name | u32 n_dims | n_dims x u64 ne | u32 ggml type | u64 offset)
///   padding to `alignment` | tensor data
/// where a string is u64 length + UTF-8 bytes and an array is u32 element type + u64 count + elements.
struct GGUFHeader {
    var version: UInt32 = 0
    var alignment: Int = GGUFParser.defaultAlignment
    var dataOffset: Int = 0
    var metadata: [String: GGUFValue] = [:]
    var metadataKeys: [String] = []
    var tensors: [GGUFTensorInfo] = []
}

enum GGUFParser {
    static let defaultAlignment = 32
    /// Arrays of arrays deeper than this are rejected (the format allows nesting; no model needs more than one level).
    static let maxArrayDepth = 8
    static let maxDims = 4
    /// Fewest bytes of a metadata entry: u64 key length, u32 type, a 1-byte value.
    static let minimumKVSize = 8 + 4 + 1
    /// Fewest bytes of a tensor info: u64 name length, u32 n_dims, one u64 dim, u32 type, u64 offset.
    static let minimumTensorInfoSize = 8 + 4 + 8 + 4 + 8

    static func parse(base: UnsafeRawPointer?, size: Int) throws(GGUFError) -> GGUFHeader {
        var c = GGUFCursor(base: base, size: size)
        var header = GGUFHeader()

        let magic = try c.bytes(4, "magic")
        guard Array(magic) == Array("GGUF".utf8) else { throw .badMagic(found: Array(magic)) }
        header.version = try c.u32("version")
        guard header.version == 2 || header.version == 3 else { throw .unsupportedVersion(header.version) }

        let tensorCountAt = c.offset
        let tensorCountRaw = try c.u64("tensor_count")
        let kvCountAt = c.offset
        let kvCountRaw = try c.u64("kv_count")
        // Every entry takes a minimum number of bytes, so the counts are bounded by what remains.
        guard tensorCountRaw <= UInt64(c.remaining / minimumTensorInfoSize) else {
            throw .implausibleCount(what: "tensor_count", count: tensorCountRaw, offset: tensorCountAt,
                                    minimumEntrySize: minimumTensorInfoSize, remaining: c.remaining)
        }
        let tensorCount = Int(tensorCountRaw)
        let afterTensors = c.remaining - tensorCount * minimumTensorInfoSize  // cannot overflow: checked above
        guard kvCountRaw <= UInt64(afterTensors / minimumKVSize) else {
            throw .implausibleCount(what: "kv_count", count: kvCountRaw, offset: kvCountAt,
                                    minimumEntrySize: minimumKVSize, remaining: afterTensors)
        }
        let kvCount = Int(kvCountRaw)

        header.metadataKeys.reserveCapacity(kvCount)
        for index in 0..<kvCount {
            let keyAt = c.offset
            let key = try c.string("key of metadata entry \(index)")
            guard header.metadata[key] == nil else { throw .duplicateKey(key, offset: keyAt) }
            let value = try readValue(key: key, cursor: &c)
            header.metadata[key] = value
            header.metadataKeys.append(key)
        }

        if let value = header.metadata["general.alignment"] {
            guard case .uint32(let a) = value, a != 0, a & (a - 1) == 0 else {
                throw .invalidAlignment(value: "\(value.typeName) \(value)")
            }
            header.alignment = Int(a)
        }

        var names = Set<String>()
        var rawOffsets: [UInt64] = []
        header.tensors.reserveCapacity(tensorCount)
        rawOffsets.reserveCapacity(tensorCount)
        for index in 0..<tensorCount {
            let nameAt = c.offset
            let name = try c.string("name of tensor \(index)")
            guard names.insert(name).inserted else { throw .duplicateTensor(name: name, offset: nameAt) }
            let (info, rawOffset) = try readTensorInfo(name: name, cursor: &c)
            header.tensors.append(info)
            rawOffsets.append(rawOffset)
        }

        // The data section starts at the end of the header rounded up to the alignment.
        let headerEnd = c.offset
        let (padded, overflow) = headerEnd.addingReportingOverflow(header.alignment - 1)
        guard !overflow else { throw .dataSectionPastEnd(dataOffset: Int.max, fileSize: size) }
        header.dataOffset = padded - padded % header.alignment
        // A file without tensors (a vocab-only file such as llama.cpp's models/ggml-vocab-*.gguf) has an empty data
        // section, and its writer need not pad the header out to the alignment.
        if tensorCount == 0 { header.dataOffset = min(header.dataOffset, size) }
        guard header.dataOffset <= size else {
            throw .dataSectionPastEnd(dataOffset: header.dataOffset, fileSize: size)
        }

        try placeTensors(&header, rawOffsets: rawOffsets, fileSize: size)
        return header
    }

    private static func readValue(key: String, cursor c: inout GGUFCursor) throws(GGUFError) -> GGUFValue {
        let typeAt = c.offset
        let rawType = try c.u32("value type of '\(key)'")
        guard let type = GGUFValueTypeID(rawValue: rawType) else {
            throw .unknownValueType(key: key, type: rawType, offset: typeAt)
        }
        let what = "value of '\(key)'"
        switch type {
        case .uint8: return .uint8(try c.u8(what))
        case .int8: return .int8(Int8(bitPattern: try c.u8(what)))
        case .uint16: return .uint16(try c.u16(what))
        case .int16: return .int16(Int16(bitPattern: try c.u16(what)))
        case .uint32: return .uint32(try c.u32(what))
        case .int32: return .int32(Int32(bitPattern: try c.u32(what)))
        case .float32: return .float32(Float(bitPattern: try c.u32(what)))
        case .bool:
            let at = c.offset
            let byte = try c.u8(what)
            guard byte <= 1 else { throw .invalidBool(key: key, byte: byte, offset: at) }
            return .bool(byte == 1)
        case .string: return .string(try c.string(what))
        case .array: return .array(try readArray(key: key, cursor: &c, depth: 1))
        case .uint64: return .uint64(try c.u64(what))
        case .int64: return .int64(Int64(bitPattern: try c.u64(what)))
        case .float64: return .float64(Double(bitPattern: try c.u64(what)))
        }
    }

    private static func readArray(key: String, cursor c: inout GGUFCursor, depth: Int) throws(GGUFError) -> GGUFArray {
        let typeAt = c.offset
        let rawType = try c.u32("element type of array '\(key)'")
        guard let type = GGUFValueTypeID(rawValue: rawType) else {
            throw .unknownValueType(key: key, type: rawType, offset: typeAt)
        }
        let n = try c.count("element count of array '\(key)'", minimumElementSize: type.minimumSize)
        let what = "elements of array '\(key)'"
        switch type {
        case .uint8: return .uint8(try c.array(of: UInt8.self, n, what))
        case .int8: return .int8(try c.array(of: Int8.self, n, what))
        case .uint16: return .uint16(try c.array(of: UInt16.self, n, what))
        case .int16: return .int16(try c.array(of: Int16.self, n, what))
        case .uint32: return .uint32(try c.array(of: UInt32.self, n, what))
        case .int32: return .int32(try c.array(of: Int32.self, n, what))
        case .float32: return .float32(try c.floats(n, what))
        case .uint64: return .uint64(try c.array(of: UInt64.self, n, what))
        case .int64: return .int64(try c.array(of: Int64.self, n, what))
        case .float64: return .float64(try c.doubles(n, what))
        case .bool:
            let at = c.offset
            let bytes = try c.array(of: UInt8.self, n, what)
            if let bad = bytes.firstIndex(where: { $0 > 1 }) {
                throw .invalidBool(key: key, byte: bytes[bad], offset: at + bad)
            }
            return .bool(bytes.map { $0 == 1 })
        case .string:
            return .string(try GGUFStrings.read(n, cursor: &c, "string in array '\(key)'"))
        case .array:
            guard depth < maxArrayDepth else { throw .arrayTooDeep(key: key, depth: maxArrayDepth, offset: typeAt) }
            var arrays = [GGUFArray]()
            arrays.reserveCapacity(n)
            for _ in 0..<n { arrays.append(try readArray(key: key, cursor: &c, depth: depth + 1)) }
            return .array(arrays)
        }
    }

    /// Reads n_dims, the dims, the type and the offset of one tensor; checks shape, type and size (not placement).
    private static func readTensorInfo(name: String, cursor c: inout GGUFCursor)
        throws(GGUFError) -> (GGUFTensorInfo, rawOffset: UInt64)
    {
        let nDims = try c.u32("n_dims of tensor '\(name)'")
        guard nDims >= 1, nDims <= maxDims else { throw .invalidDimensionCount(tensor: name, nDims: nDims) }
        var rawDims = [UInt64]()
        for i in 0..<Int(nDims) { rawDims.append(try c.u64("dimension \(i) of tensor '\(name)'")) }
        for (i, d) in rawDims.enumerated() where d == 0 || d > UInt64(Int.max) {
            throw .invalidDimension(tensor: name, index: i, value: d)
        }
        let dims = rawDims.map { Int($0) }
        let rawType = try c.u32("type of tensor '\(name)'")
        let type = GGUFTensorType(rawValue: rawType)
        guard type.isKnown else { throw .unknownTensorType(tensor: name, type: rawType) }
        let rawOffset = try c.u64("offset of tensor '\(name)'")

        var elements = 1
        for d in dims {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .tensorSizeOverflow(tensor: name, dims: rawDims) }
            elements = product
        }
        guard dims[0] % type.blockSize == 0 else {
            throw .rowNotMultipleOfBlock(tensor: name, rowLength: dims[0], type: type.description,
                                         blockSize: type.blockSize)
        }
        guard let bytes = type.byteCount(elements: elements) else {
            throw .tensorSizeOverflow(tensor: name, dims: rawDims)
        }
        let info = GGUFTensorInfo(name: name, dims: dims, type: type, offset: 0, byteCount: bytes,
                                  elementCount: elements)
        return (info, rawOffset)
    }

    /// Checks each tensor's offset (aligned, data inside the file) and that no two tensors overlap; sets `offset`.
    private static func placeTensors(_ header: inout GGUFHeader, rawOffsets: [UInt64], fileSize: Int)
        throws(GGUFError)
    {
        let alignment = header.alignment
        for i in header.tensors.indices {
            let name = header.tensors[i].name
            let raw = rawOffsets[i]
            guard raw % UInt64(alignment) == 0 else {
                throw .misalignedTensorOffset(tensor: name, offset: raw, alignment: alignment)
            }
            guard raw <= UInt64(Int.max) else {
                throw .tensorOutOfBounds(tensor: name, start: Int.max, end: nil, fileSize: fileSize)
            }
            let (start, o1) = header.dataOffset.addingReportingOverflow(Int(raw))
            guard !o1 else { throw .tensorOutOfBounds(tensor: name, start: Int.max, end: nil, fileSize: fileSize) }
            let (end, o2) = start.addingReportingOverflow(header.tensors[i].byteCount)
            guard !o2, end <= fileSize else {
                throw .tensorOutOfBounds(tensor: name, start: start, end: o2 ? nil : end, fileSize: fileSize)
            }
            header.tensors[i].offset = Int(raw)
        }
        let byStart = header.tensors.sorted { $0.offset < $1.offset }
        for (a, b) in zip(byStart, byStart.dropFirst()) where a.offset + a.byteCount > b.offset {
            // Both ends were checked to lie inside the file, so the sums cannot overflow.
            throw .tensorsOverlap(first: a.name, second: b.name, firstEnd: header.dataOffset + a.offset + a.byteCount,
                                  secondStart: header.dataOffset + b.offset)
        }
    }
}
