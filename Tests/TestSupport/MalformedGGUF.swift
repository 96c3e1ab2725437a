import Foundation

/// One malformed variant of a real model file, held as a recipe (the shared original header, byte edits, an
/// optional cut) rather than as bytes, so a corpus of a 253 MB model costs one header in memory. `write` forms the
/// file: the edited header, padding to the alignment, then the original tensor data section (copied, or as a sparse
/// hole of zeros of the same length, which the GGUF layer cannot tell apart because it never reads tensor data).
public struct MalformedGGUF: Sendable {
    public enum TensorData: Sendable { case copied, sparse }

    /// A replacement of `range` (original header coordinates) by `bytes`; an empty range inserts.
    public struct Edit: Sendable {
        public var range: Range<Int>
        public var bytes: [UInt8]
        public static func u32(_ at: Int, _ v: UInt32) -> Edit { var b = [UInt8](); b.appendLE(v); return Edit(range: at..<at + 4, bytes: b) }
        public static func u64(_ at: Int, _ v: UInt64) -> Edit { var b = [UInt8](); b.appendLE(v); return Edit(range: at..<at + 8, bytes: b) }
        public static func replace(_ range: Range<Int>, _ bytes: [UInt8]) -> Edit { Edit(range: range, bytes: bytes) }
    }

    /// Short unique name, e.g. "tensor-offset-misaligned".
    public let name: String
    /// True when GGUFFile(path:) alone must reject the file; false for files that are valid GGUF but wrong for the
    /// model (a missing key or tensor, a wrong type or shape), which the model loader must reject.
    public let rejectedByGGUF: Bool
    /// What is wrong, in one line.
    public let why: String
    /// Names of the GGUFError cases that may report it (e.g. ["misalignedTensorOffset"]); empty when the GGUF layer
    /// accepts the file.
    public let ggufErrorCases: [String]

    let sourcePath: String
    let header: [UInt8]           // original bytes [0, headerEnd)
    let padding: [UInt8]          // original bytes [headerEnd, dataOffset)
    let dataRange: Range<Int>     // original tensor data section [dataOffset, fileSize)
    let alignment: Int
    let edits: [Edit]
    let cut: Int?                 // final file length, when truncated

    /// The edited header plus padding (before any cut).
    public func prefixBytes() -> [UInt8] {
        var h = header
        for e in edits.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
            h.replaceSubrange(e.range, with: e.bytes)
        }
        if h.count == header.count { return h + padding }
        let padded = (h.count + alignment - 1) / alignment * alignment
        return h + [UInt8](repeating: 0, count: padded - h.count)
    }

    /// Writes the variant to `path` (replacing any file there).
    public func write(to path: String, tensorData: TensorData = .sparse) throws {
        let prefix = prefixBytes()
        let fullSize = prefix.count + dataRange.count
        let size = min(cut ?? fullSize, fullSize)
        let url = URL(fileURLWithPath: path)
        try Data(prefix.prefix(size)).write(to: url)
        guard size > prefix.count else { return }
        let out = try FileHandle(forWritingTo: url)
        defer { try? out.close() }
        switch tensorData {
        case .sparse:
            try out.truncate(atOffset: UInt64(size))
        case .copied:
            let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: sourcePath))
            defer { try? input.close() }
            try input.seek(toOffset: UInt64(dataRange.lowerBound))
            try out.seekToEnd()
            var left = size - prefix.count
            while left > 0 {
                guard let chunk = try input.read(upToCount: min(left, 8 << 20)), !chunk.isEmpty else { break }
                try out.write(contentsOf: chunk)
                left -= chunk.count
            }
        }
    }

    /// Writes the variant into `directory` as "<name>.gguf" and returns the path.
    public func write(into directory: URL, tensorData: TensorData = .sparse) throws -> String {
        let path = directory.appendingPathComponent(name + ".gguf").path
        try write(to: path, tensorData: tensorData)
        return path
    }
}

/// At least 45 malformed variants of the real GGUF model at `realModelPath` (see MalformedVariants.swift for the list).
public func malformedVariants(of realModelPath: String) throws -> [MalformedGGUF] {
    var corpus = try MalformedCorpusBuilder(path: realModelPath)
    corpus.addStructuralVariants()
    corpus.addModelLevelVariants()
    return corpus.variants
}
