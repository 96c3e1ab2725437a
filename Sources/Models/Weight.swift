import CKernels
import GGUF

/// A weight matrix in the mapped file. `W: [rows, rowLength]` row-major in `type` (GGUF dims: ne[0] = rowLength,
/// ne[1] = rows). Products read `mmData` in `mmType`: the packed copy (PackedArena) when there is one, else the file's
/// bytes; row lookups (embeddings) read `data`. A trivial struct: copying it costs no reference counting on the hot path.
public struct Weight: @unchecked Sendable {
    public let type: slm_type
    public let data: UnsafeRawPointer
    public let rowLength: Int
    public let rows: Int
    public let mmType: slm_type
    public let mmData: UnsafeRawPointer

    init(type: slm_type, data: UnsafeRawPointer, rowLength: Int, rows: Int, mmType: slm_type? = nil,
         mmData: UnsafeRawPointer? = nil) {
        self.type = type
        self.data = data
        self.rowLength = rowLength
        self.rows = rows
        self.mmType = mmType ?? type
        self.mmData = mmData ?? data
    }

    public var isPacked: Bool { slm_type_is_packed(mmType) != 0 }

    /// What row lookups of this table read: `output` when that is this table packed (a tied output matrix), so that
    /// the table's file pages, dropped once packed, are not faulted back in a page per new token over a server's life;
    /// else the table itself. Rows read either way are bit-identical (slm_get_row).
    func rowSource(tiedOutput output: Weight) -> Weight {
        output.data == data && output.type == type && output.isPacked ? output : self
    }
}

/// Looks tensors up by name and checks them against what the hyperparameters say they must be; matrices that feed
/// products get a packed copy in `arena`.
struct WeightLoader {
    let file: GGUFFile
    let arena: PackedArena

    init(file: GGUFFile) {
        self.file = file
        arena = PackedArena(file: file)
    }

    /// A matrix used in products (packed when its type allows).
    func matrix(_ name: String, rowLength: Int, rows: Int) throws(ModelError) -> Weight {
        arena.pack(try table(name, rowLength: rowLength, rows: rows))
    }

    /// Rows `slice` of a fused matrix of `rows` rows (phi3's attn_qkv and ffn_up), used in products as a matrix of its
    /// own (packed when its type allows).
    func matrix(_ name: String, rowLength: Int, rows: Int, slice: Range<Int>) throws(ModelError) -> Weight {
        let whole = try table(name, rowLength: rowLength, rows: rows)
        precondition(slice.lowerBound >= 0 && slice.upperBound <= rows)
        let offset = slm_row_size(whole.type, Int64(rowLength)) * slice.lowerBound
        return arena.pack(Weight(type: whole.type, data: whole.data + offset, rowLength: rowLength, rows: slice.count))
    }

    /// The number of rows of token_embd; `declared` (an architecture's `vocab_size` key, when present) must match it.
    func vocabularySize(declared: Int? = nil) throws(ModelError) -> Int {
        guard let info = file.tensor(named: TensorName.tokenEmbedding) else { throw .missingTensor(TensorName.tokenEmbedding) }
        let n = info.dims.count == 2 ? info.dims[1] : 0
        guard (1...4_194_304).contains(n) else {
            throw .invalidHyperparameter(key: "vocabulary size (token_embd rows)", value: "\(n)", reason: "must be in 1...4194304")
        }
        if let declared, declared != n {
            throw .tensorShape(name: TensorName.tokenEmbedding, expected: [info.dims[0], declared], actual: info.dims)
        }
        return n
    }

    /// The output matrix: `output.weight`, else the embedding table tied to it; packed at any size (a several-row
    /// product over gemma-3's unpacked 178 MB table ran at a third of the packed kernels' rate). Row lookups of a tied
    /// table read the packed copy (`Weight.rowSource`).
    func output(tiedTo embedding: Weight, rowLength: Int, rows: Int) throws(ModelError) -> Weight {
        let w = try optionalTable(TensorName.output, rowLength: rowLength, rows: rows) ?? embedding
        return arena.pack(w)
    }

    /// The output matrix tied to `embedding` whatever else the file holds (gemma2), packed as `output` packs it.
    func tiedOutput(_ embedding: Weight) -> Weight { arena.pack(embedding) }

    /// A matrix left in the file mapping (an embedding table).
    func table(_ name: String, rowLength: Int, rows: Int) throws(ModelError) -> Weight {
        guard let info = file.tensor(named: name) else { throw .missingTensor(name) }
        return try check(info, rowLength: rowLength, rows: rows)
    }

    func optionalTable(_ name: String, rowLength: Int, rows: Int) throws(ModelError) -> Weight? {
        guard let info = file.tensor(named: name) else { return nil }
        return try check(info, rowLength: rowLength, rows: rows)
    }

    /// An F32 vector (norm weights, biases, RoPE frequency factors).
    func vector(_ name: String, length: Int) throws(ModelError) -> UnsafePointer<Float> {
        guard let info = file.tensor(named: name) else { throw .missingTensor(name) }
        return try checkVector(info, length: length)
    }

    func optionalVector(_ name: String, length: Int) throws(ModelError) -> UnsafePointer<Float>? {
        guard let info = file.tensor(named: name) else { return nil }
        return try checkVector(info, length: length)
    }

    private func checkVector(_ info: GGUFTensorInfo, length: Int) throws(ModelError) -> UnsafePointer<Float> {
        let name = info.name
        guard info.dims == [length] else { throw .tensorShape(name: name, expected: [length], actual: info.dims) }
        guard info.type == .f32 else { throw .unsupportedTensorType(name: name, type: info.type.description) }
        return file.data(of: info).assumingMemoryBound(to: Float.self)
    }

    private func check(_ info: GGUFTensorInfo, rowLength: Int, rows: Int) throws(ModelError) -> Weight {
        let dims = info.dims
        guard dims == [rowLength, rows] || (rows == 1 && dims == [rowLength]) else {
            throw .tensorShape(name: info.name, expected: [rowLength, rows], actual: dims)
        }
        let type = slm_type(rawValue: info.type.rawValue)
        guard let traits = slm_get_type_traits(type), traits.pointee.vec_dot != nil,
              traits.pointee.dequant != nil, rowLength % Int(traits.pointee.block_size) == 0,
              slm_row_size(type, Int64(rowLength)) * rows == info.byteCount
        else { throw .unsupportedTensorType(name: info.name, type: info.type.description) }
        return Weight(type: type, data: file.data(of: info), rowLength: rowLength, rows: rows)
    }
}
