/// A ggml tensor type, by its on-disk id (enum ggml_type). Ids 4, 5 (Q4_2, Q4_3), 31-33 and 36-38 (the removed
/// repacked Q4_0_x_x / IQ4_NL_x_x types) are not defined and count as unknown.
public struct GGUFTensorType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let f32 = GGUFTensorType(rawValue: 0)
    public static let f16 = GGUFTensorType(rawValue: 1)
    public static let q4_0 = GGUFTensorType(rawValue: 2)
    public static let q4_1 = GGUFTensorType(rawValue: 3)
    public static let q5_0 = GGUFTensorType(rawValue: 6)
    public static let q5_1 = GGUFTensorType(rawValue: 7)
    public static let q8_0 = GGUFTensorType(rawValue: 8)
    public static let q8_1 = GGUFTensorType(rawValue: 9)
    public static let q2_K = GGUFTensorType(rawValue: 10)
    public static let q3_K = GGUFTensorType(rawValue: 11)
    public static let q4_K = GGUFTensorType(rawValue: 12)
    public static let q5_K = GGUFTensorType(rawValue: 13)
    public static let q6_K = GGUFTensorType(rawValue: 14)
    public static let q8_K = GGUFTensorType(rawValue: 15)
    public static let iq2_xxs = GGUFTensorType(rawValue: 16)
    public static let iq2_xs = GGUFTensorType(rawValue: 17)
    public static let iq3_xxs = GGUFTensorType(rawValue: 18)
    public static let iq1_s = GGUFTensorType(rawValue: 19)
    public static let iq4_nl = GGUFTensorType(rawValue: 20)
    public static let iq3_s = GGUFTensorType(rawValue: 21)
    public static let iq2_s = GGUFTensorType(rawValue: 22)
    public static let iq4_xs = GGUFTensorType(rawValue: 23)
    public static let i8 = GGUFTensorType(rawValue: 24)
    public static let i16 = GGUFTensorType(rawValue: 25)
    public static let i32 = GGUFTensorType(rawValue: 26)
    public static let i64 = GGUFTensorType(rawValue: 27)
    public static let f64 = GGUFTensorType(rawValue: 28)
    public static let iq1_m = GGUFTensorType(rawValue: 29)
    public static let bf16 = GGUFTensorType(rawValue: 30)
    public static let tq1_0 = GGUFTensorType(rawValue: 34)
    public static let tq2_0 = GGUFTensorType(rawValue: 35)
    public static let mxfp4 = GGUFTensorType(rawValue: 39)
    public static let nvfp4 = GGUFTensorType(rawValue: 40)
    public static let q1_0 = GGUFTensorType(rawValue: 41)

    private struct Traits {
        let name: String
        let blockSize: Int  // elements per block
        let typeSize: Int   // bytes per block
    }

    // From ggml's type_traits (block sizes from ggml-common.h's static asserts; Q8_1's block is two halves + 32
    // bytes = 36).
    private static let traits: [UInt32: Traits] = [
        0: Traits(name: "F32", blockSize: 1, typeSize: 4),
        1: Traits(name: "F16", blockSize: 1, typeSize: 2),
        2: Traits(name: "Q4_0", blockSize: 32, typeSize: 18),
        3: Traits(name: "Q4_1", blockSize: 32, typeSize: 20),
        6: Traits(name: "Q5_0", blockSize: 32, typeSize: 22),
        7: Traits(name: "Q5_1", blockSize: 32, typeSize: 24),
        8: Traits(name: "Q8_0", blockSize: 32, typeSize: 34),
        9: Traits(name: "Q8_1", blockSize: 32, typeSize: 36),
        10: Traits(name: "Q2_K", blockSize: 256, typeSize: 84),
        11: Traits(name: "Q3_K", blockSize: 256, typeSize: 110),
        12: Traits(name: "Q4_K", blockSize: 256, typeSize: 144),
        13: Traits(name: "Q5_K", blockSize: 256, typeSize: 176),
        14: Traits(name: "Q6_K", blockSize: 256, typeSize: 210),
        15: Traits(name: "Q8_K", blockSize: 256, typeSize: 292),
        16: Traits(name: "IQ2_XXS", blockSize: 256, typeSize: 66),
        17: Traits(name: "IQ2_XS", blockSize: 256, typeSize: 74),
        18: Traits(name: "IQ3_XXS", blockSize: 256, typeSize: 98),
        19: Traits(name: "IQ1_S", blockSize: 256, typeSize: 50),
        20: Traits(name: "IQ4_NL", blockSize: 32, typeSize: 18),
        21: Traits(name: "IQ3_S", blockSize: 256, typeSize: 110),
        22: Traits(name: "IQ2_S", blockSize: 256, typeSize: 82),
        23: Traits(name: "IQ4_XS", blockSize: 256, typeSize: 136),
        24: Traits(name: "I8", blockSize: 1, typeSize: 1),
        25: Traits(name: "I16", blockSize: 1, typeSize: 2),
        26: Traits(name: "I32", blockSize: 1, typeSize: 4),
        27: Traits(name: "I64", blockSize: 1, typeSize: 8),
        28: Traits(name: "F64", blockSize: 1, typeSize: 8),
        29: Traits(name: "IQ1_M", blockSize: 256, typeSize: 56),
        30: Traits(name: "BF16", blockSize: 1, typeSize: 2),
        34: Traits(name: "TQ1_0", blockSize: 256, typeSize: 54),
        35: Traits(name: "TQ2_0", blockSize: 256, typeSize: 66),
        39: Traits(name: "MXFP4", blockSize: 32, typeSize: 17),
        40: Traits(name: "NVFP4", blockSize: 64, typeSize: 36),
        41: Traits(name: "Q1_0", blockSize: 128, typeSize: 18),
    ]

    /// Every type id the format defines.
    public static let allKnown: [GGUFTensorType] = traits.keys.sorted().map { GGUFTensorType(rawValue: $0) }

    public var isKnown: Bool { Self.traits[rawValue] != nil }
    /// Elements per block (1 for plain types); 0 for an unknown id (GGUFFile never holds one).
    public var blockSize: Int { Self.traits[rawValue]?.blockSize ?? 0 }
    /// Bytes per block; 0 for an unknown id.
    public var typeSize: Int { Self.traits[rawValue]?.typeSize ?? 0 }
    /// "Q4_K", "F32", ...; "type 4" for an unknown id.
    public var description: String { Self.traits[rawValue]?.name ?? "type \(rawValue)" }

    /// Bytes taken by `elements` elements, or nil when the type is unknown, `elements` is negative or not a whole
    /// number of blocks, or the size overflows.
    public func byteCount(elements: Int) -> Int? {
        guard let t = Self.traits[rawValue], elements >= 0, elements % t.blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / t.blockSize).multipliedReportingOverflow(by: t.typeSize)
        return overflow ? nil : bytes
    }
}
