import XCTest
import GGUF
import TestSupport

/// A scratch directory per test case, removed afterwards.
class GGUFTestCase: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("GGUFTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    /// Writes `bytes` to a scratch file and opens it.
    func open(_ bytes: [UInt8], _ name: String = "test.gguf") throws -> GGUFFile {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return try GGUFFile(path: p)
    }

    /// Writes `bytes` and returns the error GGUFFile(path:) throws (failing when it opens).
    func openError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> GGUFError? {
        do {
            _ = try open(bytes)
            XCTFail("expected GGUFFile(path:) to throw", file: file, line: line)
            return nil
        } catch let error as GGUFError {
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }
}

/// A small valid file: a few keys of several types and two tensors.
func smallModelWriter(version: UInt32 = 3) -> GGUFWriter {
    var w = GGUFWriter(version: version)
    w.add("general.architecture", .string("llama"))
    w.add("llama.block_count", .uint32(2))
    w.add("llama.rope.freq_base", .float32(10_000))
    w.add("tokenizer.ggml.add_bos_token", .bool(true))
    w.add("tokenizer.ggml.tokens", .array(.string(["<s>", "</s>", "a", "b"])))
    w.addTensor("token_embd.weight", dims: [64, 4], type: .q8_0)
    w.addTensor("output_norm.weight", dims: [64], type: .f32)
    return w
}
