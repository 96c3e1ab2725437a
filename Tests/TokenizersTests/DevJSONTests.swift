import Foundation
import XCTest
import TestSupport
@testable import Tokenizers

// TEMPORARY development test: reads a python-extracted dump in /tmp until the GGUF reader lands.
final class DevJSONTests: XCTestCase {
    func load(_ name: String) throws -> TokenizerData {
        let url = URL(fileURLWithPath: "/tmp/tokdev/\(name).json")
        let d = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return TokenizerData(
            model: d["tokenizer.ggml.model"] as! String, pre: d["tokenizer.ggml.pre"] as? String,
            tokens: d["tokenizer.ggml.tokens"] as! [String],
            scores: (d["tokenizer.ggml.scores"] as? [Double])?.map { Float($0) },
            tokenTypes: (d["tokenizer.ggml.token_type"] as? [Int])?.map { Int32($0) },
            merges: d["tokenizer.ggml.merges"] as? [String],
            bosID: d["tokenizer.ggml.bos_token_id"] as? Int, eosID: d["tokenizer.ggml.eos_token_id"] as? Int,
            unknownID: d["tokenizer.ggml.unknown_token_id"] as? Int,
            addBOS: d["tokenizer.ggml.add_bos_token"] as? Bool, addEOS: d["tokenizer.ggml.add_eos_token"] as? Bool,
            addSpacePrefix: d["tokenizer.ggml.add_space_prefix"] as? Bool, modelName: d["general.name"] as? String)
    }

    func run(_ file: String, _ model: String) throws {
        let data = try load(file)
        let t0 = Date()
        let tok = try makeTokenizer(from: data)
        print("build \(model): \(Date().timeIntervalSince(t0)) s")
        let fx = try JSONSerialization.jsonObject(with: Data(contentsOf: TestPaths.fixtures.appendingPathComponent("tokenizer-visible.json"))) as! [String: Any]
        let cases = (fx["models"] as! [String: Any])[model] as! [[String: Any]]
        var pass = 0
        for c in cases {
            let text = c["text"] as! String
            let ids = (c["ids"] as! [Int]).map { Int32($0) }
            let got = tok.encode(text, addSpecial: c["add_special"] as! Bool, parseSpecial: c["parse_special"] as! Bool)
            if got == ids { pass += 1 } else if pass < 1000 {
                print("FAIL \(model) \(text.debugDescription) \(c["parse_special"]!)\n want \(ids)\n got  \(got)")
            }
        }
        print("\(model): \(pass)/\(cases.count)")
        print("eog", tok.eogTokens.sorted())
    }

    func testSmol() throws { try run("smollm", "smollm2-135m") }
    func testGemma() throws { try run("gemma", "gemma3-270m") }
}
