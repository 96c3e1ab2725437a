/// Token attributes, as llama.cpp's `llama_token_attr` bits.
struct TokenAttributes: OptionSet, Sendable {
    let rawValue: UInt16
    static let unknown = TokenAttributes(rawValue: 1 << 0)
    static let unused = TokenAttributes(rawValue: 1 << 1)
    static let normal = TokenAttributes(rawValue: 1 << 2)
    static let control = TokenAttributes(rawValue: 1 << 3)
    static let userDefined = TokenAttributes(rawValue: 1 << 4)
    static let byte = TokenAttributes(rawValue: 1 << 5)
    static let lstrip = TokenAttributes(rawValue: 1 << 7)
    static let rstrip = TokenAttributes(rawValue: 1 << 8)

    /// `tokenizer.ggml.token_type`: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte; others undefined.
    init(tokenType: Int) {
        switch tokenType {
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: self = []
        }
    }

    init(rawValue: UInt16) { self.rawValue = rawValue }
}

/// What both tokenizer families share: token texts and attributes, special ids, the end-of-generation set and the
/// special-token splitter. Built once per model; immutable.
final class Vocabulary: Sendable {
    enum Family: Sendable { case bpe, spm }

    let table: TokenTable
    let attributes: [TokenAttributes]
    let scores: [Float]
    let bos: Int32?
    let eos: Int32?
    let eot: Int32?
    let unknown: Int32?
    let addBOS: Bool
    let addEOS: Bool
    let eog: Set<Int32>
    /// Control, user-defined and unknown tokens, longest text first (llama.cpp's `cache_special_tokens`).
    let specialTokens: [Int32]

    var count: Int { table.count }

