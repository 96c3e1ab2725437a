/// One metadata value. Case order follows the on-disk type ids (gguf_type: 0 = uint8 ... 12 = float64).
public enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// "u32", "string", "array<string>", ... as used in error messages.
    public var typeName: String {
        switch self {
        case .uint8: return "u8"
        case .int8: return "i8"
        case .uint16: return "u16"
        case .int16: return "i16"
        case .uint32: return "u32"
        case .int32: return "i32"
        case .float32: return "f32"
        case .bool: return "bool"
        case .string: return "string"
        case .array(let a): return "array<\(a.elementTypeName)>"
        case .uint64: return "u64"
        case .int64: return "i64"
        case .float64: return "f64"
        }
    }

    /// The value for messages: numbers as numbers, strings quoted, arrays as "array<u32>[3]" (never their contents).
    public var description: String {
        switch self {
        case .uint8(let v): return "\(v)"
        case .int8(let v): return "\(v)"
        case .uint16(let v): return "\(v)"
        case .int16(let v): return "\(v)"
        case .uint32(let v): return "\(v)"
        case .int32(let v): return "\(v)"
        case .float32(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        case .string(let s): return s.count > 64 ? "\"\(s.prefix(64))...\"" : "\"\(s)\""
        case .array(let a): return "\(typeName)[\(a.count)]"
        case .uint64(let v): return "\(v)"
        case .int64(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        }
    }

    /// The value as an Int when it is any integer type and fits; nil otherwise.
    public var integerValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    var isInteger: Bool {
        switch self {
        case .uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64: return true
        default: return false
        }
    }
}

/// A typed array: each element type keeps its own Swift array, so a 262,144-entry token list is one [String]
/// and a score list one [Float].
public enum GGUFArray: Sendable, Equatable {
    case uint8([UInt8])
    case int8([Int8])
    case uint16([UInt16])
    case int16([Int16])
    case uint32([UInt32])
    case int32([Int32])
    case float32([Float])
    case bool([Bool])
    case string(GGUFStrings)
    case array([GGUFArray])
    case uint64([UInt64])
    case int64([Int64])
    case float64([Double])

    public var count: Int {
        switch self {
        case .uint8(let a): return a.count
        case .int8(let a): return a.count
        case .uint16(let a): return a.count
        case .int16(let a): return a.count
        case .uint32(let a): return a.count
        case .int32(let a): return a.count
        case .float32(let a): return a.count
        case .bool(let a): return a.count
        case .string(let a): return a.count
        case .array(let a): return a.count
        case .uint64(let a): return a.count
        case .int64(let a): return a.count
        case .float64(let a): return a.count
        }
    }

    public var elementTypeName: String {
        switch self {
        case .uint8: return "u8"
        case .int8: return "i8"
        case .uint16: return "u16"
        case .int16: return "i16"
        case .uint32: return "u32"
        case .int32: return "i32"
        case .float32: return "f32"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        case .uint64: return "u64"
        case .int64: return "i64"
        case .float64: return "f64"
        }
    }

    /// Elements as Ints when the element type is an integer type; `.failure(index)` names the first element that
    /// does not fit, nil means the elements are not integers.
    func integers() -> Result<[Int], IndexError>? {
        func convert<T: BinaryInteger>(_ a: [T]) -> Result<[Int], IndexError> {
            var out = [Int]()
            out.reserveCapacity(a.count)
            for (i, v) in a.enumerated() {
                guard let x = Int(exactly: v) else { return .failure(IndexError(index: i, value: String(v))) }
                out.append(x)
            }
            return .success(out)
        }
        switch self {
        case .uint8(let a): return convert(a)
        case .int8(let a): return convert(a)
        case .uint16(let a): return convert(a)
        case .int16(let a): return convert(a)
        case .uint32(let a): return convert(a)
        case .int32(let a): return convert(a)
        case .uint64(let a): return convert(a)
        case .int64(let a): return convert(a)
        default: return nil
        }
    }

    struct IndexError: Error {
        let index: Int
        let value: String
    }
}

/// On-disk value type ids (gguf_type).
enum GGUFValueTypeID: UInt32 {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7, string = 8,
         array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// The fewest bytes one value of this type occupies on disk (a string is at least its u64 length; an array at
    /// least its u32 element type and u64 count). Used to reject counts before allocating.
    var minimumSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64, .string: return 8
        case .array: return 12
        }
    }
}
