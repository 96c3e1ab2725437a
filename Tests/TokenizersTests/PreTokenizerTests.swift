import XCTest
@testable import Tokenizers

/// Each pre-tokenizer's words on tricky strings. The expected splits of gpt2 / llama3 / qwen2 / qwen35 are what
/// Python's `regex` module (2026.5.9) gives for the original expressions from the models' tokenizer.json files (as
/// quoted in llama-vocab.cpp), matches and the text between them; deepseek-llm's, deepseek-coder's and falcon's
/// are reasoned from their expressions. The vocab-file tests then check whole tokenizers against llama.cpp's ids.
final class PreTokenizerTests: XCTestCase {
    private func words(_ pre: BPEPreTokenizer, _ text: String) -> [String] {
        let bytes = Array(text.utf8)
        return pre.split(bytes, 0 ..< bytes.count).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    func testEveryNameMapsToAType() {
        for (name, type) in BPEPreTokenizer.names { XCTAssertEqual(BPEPreTokenizer(name: name), type, name) }
        XCTAssertNil(BPEPreTokenizer(name: "default"))
        XCTAssertNil(BPEPreTokenizer(name: "chatglm-bpe"))
        XCTAssertEqual(Set(BPEPreTokenizer.names.values), Set(BPEPreTokenizer.allCases))
    }

    /// Words always cover the text, in order, with no empty word.
    func testWordsCoverTheText() {
        let texts = ["", " ", "Hello world", "  \n\n\t x", "I'M 12345 ٣٤٥٦ ok!!\n", "你好 世界\u{3000}a", "cafe\u{301} \r\n",
                     "🦙🦙 emoji", "   trailing   "]
        for pre in BPEPreTokenizer.allCases {
            for text in texts {
                let w = words(pre, text)
                XCTAssertEqual(w.joined(), text, "\(pre) \(text.debugDescription)")
                XCTAssertFalse(w.contains(""), "\(pre) \(text.debugDescription)")
            }
        }
    }

    func testGPT2() {
        XCTAssertEqual(words(.gpt2, "Hello world"), ["Hello", " world"])
        // Contractions are case-sensitive: "'T" is punctuation, then a letter.
        XCTAssertEqual(words(.gpt2, "don't DON'T"), ["don", "'t", " DON", "'", "T"])
        // Numbers stay one run; a space leads letters, numbers and punctuation alike.
        XCTAssertEqual(words(.gpt2, "a 12345 $5"), ["a", " 12345", " $", "5"])
        // \s+(?!\S): a space run gives its last space to the next word; at the end it stays whole.
        XCTAssertEqual(words(.gpt2, "a   b   "), ["a", "  ", " b", "   "])
        // A newline run before a letter: no alternative takes the last one with the letter.
        XCTAssertEqual(words(.gpt2, "x!!\n\ny"), ["x", "!!", "\n", "\n", "y"])
        XCTAssertEqual(words(.gpt2, "\tfoo"), ["\t", "foo"])
    }

    func testFalcon() {
        // Punctuation and ASCII symbols split first, GPT-2's expression runs inside each piece (a piece's trailing
        // space stays whole), then ASCII digits go in threes from the left.
        XCTAssertEqual(words(.falcon, "a 12345 $5, x!!"), ["a", " ", "123", "45", " ", "$", "5", ",", " x", "!!"])
        XCTAssertEqual(words(.falcon, "x٣٤٥٦"), ["x", "٣٤٥٦"])
    }

    func testDeepSeekCoder() {
        // CJK ideographs are letters (a space leads them), then the CJK expression splits the space off again;
        // numbers go one codepoint at a time.
        XCTAssertEqual(words(.deepseekCoder, "Hi, 你好世界 x12"), ["Hi", ",", " ", "你好世界", " x", "1", "2"])
        // A symbol is not punctuation: the space and "$" between two letter matches stay one piece.
        XCTAssertEqual(words(.deepseekCoder, "a $b\n"), ["a", " $", "b", "\n"])
    }

    func testSmolLMIsolatesEveryDigit() {
        XCTAssertEqual(words(.smollm, "a 123b"), ["a", " ", "1", "2", "3", "b"])
    }

    func testLlama3() {
        XCTAssertEqual(words(.llama3, "Hello world"), ["Hello", " world"])
        // Contractions are case-insensitive.
        XCTAssertEqual(words(.llama3, "DON'T I'm"), ["DON", "'T", " I", "'m"])
        // Numbers in runs of at most three, a space before them is its own word; other scripts' digits count.
        XCTAssertEqual(words(.llama3, "I'm 12345 ok"), ["I", "'m", " ", "123", "45", " ok"])
        XCTAssertEqual(words(.llama3, "x٣٤٥٦"), ["x", "٣٤٥", "٦"])
        // One non-letter, non-newline character leads a letter run (a tab, an apostrophe); a space before
        // punctuation goes with the punctuation instead.
        XCTAssertEqual(words(.llama3, "\tfoo 'bar x'y $100"), ["\tfoo", " '", "bar", " x", "'y", " $", "100"])
        // Punctuation takes the newlines that follow it; a whitespace run ends at its last newline.
        XCTAssertEqual(words(.llama3, "x!!\n\ny"), ["x", "!!\n\n", "y"])
        XCTAssertEqual(words(.llama3, "a  \n  b"), ["a", "  \n", " ", " b"])
        XCTAssertEqual(words(.llama3, "a   b   "), ["a", "  ", " b", "   "])
        // A combining mark is not a letter here: it stands alone.
        XCTAssertEqual(words(.llama3, "cafe\u{301}"), ["cafe", "\u{301}"])
        XCTAssertEqual(words(.llama3, "你好世界"), ["你好世界"])
    }

    func testQwen2SplitsEveryDigit() {
        XCTAssertEqual(words(.qwen2, "I'm 12345 ok"), ["I", "'m", " ", "1", "2", "3", "4", "5", " ok"])
        XCTAssertEqual(words(.qwen2, "cafe\u{301}"), ["cafe", "\u{301}"])
    }

    func testQwen35KeepsMarksWithLetters() {
        XCTAssertEqual(words(.qwen35, "cafe\u{301} na\u{308}ive"), ["cafe\u{301}", " na\u{308}ive"])
        XCTAssertEqual(words(.qwen35, "12"), ["1", "2"])
    }

    func testDeepSeekLLM() {
        // [\r\n] first; Latin letters with one space before; CJK runs; numbers.
        XCTAssertEqual(words(.deepseekLLM, "Hello world\n123 你好"), ["Hello", " world", "\n", "123", " ", "你好"])
        // Whitespace ending a piece is one word.
        XCTAssertEqual(words(.deepseekLLM, "foo  "), ["foo", "  "])
        // U+3000 is whitespace to the wide regexes, so it leads the letters after it.
        XCTAssertEqual(words(.deepseekLLM, "a\u{3000}b"), ["a", "\u{3000}b"])
        // Letters were split off first, then punctuation runs, full-width ones with one space before.
        XCTAssertEqual(words(.deepseekLLM, "x! ！？"), ["x", "!", " ！？"])
    }
}
