import Foundation

/// The list of malformed variants, built from the byte layout of one real model file.
struct MalformedCorpusBuilder {
    let layout: GGUFLayout
    let path: String
    let padding: [UInt8]
    var variants: [MalformedGGUF] = []

    init(path: String) throws {
        self.path = path
        layout = try GGUFLayout(path: path)
        guard layout.kvs.count >= 2, layout.tensorInfos.count >= 2 else {
            throw GGUFLayout.ScanError(description: "\(path) needs at least 2 metadata keys and 2 tensors")
        }
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(layout.headerEnd))
        padding = [UInt8](try handle.read(upToCount: layout.dataOffset - layout.headerEnd) ?? Data())
    }

    // MARK: building blocks

    /// The GGUFError cases that report each variant the GGUF layer rejects (truncations are handled in `add`).
    static let expectedErrors: [String: [String]] = [
        "bad-magic": ["badMagic"], "magic-lowercase": ["badMagic"],
        "version-0": ["unsupportedVersion"], "version-1": ["unsupportedVersion"],
        "version-99": ["unsupportedVersion"], "version-big-endian": ["unsupportedVersion"],
        "tensor-count-huge": ["implausibleCount"], "tensor-count-max": ["implausibleCount"],
        "tensor-count-past-end": ["implausibleCount"], "kv-count-huge": ["implausibleCount"],
        "kv-count-past-end": ["implausibleCount"],
        "key-length-huge": ["lengthPastEnd"], "key-length-past-end": ["lengthPastEnd"],
        "string-length-huge": ["lengthPastEnd"], "string-length-past-end": ["lengthPastEnd"],
        "array-count-huge": ["lengthPastEnd"], "array-count-past-end": ["lengthPastEnd"],
        "int-array-count-huge": ["lengthPastEnd"], "tensor-name-length-huge": ["lengthPastEnd"],
        "array-element-type-unknown": ["unknownValueType"], "value-type-unknown": ["unknownValueType"],
        "value-type-huge": ["unknownValueType"], "bool-not-0-or-1": ["invalidBool"],
        "nested-array-too-deep": ["arrayTooDeep"], "duplicate-key": ["duplicateKey"],
        "alignment-zero": ["invalidAlignment"], "alignment-three": ["invalidAlignment"],
        "alignment-u64": ["invalidAlignment"], "alignment-2-31": ["dataSectionPastEnd"],
        "duplicate-tensor-name": ["duplicateTensor"], "tensor-type-unknown": ["unknownTensorType"],
        "tensor-type-huge": ["unknownTensorType"], "n-dims-zero": ["invalidDimensionCount"],
        "n-dims-five": ["invalidDimensionCount"], "dim-zero": ["invalidDimension"],
        "dim-above-int-max": ["invalidDimension"], "dims-product-overflows": ["tensorSizeOverflow"],
        "tensor-bytes-past-end": ["tensorOutOfBounds"], "row-not-multiple-of-block": ["rowNotMultipleOfBlock"],
        "tensor-offset-misaligned": ["misalignedTensorOffset"], "tensor-offset-past-end": ["tensorOutOfBounds"],
        "tensor-offset-overflows": ["tensorOutOfBounds"], "tensors-overlap": ["tensorsOverlap"],
        "tensors-overlap-partly": ["tensorsOverlap"],
    ]

    private mutating func add(_ name: String, rejectedByGGUF: Bool = true, _ why: String,
                              edits: [MalformedGGUF.Edit] = [], cut: Int? = nil) {
        var errors: [String] = []
        if let cut {
            // A cut header fails a count check, a length check or a read; a cut data section fails placement.
            errors = cut < layout.headerEnd ? ["truncated", "implausibleCount", "lengthPastEnd"]
                : ["tensorOutOfBounds", "dataSectionPastEnd"]
        } else if rejectedByGGUF {
            guard let e = Self.expectedErrors[name] else { preconditionFailure("no expected error for \(name)") }
            errors = e
        }
        variants.append(MalformedGGUF(
            name: name, rejectedByGGUF: rejectedByGGUF, why: why, ggufErrorCases: errors, sourcePath: path,
            header: layout.header,
            padding: padding, dataRange: layout.dataOffset..<layout.fileSize, alignment: layout.alignment,
            edits: edits, cut: cut))
    }

    private mutating func truncate(_ name: String, at length: Int, _ why: String) {
        add("truncated-" + name, "file cut to \(length) bytes " + why, cut: length)
    }

    private static func string(_ s: String) -> [UInt8] {
        var b = [UInt8](); b.appendGGUFString(s); return b
    }

    private var kvCount: UInt64 { UInt64(layout.kvs.count) }
    private var tensorCount: UInt64 { UInt64(layout.tensorInfos.count) }
    private var firstString: GGUFLayout.KV? { layout.kvs.first { $0.valueType == 8 } }
    private var firstU32: GGUFLayout.KV? { layout.kvs.first { $0.valueType == 4 } }
    private var firstBool: GGUFLayout.KV? { layout.kvs.first { $0.valueType == 7 } }
    /// The longest array of strings (the token list in a model).
    private var bigStringArray: GGUFLayout.KV? {
        layout.kvs.filter { $0.valueType == 9 && elementType($0) == 8 }.max { $0.end - $0.start < $1.end - $1.start }
    }
    private var intArray: GGUFLayout.KV? {
        layout.kvs.first { $0.valueType == 9 && (0...5).contains(elementType($0)) }
    }
    private var smallArray: GGUFLayout.KV? {
        layout.kvs.filter { $0.valueType == 9 }.min { $0.end - $0.start < $1.end - $1.start }
    }
    private func elementType(_ kv: GGUFLayout.KV) -> UInt32 { layout.header.readLE(UInt32.self, at: kv.valueOffset) }

    private var architecture: String? {
        guard let kv = layout.kv("general.architecture"), kv.valueType == 8 else { return nil }
        let n = Int(layout.header.readLE(UInt64.self, at: kv.valueOffset))
        return String(decoding: layout.header[kv.valueOffset + 8..<kv.valueOffset + 8 + n], as: UTF8.self)
    }

    /// Edits that delete a metadata entry.
    private func removing(_ kv: GGUFLayout.KV) -> [MalformedGGUF.Edit] {
        [.replace(kv.start..<kv.end, []), .u64(GGUFLayout.kvCountOffset, kvCount - 1)]
    }

    /// Edits that append a `general.alignment` entry (after the last metadata entry) with this type and value bytes.
    private func addingAlignment(type: UInt32, value: [UInt8]) -> [MalformedGGUF.Edit] {
        var entry = Self.string("general.alignment")
        entry.appendLE(type)
        entry += value
        let at = layout.kvs[layout.kvs.count - 1].end
        return [.replace(at..<at, entry), .u64(GGUFLayout.kvCountOffset, kvCount + 1)]
    }

    // MARK: variants the GGUF layer must reject

    mutating func addStructuralVariants() {
        let L = layout
        let kv0 = L.kvs[0], kv1 = L.kvs[1], lastKV = L.kvs[L.kvs.count - 1]
        let t0 = L.tensorInfos[0], t1 = L.tensorInfos[1], tLast = L.tensorInfos[L.tensorInfos.count - 1]
        let dataEnd = L.tensorInfos.map { L.dataOffset + Int($0.offset) + tensorBytes($0) }.max() ?? L.fileSize

        // Truncations at every depth of the header and in the data.
        truncate("empty", at: 0, "(an empty file)")
        truncate("in-magic", at: 2, "(inside the magic)")
        truncate("in-version", at: 6, "(inside the version)")
        truncate("in-tensor-count", at: 12, "(inside tensor_count)")
        truncate("in-kv-count", at: 20, "(inside kv_count)")
        truncate("after-counts", at: 24, "(the counts promise entries that are absent)")
        truncate("in-key-length", at: kv0.start + 4, "(inside the first key's length)")
        truncate("in-key", at: kv0.start + 8 + 3, "(inside the first key)")
        truncate("in-value-type", at: kv0.valueTypeOffset + 2, "(inside the first value type)")
        if let s = firstString {
            truncate("in-string-length", at: s.valueOffset + 4, "(inside the length of '\(s.key)')")
            truncate("in-string-value", at: s.valueOffset + 9, "(inside the value of '\(s.key)')")
        }
        if let u = firstU32 { truncate("in-u32-value", at: u.valueOffset + 2, "(inside the value of '\(u.key)')") }
        if let a = bigStringArray {
            truncate("in-array-type", at: a.valueOffset + 2, "(inside the element type of '\(a.key)')")
            truncate("in-array-count", at: a.valueOffset + 7, "(inside the element count of '\(a.key)')")
            truncate("in-array-elements", at: (a.valueOffset + a.end) / 2, "(halfway through '\(a.key)')")
        }
        truncate("in-last-kv", at: lastKV.end - 1, "(one byte before the end of '\(lastKV.key)')")
        truncate("in-tensor-name", at: t0.start + 10, "(inside the name of '\(t0.name)')")
        truncate("in-tensor-dims", at: t0.dimsOffset + 4, "(inside the dims of '\(t0.name)')")
        truncate("in-tensor-type", at: t0.typeOffset + 1, "(inside the type of '\(t0.name)')")
        truncate("in-tensor-offset", at: tLast.offsetOffset + 4, "(inside the offset of '\(tLast.name)')")
        truncate("at-header-end", at: L.headerEnd, "(the header is whole, no tensor data)")
        truncate("in-data-section", at: (L.dataOffset + L.fileSize) / 2, "(halfway through the tensor data)")
        truncate("in-last-tensor", at: dataEnd - 1, "(one byte short of the last tensor's data)")

        // Magic and version.
        add("bad-magic", "magic 'GGUG'", edits: [.replace(0..<4, Array("GGUG".utf8))])
        add("magic-lowercase", "magic 'gguf'", edits: [.replace(0..<4, Array("gguf".utf8))])
        add("version-0", "version 0", edits: [.u32(4, 0)])
        add("version-1", "version 1 (u32 counts, unsupported)", edits: [.u32(4, 1)])
        add("version-99", "version 99", edits: [.u32(4, 99)])
        add("version-big-endian", "version 3 byte-swapped", edits: [.u32(4, UInt32(3).byteSwapped)])

        // Counts.
        let afterCounts = UInt64(L.fileSize - 24)
        add("tensor-count-huge", "tensor_count 2^63", edits: [.u64(GGUFLayout.tensorCountOffset, 1 << 63)])
        add("tensor-count-max", "tensor_count 2^64-1", edits: [.u64(GGUFLayout.tensorCountOffset, .max)])
        add("tensor-count-past-end", "tensor_count one more than the file could hold at 32 bytes each",
            edits: [.u64(GGUFLayout.tensorCountOffset, afterCounts / 32 + 1)])
        add("kv-count-huge", "kv_count 2^62", edits: [.u64(GGUFLayout.kvCountOffset, 1 << 62)])
        add("kv-count-past-end", "kv_count one more than the file could hold at 13 bytes each",
            edits: [.u64(GGUFLayout.kvCountOffset, afterCounts / 13 + 1)])

        // String lengths and array counts.
        add("key-length-huge", "first key length 2^60", edits: [.u64(kv0.start, 1 << 60)])
        add("key-length-past-end", "first key length = file size", edits: [.u64(kv0.start, UInt64(L.fileSize))])
        if let s = firstString {
            add("string-length-huge", "length of '\(s.key)' 2^63", edits: [.u64(s.valueOffset, 1 << 63)])
            add("string-length-past-end", "length of '\(s.key)' one byte more than remains",
                edits: [.u64(s.valueOffset, UInt64(L.fileSize - s.valueOffset - 8 + 1))])
        }
        if let a = bigStringArray {
            add("array-count-huge", "element count of '\(a.key)' 2^60", edits: [.u64(a.valueOffset + 4, 1 << 60)])
            add("array-count-past-end", "element count of '\(a.key)' one more than fits at 8 bytes per string",
                edits: [.u64(a.valueOffset + 4, UInt64(L.fileSize - a.valueOffset - 12) / 8 + 1)])
            add("array-element-type-unknown", "element type 13 in '\(a.key)'", edits: [.u32(a.valueOffset, 13)])
        }
        if let a = intArray {
            add("int-array-count-huge", "element count of '\(a.key)' 2^60", edits: [.u64(a.valueOffset + 4, 1 << 60)])
        }

        // Value types and values.
        if let u = firstU32 {
            add("value-type-unknown", "value type 13 for '\(u.key)'", edits: [.u32(u.valueTypeOffset, 13)])
            add("value-type-huge", "value type 2^32-1 for '\(u.key)'", edits: [.u32(u.valueTypeOffset, .max)])
        }
        if let b = firstBool {
            add("bool-not-0-or-1", "bool byte 2 for '\(b.key)'", edits: [.replace(b.valueOffset..<b.valueOffset + 1, [2])])
        }
        if let a = smallArray {
            // array of array of ... (64 levels) of an empty u8 array
            var nested = [UInt8]()
            for _ in 0..<63 { nested.appendLE(UInt32(9)); nested.appendLE(UInt64(1)) }
            nested.appendLE(UInt32(0)); nested.appendLE(UInt64(0))
            add("nested-array-too-deep", "'\(a.key)' replaced by arrays nested 64 deep",
                edits: [.replace(a.valueOffset..<a.end, nested)])
        }
        add("duplicate-key", "second key renamed to '\(kv0.key)'",
            edits: [.replace(kv1.start..<kv1.valueTypeOffset, Self.string(kv0.key))])

        // general.alignment.
        var zero = [UInt8](); zero.appendLE(UInt32(0))
        var three = [UInt8](); three.appendLE(UInt32(3))
        var huge = [UInt8](); huge.appendLE(UInt32(1) << 31)
        var asU64 = [UInt8](); asU64.appendLE(UInt64(32))
        add("alignment-zero", "general.alignment u32 0 added", edits: addingAlignment(type: 4, value: zero))
        add("alignment-three", "general.alignment u32 3 added", edits: addingAlignment(type: 4, value: three))
        add("alignment-u64", "general.alignment stored as u64 32", edits: addingAlignment(type: 10, value: asU64))
        add("alignment-2-31", "general.alignment 2^31: the data section starts past the end",
            edits: addingAlignment(type: 4, value: huge))

        // Tensor infos.
        add("duplicate-tensor-name", "tensor '\(t1.name)' renamed to '\(t0.name)'",
            edits: [.replace(t1.start..<t1.nDimsOffset, Self.string(t0.name))])
        add("tensor-name-length-huge", "name length of '\(t0.name)' 2^62", edits: [.u64(t0.start, 1 << 62)])
        add("tensor-type-unknown", "ggml type 4 (removed Q4_2) for '\(t0.name)'", edits: [.u32(t0.typeOffset, 4)])
        add("tensor-type-huge", "ggml type 1000 for '\(t0.name)'", edits: [.u32(t0.typeOffset, 1000)])
        add("n-dims-zero", "n_dims 0 for '\(t0.name)'", edits: [.u32(t0.nDimsOffset, 0)])
        add("n-dims-five", "n_dims 5 for '\(t0.name)'", edits: [.u32(t0.nDimsOffset, 5)])
        let lastDim = t0.dimsOffset + 8 * (t0.dims.count - 1)
        add("dim-zero", "last dimension of '\(t0.name)' is 0", edits: [.u64(lastDim, 0)])
        add("dim-above-int-max", "a dimension of '\(t0.name)' is 2^63", edits: [.u64(lastDim, 1 << 63)])
        if t0.dims.count >= 2 {
            add("dims-product-overflows", "'\(t0.name)' dims [2^32, 2^32]: the element count overflows",
                edits: [.u64(t0.dimsOffset, 1 << 32), .u64(t0.dimsOffset + 8, 1 << 32)])
        }
        add("tensor-bytes-past-end", "last dimension of '\(t0.name)' 2^40: its data runs past the end",
            edits: [.u64(lastDim, 1 << 40)])
        if let q = L.tensorInfos.first(where: { [2, 3, 6, 7, 8, 10, 11, 12, 13, 14].contains($0.type) }) {
            add("row-not-multiple-of-block", "ne[0] of quantized '\(q.name)' is \(q.dims[0] + 1)",
                edits: [.u64(q.dimsOffset, q.dims[0] + 1)])
        }
        add("tensor-offset-misaligned", "offset of '\(tLast.name)' + 1", edits: [.u64(tLast.offsetOffset, tLast.offset + 1)])
        let pastEnd = UInt64((L.fileSize + L.alignment) / L.alignment * L.alignment)
        add("tensor-offset-past-end", "offset of '\(tLast.name)' beyond the file (aligned)",
            edits: [.u64(tLast.offsetOffset, pastEnd)])
        add("tensor-offset-overflows", "offset of '\(tLast.name)' 2^63-32: data offset + offset overflows",
            edits: [.u64(tLast.offsetOffset, UInt64(Int.max) - 31)])
        add("tensors-overlap", "'\(t1.name)' given the offset of '\(t0.name)'", edits: [.u64(t1.offsetOffset, t0.offset)])
        let halfway = (t0.offset + UInt64(tensorBytes(t0) / 2)) / UInt64(L.alignment) * UInt64(L.alignment)
        add("tensors-overlap-partly", "'\(t1.name)' starts halfway through '\(t0.name)'",
            edits: [.u64(t1.offsetOffset, max(halfway, t0.offset + UInt64(L.alignment)))])
    }

    // MARK: valid GGUF, wrong for the model (the loader must reject these)

    mutating func addModelLevelVariants() {
        let L = layout
        let arch = architecture ?? "llama"
        if let kv = L.kv("\(arch).block_count") {
            add("missing-block-count", rejectedByGGUF: false, "'\(kv.key)' removed", edits: removing(kv))
            add("block-count-as-float", rejectedByGGUF: false, "'\(kv.key)' stored as f32",
                edits: [.replace(kv.valueTypeOffset..<kv.end, [6, 0, 0, 0] + withUnsafeBytes(of: Float(30).bitPattern.littleEndian, Array.init))])
        }
        if let kv = L.kv("tokenizer.ggml.tokens") {
            add("missing-tokens", rejectedByGGUF: false, "'tokenizer.ggml.tokens' removed", edits: removing(kv))
        }
        if let kv = L.kv("general.architecture") {
            add("missing-architecture", rejectedByGGUF: false, "'general.architecture' removed", edits: removing(kv))
        }
        if let kv = L.kv("\(arch).embedding_length"), kv.valueType == 4 {
            let n = L.header.readLE(UInt32.self, at: kv.valueOffset)
            var value: [UInt8] = []
            value.appendLE(UInt32(8))
            value.appendGGUFString(String(n))
            add("embedding-length-as-string", rejectedByGGUF: false, "'\(kv.key)' stored as the string \"\(n)\"",
                edits: [.replace(kv.valueTypeOffset..<kv.end, value)])
        }
        if let t = L.tensor("blk.0.attn_q.weight"), t.dims.count == 2 {
            add("attn-q-shape-mismatch", rejectedByGGUF: false,
                "'\(t.name)' shape [\(t.dims[0]), \(t.dims[1] - 1)] disagrees with the hyperparameters",
                edits: [.u64(t.dimsOffset + 8, t.dims[1] - 1)])
        }
        for name in ["blk.0.attn_q.weight", "output_norm.weight"] {
            if let t = L.tensor(name) {
                add("missing-tensor-" + name.replacingOccurrences(of: ".", with: "-"), rejectedByGGUF: false,
                    "tensor '\(name)' removed from the table",
                    edits: [.replace(t.start..<t.end, []), .u64(GGUFLayout.tensorCountOffset, tensorCount - 1)])
            }
        }
        add("no-tensors", rejectedByGGUF: false, "tensor_count 0 (the tensor table becomes padding)",
            edits: [.u64(GGUFLayout.tensorCountOffset, 0)])
    }

    /// Byte size of a tensor of a type the corpus uses (the real files hold only these).
    private func tensorBytes(_ t: GGUFLayout.TensorEntry) -> Int {
        let (block, size): (Int, Int) = switch t.type {
        case 0: (1, 4)
        case 1, 30: (1, 2)
        case 2: (32, 18)
        case 3: (32, 20)
        case 6: (32, 22)
        case 7: (32, 24)
        case 8: (32, 34)
        case 10: (256, 84)
        case 11: (256, 110)
        case 12: (256, 144)
        case 13: (256, 176)
        case 14: (256, 210)
        default: (1, 0)
        }
        return Int(t.dims.reduce(1, *)) / block * size
    }
}
