import Foundation
import CKernels
import GGUF
import SLMModels
import SystemPackage

/// What a cached block's bytes mean: which model and kernels computed them and how they are laid out. Two layouts
/// that differ in any field never share a block (their chains start from different roots).
public struct KVLayout: Sendable, Equatable {
    /// Fingerprint of the model file (`ModelFingerprint`).
    public var modelID: Hash128
    /// The arithmetic that computed the rows (`KernelNumerics.id`: kernel family, packing, kernel version): a hit must
    /// equal what this process would compute.
    public var numerics: UInt32
    public var layerCount: Int
    /// f16 values per position in one layer's K (and in its V).
    public var kvDim: Int
    /// Tokens per block.
    public var blockTokens: Int

    public init(modelID: Hash128, numerics: UInt32, layerCount: Int, kvDim: Int, blockTokens: Int) {
        precondition(layerCount > 0 && kvDim > 0 && blockTokens > 0)
        self.modelID = modelID
        self.numerics = numerics
        self.layerCount = layerCount
        self.kvDim = kvDim
        self.blockTokens = blockTokens
    }

    /// The layout of `engine`'s model under the kernels this process uses.
    public init(engine: Engine, blockTokens: Int = 32) {
        self.init(modelID: ModelFingerprint.of(engine.file), numerics: KernelNumerics.id,
                  layerCount: engine.config.layerCount, kvDim: engine.config.kvDim, blockTokens: blockTokens)
    }

    /// f16 values of one layer's K (or V) rows in a block.
    var valuesPerLayerHalf: Int { blockTokens * kvDim }
    /// Bytes of K and V for every layer of one block: [layer][K rows, V rows][blockTokens, kvDim] f16.
    public var payloadBytes: Int { layerCount * 2 * valuesPerLayerHalf * 2 }

    /// The parent hash of block 0.
    public var root: Hash128 {
        var h = Hasher128(seed: 0x534C_4D4B_5652_4F4F)  // "SLMKVROO"
        h.add(modelID)
        h.add(UInt64(numerics))
        h.add(UInt64(layerCount))
        h.add(UInt64(kvDim))
        h.add(UInt64(blockTokens))
        return h.finalize()
    }

    /// A block's hash: its parent's hash and its exact token ids, so it names the whole prefix up to its end.
    public func chain(_ parent: Hash128, _ tokens: ArraySlice<Int32>) -> Hash128 {
        var h = Hasher128(seed: 0x534C_4D4B_5642_4C4B)  // "SLMKVBLK"
        h.add(parent)
        for t in tokens { h.add(UInt64(UInt32(bitPattern: t))) }
        return h.finalize()
    }

    /// The hashes of the complete blocks of `tokens`, in order.
    public func blockHashes(_ tokens: [Int32]) -> [Hash128] {
        var out: [Hash128] = []
        var h = root
        for i in 0..<(tokens.count / blockTokens) {
            h = chain(h, tokens[(i * blockTokens)..<((i + 1) * blockTokens)])
            out.append(h)
        }
        return out
    }
}

/// A cheap, stable identity for a model file: its size, every byte before the tensor data (header, metadata,
/// tensor table: names, shapes, types, offsets) and 64 evenly spaced 4 KiB samples of the tensor data. Hashing all
/// ~250 MB on every start would cost more than the prefill a hit saves; a different file of the same size, metadata
/// and tensor table that also agrees on every sample is not a case we guard against (see docs/PREFIX_CACHE.md).
public enum ModelFingerprint {
    /// The file's size, its metadata and 64 samples of 4 KiB spread over the tensor data. Read with pread rather than
    /// through the mapping, so that hashing does not leave megabytes of the file resident in a long-lived server.
    public static func of(_ file: GGUFFile) -> Hash128 {
        var h = Hasher128(seed: 0x534C_4D4D_4F44_454C)  // "SLMMODEL"
        h.add(UInt64(file.fileSize))
        let head = min(file.dataOffset, file.fileSize)
        let data = file.fileSize - head
        let sample = 4096, samples = 64
        let fd = open(file.path, O_RDONLY)
        defer { if fd >= 0 { close(fd) } }
        // The ranges hashed, in order; chunks are multiples of 8 bytes so that hashing them one by one equals
        // hashing each range whole.
        var ranges = [(0, head)]
        if data > 0 {
            for i in 0..<samples {
                let offset = head + Int((UInt64(data) * UInt64(i)) / UInt64(samples))
                ranges.append((offset, min(sample, file.fileSize - offset)))
            }
        }
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 8)
        defer { buffer.deallocate() }
        for (start, count) in ranges {
            var done = 0
            while done < count {
                let n = min(chunk, count - done)
                var got = 0
                while fd >= 0 && got < n {
                    let r = try? FileDescriptor(rawValue: fd).read(
                        fromAbsoluteOffset: Int64(start + done + got), into: UnsafeMutableRawBufferPointer(rebasing: buffer[got..<n]))
                    guard let r, r > 0 else { break }
                    got += r
                }
                if got == n {
                    h.add(bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                } else {
                    h.add(bytes: UnsafeRawBufferPointer(start: file.baseAddress + start + done, count: n))
                }
                done += n
            }
        }
        return h.finalize()
    }
}
