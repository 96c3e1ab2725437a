/// Everything that can go wrong opening a GGUF file or reading its metadata. Each case carries the facts (byte
/// offsets are absolute positions in the file); `description` is one line naming the position, key or tensor.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
    // Opening the file.
    case cannotOpen(path: String, reason: String)
    case notARegularFile(path: String)
    case cannotMap(path: String, reason: String)

    // Structure of the header.
    /// The file ends inside `what`, which needs `needed` bytes at `offset`.
    case truncated(what: String, offset: Int, needed: Int, fileSize: Int)
    case badMagic(found: [UInt8])
    case unsupportedVersion(UInt32)
    /// A count (tensor_count, kv_count) whose entries cannot fit: each needs at least `minimumEntrySize` bytes.
    case implausibleCount(what: String, count: UInt64, offset: Int, minimumEntrySize: Int, remaining: Int)
    /// A string length or array count (at `offset`) that claims more bytes than remain in the file.
    case lengthPastEnd(what: String, length: UInt64, offset: Int, minimumElementSize: Int, remaining: Int)
    case unknownValueType(key: String, type: UInt32, offset: Int)
    case arrayTooDeep(key: String, depth: Int, offset: Int)
    case invalidBool(key: String, byte: UInt8, offset: Int)
    case duplicateKey(String, offset: Int)
    /// `general.alignment` is not a nonzero power of two stored as u32; `value` describes what was found.
    case invalidAlignment(value: String)

    // The tensor table.
    case duplicateTensor(name: String, offset: Int)
    case invalidDimensionCount(tensor: String, nDims: UInt32)
    case invalidDimension(tensor: String, index: Int, value: UInt64)
    case unknownTensorType(tensor: String, type: UInt32)
    /// The element count or byte size of a tensor with these dims overflows.
    case tensorSizeOverflow(tensor: String, dims: [UInt64])
    case rowNotMultipleOfBlock(tensor: String, rowLength: Int, type: String, blockSize: Int)
    case misalignedTensorOffset(tensor: String, offset: UInt64, alignment: Int)
    /// The tensor's data `[start, end)` (absolute; `end` is nil when it overflows) is not inside the file.
    case tensorOutOfBounds(tensor: String, start: Int, end: Int?, fileSize: Int)
    case tensorsOverlap(first: String, second: String, firstEnd: Int, secondStart: Int)
    case dataSectionPastEnd(dataOffset: Int, fileSize: Int)

    // Typed metadata access.
    case missingKey(String)
    case wrongType(key: String, expected: String, actual: String)
    /// An integer value (or array element) that does not fit the requested Swift type.
    case valueOutOfRange(key: String, value: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open '\(path)': \(reason)"
        case let .notARegularFile(path):
            return "'\(path)' is not a regular file"
        case let .cannotMap(path, reason):
            return "cannot map '\(path)' into memory: \(reason)"
        case let .truncated(what, offset, needed, fileSize):
            return "file ends while reading \(what): \(needed) bytes needed at offset \(offset), file is \(fileSize) bytes"
        case let .badMagic(found):
            let text = String(decoding: found.map { ($0 >= 0x20 && $0 < 0x7f) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
            return "not a GGUF file: magic is '\(text)' (bytes \(found)), expected 'GGUF'"
        case let .unsupportedVersion(version):
            if version == 1 { return "GGUF version 1 is not supported (only versions 2 and 3)" }
            if version.byteSwapped == 2 || version.byteSwapped == 3 {
                return "GGUF version \(version) is not supported: this looks like a big-endian file"
            }
            return "GGUF version \(version) is not supported (only versions 2 and 3)"
        case let .implausibleCount(what, count, offset, minimumEntrySize, remaining):
            return "\(what) \(count) at offset \(offset) cannot fit: each entry needs at least \(minimumEntrySize) bytes "
                + "and only \(remaining) bytes remain"
        case let .lengthPastEnd(what, length, offset, minimumElementSize, remaining):
            return "\(what) \(length) at offset \(offset) runs past the end of the file "
                + "(at least \(minimumElementSize) byte(s) each, \(remaining) bytes remain)"
        case let .unknownValueType(key, type, offset):
            return "key '\(key)': unknown value type \(type) at offset \(offset)"
        case let .arrayTooDeep(key, depth, offset):
            return "key '\(key)': arrays nested deeper than \(depth) levels at offset \(offset)"
        case let .invalidBool(key, byte, offset):
            return "key '\(key)': bool byte \(byte) at offset \(offset) is neither 0 nor 1"
        case let .duplicateKey(key, offset):
            return "duplicate metadata key '\(key)' at offset \(offset)"
        case let .invalidAlignment(value):
            return "general.alignment must be a nonzero power of two stored as u32, found \(value)"
        case let .duplicateTensor(name, offset):
            return "duplicate tensor name '\(name)' at offset \(offset)"
        case let .invalidDimensionCount(tensor, nDims):
            return "tensor '\(tensor)' has \(nDims) dimensions (1...4 allowed)"
        case let .invalidDimension(tensor, index, value):
            return "tensor '\(tensor)' dimension \(index) is \(value) (must be 1...\(Int.max))"
        case let .unknownTensorType(tensor, type):
            return "tensor '\(tensor)' has unknown ggml type \(type)"
        case let .tensorSizeOverflow(tensor, dims):
            return "tensor '\(tensor)' with dims \(dims) is too large: its size overflows"
        case let .rowNotMultipleOfBlock(tensor, rowLength, type, blockSize):
            return "tensor '\(tensor)' row length \(rowLength) is not a multiple of the \(type) block size \(blockSize)"
        case let .misalignedTensorOffset(tensor, offset, alignment):
            return "tensor '\(tensor)' offset \(offset) is not a multiple of the alignment \(alignment)"
        case let .tensorOutOfBounds(tensor, start, end, fileSize):
            let endText = end.map { String($0) } ?? "overflow"
            return "tensor '\(tensor)' data [\(start), \(endText)) ends past the end of the file (\(fileSize) bytes)"
        case let .tensorsOverlap(first, second, firstEnd, secondStart):
            return "tensors '\(first)' and '\(second)' overlap: '\(second)' starts at \(secondStart) "
                + "before '\(first)' ends at \(firstEnd)"
        case let .dataSectionPastEnd(dataOffset, fileSize):
            return "tensor data section starts at \(dataOffset), past the end of the file (\(fileSize) bytes)"
        case let .missingKey(key):
            return "missing metadata key '\(key)'"
        case let .wrongType(key, expected, actual):
            return "metadata key '\(key)' has type \(actual), expected \(expected)"
        case let .valueOutOfRange(key, value):
            return "metadata key '\(key)': value \(value) is out of range"
        }
    }
}
