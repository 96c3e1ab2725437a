import Foundation
import GGUF
import TestSupport
import XCTest
@testable import Tokenizers

/// llama.cpp's own tokenizer test data: each vocab-only `ggml-vocab-NAME.gguf` with its cases (`.inp`: texts
/// separated by "\n__ggml_vocab_test__\n"; `.out`: one line of ids per case), as tests/test-tokenizer-0.cpp uses
/// them: add_special = false, parse_special = false, ids compared exactly. Fetched by tools/fetch-vocabs.
final class VocabFileTests: XCTestCase {
    /// The vocab files with cases whose tokenizer slm supports; every case of each must match.
    static let supported = ["command-r", "deepseek-coder", "deepseek-llm", "falcon", "gpt-2", "llama-bpe", "llama-spm",
                            "mpt", "phi-3", "qwen2", "qwen35", "refact", "starcoder"]
    /// The other vocab files with cases, and why slm refuses them (checked: they must fail with that error).
    static let unsupported: [String: String] = [
        "bert-bge": "unsupported tokenizer.ggml.model 'bert'",
        "gemma-4": "unsupported tokenizer.ggml.model 'gemma4'",
    ]

    struct Case {
        let text: String
        let ids: [Int32]
    }

    static func directory() throws -> URL {
        let dir = TestPaths.testData
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("ggml-vocab-gpt-2.gguf").path) else {
            if TestPaths.isCI { XCTFail("llama.cpp vocab test data missing under CI (tools/test runs tools/fetch-vocabs)") }
            throw XCTSkip("llama.cpp vocab test data not in \(dir.path): run tools/fetch-vocabs")
        }
        return dir
    }

    static func cases(_ name: String, in dir: URL) throws -> [Case] {
        let base = dir.appendingPathComponent("ggml-vocab-\(name).gguf")
        let inp = String(decoding: try Data(contentsOf: URL(fileURLWithPath: base.path + ".inp")), as: UTF8.self)
        let out = String(decoding: try Data(contentsOf: URL(fileURLWithPath: base.path + ".out")), as: UTF8.self)
        // As read_tests: split on the separator; a trailing separator leaves no empty case.
        var texts = inp.components(separatedBy: "\n__ggml_vocab_test__\n")
        if texts.last == "" { texts.removeLast() }
        var lines = out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard texts.count == lines.count else {
            throw XCTSkip("\(name): \(texts.count) inputs but \(lines.count) output lines")
        }
        return try zip(texts, lines).map { text, line in
            let ids = try line.split(separator: " ").map { word -> Int32 in
                guard let id = Int32(word.trimmingCharacters(in: .whitespaces)) else {
                    throw XCTSkip("\(name): bad id '\(word)'")
                }
                return id
            }
            return Case(text: text, ids: ids)
        }
    }

    static func tokenizer(_ name: String, in dir: URL) throws -> any Tokenizer {
        let file = try GGUFFile(path: dir.appendingPathComponent("ggml-vocab-\(name).gguf").path)
        return try makeTokenizer(from: file)
    }

    /// Every case of every supported vocab, exact; prints the pass table.
    func testEverySupportedVocabMatchesLlamaCpp() throws {
        let dir = try Self.directory()
        var table: [String] = []
        var fullPasses = 0
        for name in Self.supported {
            let tok: any Tokenizer
            do {
                tok = try Self.tokenizer(name, in: dir)
            } catch {
                XCTFail("\(name): \(error)")
                table.append("\(name): does not load: \(error)")
                continue
            }
            let cases = try Self.cases(name, in: dir)
            var passed = 0
            for c in cases {
                let ids = tok.encode(c.text, addSpecial: false, parseSpecial: false)
                if ids == c.ids {
                    passed += 1
                } else {
                    XCTFail("\(name) \(c.text.debugDescription)\nwant \(c.ids)\n got \(ids)")
                }
            }
            if passed == cases.count { fullPasses += 1 }
            table.append("\(name): \(passed)/\(cases.count)")
        }
        print("vocab files passing in full: \(fullPasses)/\(Self.supported.count) supported ("
              + "\(Self.supported.count + Self.unsupported.count) with cases)\n  " + table.joined(separator: "\n  "))
    }

    /// The vocab files slm does not support are refused with a named error, not tokenized wrongly.
    func testUnsupportedVocabsAreRefused() throws {
        let dir = try Self.directory()
        for (name, message) in Self.unsupported.sorted(by: { $0.key < $1.key }) {
            XCTAssertThrowsError(try Self.tokenizer(name, in: dir), name) { error in
                XCTAssertTrue("\(error)".contains(message), "\(name): \(error)")
            }
        }
    }

    /// decode(ids) gives every case's text back, byte for byte (SentencePiece drops the space it put in front, as
    /// llama.cpp's detokenize does).
    func testRoundTrip() throws {
        let dir = try Self.directory()
        for name in Self.supported {
            let tok = try Self.tokenizer(name, in: dir)
            for c in try Self.cases(name, in: dir) {
                XCTAssertEqual(tok.decode(c.ids, renderSpecial: false), c.text, "\(name) \(c.ids)")
            }
        }
    }

    /// Llama 3 takes a word that is a token whole (ignore_merges), so every token's own text is that one token
    /// again (llama.cpp's test-tokenizer-1-bpe with --ignore-merges).
    func testLlamaBPETokensTokenizeToThemselves() throws {
        let dir = try Self.directory()
        let tok = try Self.tokenizer("llama-bpe", in: dir)
        var checked = 0
        for id in 0 ..< Int32(tok.vocabularySize) where !tok.isControl(id) {
            let text = String(decoding: tok.tokenBytes(id, renderSpecial: true), as: UTF8.self)
            guard text.utf8.elementsEqual(tok.tokenBytes(id, renderSpecial: true)) else { continue }   // not UTF-8 alone
            let ids = tok.encode(text, addSpecial: false, parseSpecial: true)
            XCTAssertEqual(ids.count, 1, "token \(id) \(text.debugDescription) -> \(ids)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 100_000)
    }
}