    /// `addBOSDefault`: whether BOS is added when `tokenizer.ggml.add_bos_token` is absent (nil: the family's default,
    /// llama true, gpt2 false; llama.cpp's Llama 3 pre-tokenizer says true).
    init(_ data: TokenizerData, family: Family, addBOSDefault: Bool? = nil) throws(TokenizerError) {
        let n = data.tokens.count
        guard n > 0 else { throw .emptyVocabulary }
        guard n < Int(Int32.max) else { throw .tooManyTokens(n) }
        table = try TokenTable(data.tokens)

        if let s = data.scores, s.count != n {
            throw .lengthMismatch(key: "tokenizer.ggml.scores", count: s.count, tokenCount: n)
        }
        scores = data.scores ?? [Float](repeating: 0, count: n)
        var attrs: [TokenAttributes]
        if let types = data.tokenTypes {
            guard types.count == n else {
                throw .lengthMismatch(key: "tokenizer.ggml.token_type", count: types.count, tokenCount: n)
            }
            attrs = types.map(TokenAttributes.init(tokenType:))
        } else {
            attrs = [TokenAttributes](repeating: .normal, count: n)
        }

        // Defaults as llama.cpp sets them per family; a default outside the vocabulary is dropped, an id from the
        // file outside it is an error.
        func special(_ value: Int?, _ key: String, default def: Int?) throws(TokenizerError) -> Int32? {
            if let value {
                guard value >= 0 && value < n else { throw .tokenIDOutOfRange(key: key, id: value, tokenCount: n) }
                return Int32(value)
            }
            if let def, def < n { return Int32(def) }
            return nil
        }
        bos = try special(data.bosID, "tokenizer.ggml.bos_token_id", default: family == .spm ? 1 : 11)
        eos = try special(data.eosID, "tokenizer.ggml.eos_token_id", default: family == .spm ? 2 : 11)
        unknown = try special(data.unknownID, "tokenizer.ggml.unknown_token_id", default: family == .spm ? 0 : nil)
        var eotFound = try special(data.eotID, "tokenizer.ggml.eot_token_id", default: nil)
        let eom = try special(data.eomID, "tokenizer.ggml.eom_token_id", default: nil)

        addBOS = data.addBOS ?? addBOSDefault ?? (family == .spm)
        addEOS = data.addEOS ?? false
        if addBOS && bos == nil {
            throw .missingSpecialToken(flagKey: "tokenizer.ggml.add_bos_token", idKey: "tokenizer.ggml.bos_token_id")
        }
        if addEOS && eos == nil {
            throw .missingSpecialToken(flagKey: "tokenizer.ggml.add_eos_token", idKey: "tokenizer.ggml.eos_token_id")
        }

        // llama.cpp recognises some tokens by their text (llama-vocab.cpp, "auto-detect special tokens by text"):
        // each one found is forced to control type, and the EOG set is built from EOS/EOT/EOM plus a text list.
        let table = self.table
        func find(_ texts: [String]) -> Int32? {
            // The lowest id among the texts present (llama.cpp takes the first in hash-map order).
            texts.compactMap { table.id(Array($0.utf8)) }.min()
        }
        func markControl(_ id: Int32?) {
            if let id { attrs[Int(id)].insert(.control) }
        }
        if eotFound == nil {
            eotFound = find(["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                             "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>",
                             "<end_of_utterance>"])
            markControl(eotFound)
        }
        let eomFound = eom ?? find(["<|eom_id|>"])
        markControl(eomFound)
        let fimLists: [[String]] = [
            ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
             "<|code_prefix|>", "<|prefix|>"],
            ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>",
             "<|code_suffix|>", "<|suffix|>"],
            ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>",
             "<|code_middle|>", "<|middle|>"],
        ]
        for list in fimLists { markControl(find(list)) }
        // FIM pad / repo / file-separator tokens end generation in llama.cpp.
        var eogSet = Set<Int32>()
        for list in [["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"],
                     ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"],
                     ["<|file_sep|>"]] {
            if let id = find(list) {
                markControl(id)
                eogSet.insert(id)
            }
        }
        let eogTexts: Set<String> = [
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
            "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
            "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
            "<｜end▁of▁sentence｜>", "[e~[",
        ]
        for text in eogTexts {
            if let id = table.id(Array(text.utf8)) {
                eogSet.insert(id)
                markControl(id)
            }
        }
        for text in ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"] {
            if let id = table.id(Array(text.utf8)) { attrs[Int(id)] = .userDefined }
        }
        for id in [eos, eotFound, eomFound] { if let id { eogSet.insert(id) } }
        // o200k_harmony / solar-open: "<|end|>" is not EOG when "<|return|>"+"<|call|>" or "<|calls|>"+"<|flush|>" are.
        func has(_ t: String) -> Bool { table.id(Array(t.utf8)).map { eogSet.contains($0) } ?? false }
        if let end = table.id(Array("<|end|>".utf8)), eogSet.contains(end),
           (has("<|return|>") && (has("<|call|>") || has("<|calls|>"))) || (has("<|calls|>") && has("<|flush|>")) {
            eogSet.remove(end)
            attrs[Int(end)] = .userDefined
        }
        // gemma4 / paddleocr: "</s>" is not EOG when "<|tool_response>" is.
        if has("<|tool_response>"), let s = table.id(Array("</s>".utf8)), eogSet.contains(s) {
            eogSet.remove(s)
            attrs[Int(s)] = .normal
        }

        var special: [Int32] = []
        for id in 0..<n where !attrs[id].isDisjoint(with: [.control, .userDefined, .unknown]) {
            special.append(Int32(id))
        }
        // Longest text first; llama.cpp's sort leaves equal lengths unordered, here they go by id.
        special.sort { a, b in
            let la = table.length(Int(a)), lb = table.length(Int(b))
            return la != lb ? la > lb : a < b
        }
        // llama.cpp's per-model attribute rule that applies to the families supported here (phi-3 strips spaces
        // to the right of its special tokens).
        let name = (data.modelName ?? "").lowercased()
        if name.contains("phi-3") || name.contains("phi3") {
            for id in special { attrs[Int(id)].insert(.rstrip) }
            if let id = table.id(Array("</s>".utf8)) { attrs[Int(id)].insert(.rstrip) }
            for t in ["<unk>", "<s>", "<|endoftext|>"] {
                if let id = table.id(Array(t.utf8)) { attrs[Int(id)].remove(.rstrip) }
            }
        }

        eot = eotFound
        eog = eogSet
        specialTokens = special
        attributes = attrs
    }

    func contains(_ id: Int32) -> Bool { id >= 0 && Int(id) < count }

    func isControl(_ id: Int32) -> Bool { contains(id) && attributes[Int(id)].contains(.control) }
}
