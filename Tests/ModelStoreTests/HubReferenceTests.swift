import XCTest

@testable import ModelStore

final class HubReferenceTests: XCTestCase {
    func testReferencesAreParsedAsOllamaAndLlamaCppWriteThem() {
        XCTAssertEqual(HubReference("hf.co/org/repo:Q4_K_M"), .hub(org: "org", repo: "repo", quant: "Q4_K_M", file: nil))
        XCTAssertEqual(HubReference("huggingface.co/Org-1/Re.po_2"), .hub(org: "Org-1", repo: "Re.po_2", quant: nil, file: nil))
        XCTAssertEqual(HubReference("https://hf.co/org/repo:q8_0"), .hub(org: "org", repo: "repo", quant: "q8_0", file: nil))
        XCTAssertEqual(HubReference("https://example.com/a/b.gguf"), .url("https://example.com/a/b.gguf"))
        // A hub URL with a longer path is a plain download.
        XCTAssertEqual(HubReference("https://huggingface.co/org/repo/resolve/main/x.gguf"),
                       .url("https://huggingface.co/org/repo/resolve/main/x.gguf"))
        for bad in ["smollm2-135m", "./x.gguf", "hf.co/org", "hf.co/org/repo/extra:Q4", "hf.co/org/repo:bad/quant",
                    "hf.co/../repo", "ftp://example.com/x.gguf", "https://example.com/", ""] {
            XCTAssertNil(HubReference(bad), bad)
        }
        XCTAssertEqual(HubReference.repository("org/repo", file: "sub/x.gguf"),
                       .hub(org: "org", repo: "repo", quant: nil, file: "sub/x.gguf"))
        XCTAssertNil(HubReference.repository("org", file: "x.gguf"))
        XCTAssertNil(HubReference.repository("org/repo", file: "../x.gguf"))
        XCTAssertNil(HubReference.repository("org/repo", file: ""))
        XCTAssertEqual(HubReference("hf.co/org/repo:Q8_0")?.name, "hf.co/org/repo:Q8_0")
        XCTAssertEqual(HubReference.repository("org/repo", file: "x.gguf")?.name, "hf.co/org/repo/x.gguf")
    }

    func testQuantizationIsMatchedAsAWholeLabel() {
        XCTAssertTrue(namesQuantization("m-Q4_K_M.gguf", "q4_k_m"))
        XCTAssertTrue(namesQuantization("SmolLM2-135M-Instruct.Q4_1.gguf", "Q4_1"))
        XCTAssertTrue(namesQuantization("dir/m_Q8_0.gguf", "Q8_0"))
        XCTAssertFalse(namesQuantization("m-Q4_K_M.gguf", "Q4_K"), "Q4_K is not Q4_K_M")
        XCTAssertFalse(namesQuantization("m-IQ4_XS.gguf", "Q4_XS"), "inside a longer label")
        XCTAssertFalse(namesQuantization("m-Q8_0.gguf", "Q8"))
        XCTAssertFalse(namesQuantization("Q8_0/m-F16.gguf", "Q8_0"), "the directory does not count")
    }

    func testChoosingAFile() throws {
        let store = ModelStore(home: URL(fileURLWithPath: "/nonexistent"))
        let files = ["README.md", "m-Q4_K_M.gguf", "m-Q8_0.gguf", "m-F16.gguf"].map { ModelStore.HubFile(path: $0, size: 1, sha256: nil) }
        XCTAssertEqual(try store.chooseFile(files, quant: "Q8_0", file: nil, reference: "r").path, "m-Q8_0.gguf")
        XCTAssertEqual(try store.chooseFile(files, quant: nil, file: nil, reference: "r").path, "m-Q4_K_M.gguf", "Ollama's default")
        XCTAssertEqual(try store.chooseFile(files, quant: nil, file: "m-F16.gguf", reference: "r").path, "m-F16.gguf")
        XCTAssertThrowsError(try store.chooseFile(files, quant: "Q2_K", file: nil, reference: "r")) { error in
            XCTAssertTrue("\(error)".contains("Q2_K") && "\(error)".contains("m-Q8_0.gguf"), "lists the files: \(error)")
        }
        let one = [ModelStore.HubFile(path: "only-Q5_0.gguf", size: 1, sha256: nil)]
        XCTAssertEqual(try store.chooseFile(one, quant: nil, file: nil, reference: "r").path, "only-Q5_0.gguf")
        XCTAssertThrowsError(try store.chooseFile([], quant: nil, file: nil, reference: "r"))
    }
}
