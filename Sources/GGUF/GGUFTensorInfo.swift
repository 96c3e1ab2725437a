/// One entry of the tensor table, validated: the shape is 1-4 positive dims, the type is known, the row length is
/// a whole number of blocks and the data lies inside the file without overlapping another tensor.
public struct GGUFTensorInfo: Sendable, Equatable {
    public var name: String
    /// ne[0] first: ne[0] is the row length (the contiguous dimension).
    public var dims: [Int]
    public var type: GGUFTensorType
    /// Byte offset of the data relative to `GGUFFile.dataOffset`.
    public var offset: Int
    public var byteCount: Int
    public var elementCount: Int

    public init(name: String, dims: [Int], type: GGUFTensorType, offset: Int, byteCount: Int, elementCount: Int) {
        self.name = name
        self.dims = dims
        self.type = type
        self.offset = offset
        self.byteCount = byteCount
        self.elementCount = elementCount
    }

    /// Number of rows: the product of dims[1...] (1 for a vector).
    public var rowCount: Int { dims.count > 1 ? elementCount / dims[0] : 1 }
}
