/// Splits raw text into words before BPE, as llama.cpp's `unicode_regex_split` does for a pre-tokenizer type
/// (`tokenizer.ggml.pre`). Each type is a list of expressions applied in turn: every expression splits each piece
/// the previous one left into its matches and the text between them, so the words cover the text in order.
/// The expressions are hand-coded over codepoint classes, the way llama.cpp's `unicode_regex_split_custom_*` are;
/// llama-vocab.cpp (`llm_tokenizer_bpe`) lists which type uses which.
///
/// To add a type: a case here, its names in `init?(name:)`, and its expression list in `split`; an expression that
/// is new gets its own file beside PreTokenizerGPT2.swift.
enum BPEPreTokenizer: Sendable, CaseIterable {
    /// GPT-2's `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)` (also mpt).
    case gpt2
    /// `\p{N}` (each number codepoint a word), then GPT-2's (also starcoder, refact, command-r).
    case smollm
    /// Llama 3's `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case llama3
    /// Qwen2's: Llama 3's with `\p{N}` for `\p{N}{1,3}`.
    case qwen2
    /// Qwen3.5's: Qwen2's with marks (`\p{M}`) counted with letters.
    case qwen35
    /// DeepSeek LLM's six expressions over explicit character ranges (PreTokenizerDeepSeek.swift).
    case deepseekLLM
    /// DeepSeek Coder's five: newlines, letters, punctuation, CJK ranges, single numbers (PreTokenizerDeepSeek.swift).
    case deepseekCoder
    /// Falcon's: punctuation runs, then GPT-2's, then 3-digit groups (PreTokenizerFalcon.swift).
    case falcon

    /// Every `tokenizer.ggml.pre` value accepted, as llama-vocab.cpp maps names to types.
    static let names: [String: BPEPreTokenizer] = [
        "gpt-2": .gpt2, "phi-2": .gpt2, "mpt": .gpt2, "olmo": .gpt2,
        "smollm": .smollm, "starcoder": .smollm, "refact": .smollm, "command-r": .smollm, "codeshell": .smollm,
        "llama3": .llama3, "llama-v3": .llama3, "llama-bpe": .llama3, "falcon3": .llama3, "dbrx": .llama3,
        "smaug-bpe": .llama3,
        "qwen2": .qwen2, "deepseek-r1-qwen": .qwen2, "stablelm2": .qwen2, "megrez": .qwen2,
        "qwen35": .qwen35,
        "deepseek-llm": .deepseekLLM,
        "deepseek-coder": .deepseekCoder,
        "falcon": .falcon,
    ]

    static var supportedNames: Set<String> { Set(names.keys) }

    init?(name: String) {
        guard let type = Self.names[name] else { return nil }
        self = type
    }

    /// llama.cpp's `ignore_merges`: a word that is itself a token is emitted whole, without merging (Llama 3).
    var ignoresMerges: Bool { self == .llama3 }

    /// llama.cpp sets `add_bos` for this type; `tokenizer.ggml.add_bos_token` still overrides it.
    var addsBOSByDefault: Bool { self == .llama3 }

    /// Word byte ranges of `text[range]`, in order, covering it.
    func split(_ text: [UInt8], _ range: Range<Int>) -> [Range<Int>] {
        let cps = CodepointText(text, range)
        var words: [Range<Int>] = []
        let whole = 0 ..< cps.count
        switch self {
        case .gpt2:
            cps.gpt2(whole, into: &words)
        case .smollm:
            var pieces: [Range<Int>] = []
            cps.isolateNumbers(whole, into: &pieces)
            for piece in pieces { cps.gpt2(piece, into: &words) }
        case .llama3:
            cps.llama3(whole, digitRun: 3, marksAreLetters: false, into: &words)
        case .qwen2:
            cps.llama3(whole, digitRun: 1, marksAreLetters: false, into: &words)
        case .qwen35:
            cps.llama3(whole, digitRun: 1, marksAreLetters: true, into: &words)
        case .deepseekLLM:
            words = cps.deepseekLLM()
        case .deepseekCoder:
            words = cps.deepseekCoder()
        case .falcon:
            words = cps.falcon()
        }
        return words.map { cps.starts[$0.lowerBound] ..< cps.starts[$0.upperBound] }
    }
}

/// A run of text as codepoints, each with its class and byte offset; expressions work on codepoint ranges.
struct CodepointText {
    var cps: [UInt32] = []
    var classes: [CodepointClass] = []
    /// Byte offset of each codepoint, plus the end of the text: cps[i] is text[starts[i] ..< starts[i + 1]].
    var starts: [Int] = []

    var count: Int { cps.count }

    /// The input came from a Swift String, so it is valid UTF-8; a sequence cut short by the range ends it.
    init(_ text: [UInt8], _ range: Range<Int>) {
        cps.reserveCapacity(range.count)
        starts.reserveCapacity(range.count + 1)
        var i = range.lowerBound
        while i < range.upperBound {
            let b0 = UInt32(text[i])
            var len = 1
            var cp = b0
            if b0 >= 0xF0 { len = 4; cp = b0 & 0x07 } else if b0 >= 0xE0 { len = 3; cp = b0 & 0x0F } else if b0 >= 0xC0 { len = 2; cp = b0 & 0x1F }
            len = min(len, range.upperBound - i)
            for k in 1..<max(len, 1) { cp = cp << 6 | (UInt32(text[i + k]) & 0x3F) }
            cps.append(cp)
            starts.append(i)
            i += len
        }
        starts.append(range.upperBound)
        classes = cps.map(CodepointClass.init)
    }

    /// `\p{N}`: every number codepoint of `piece` a word of its own, the text between one word.
    func isolateNumbers(_ piece: Range<Int>, into words: inout [Range<Int>]) {
        var start = piece.lowerBound
        for k in piece where classes[k].isNumber {
            if k > start { words.append(start ..< k) }
            words.append(k ..< k + 1)
            start = k + 1
        }
        if start < piece.upperBound { words.append(start ..< piece.upperBound) }
    }
}
