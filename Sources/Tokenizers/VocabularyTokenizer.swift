/// What both tokenizer families do the same way around their `Vocabulary`: the special ids, the special-token split
/// with BOS/EOS around it, and the attribute rules that turn a token into output bytes. A family supplies two hooks:
/// how a run of plain text becomes ids, and what bytes a normal token's text stands for.
protocol VocabularyTokenizer: Tokenizer {
    var vocab: Vocabulary { get }
    /// Appends the ids of `bytes[range]`, a run of text with no special token in it. `afterSpecial`: the run starts
    /// the input or follows a special token.
    func encodeText(_ bytes: [UInt8], _ range: Range<Int>, afterSpecial: Bool, into out: inout [Int32])
    /// The output bytes of a token of type normal, from its vocabulary text.
    func normalTokenBytes(_ text: ArraySlice<UInt8>) -> [UInt8]
}

extension VocabularyTokenizer {
    public var vocabularySize: Int { vocab.count }
    public var bosToken: Int32? { vocab.bos }
    public var eosToken: Int32? { vocab.eos }
    public var eogTokens: Set<Int32> { vocab.eog }
    public var addBOS: Bool { vocab.addBOS }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        let bytes = Array(text.utf8)
        var out: [Int32] = []
        var previousWasSpecial = true
        if addSpecial && vocab.addBOS, let bos = vocab.bos { out.append(bos) }
        for fragment in vocab.splitSpecial(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                out.append(id)
                previousWasSpecial = true
            case .text(let range):
                encodeText(bytes, range, afterSpecial: previousWasSpecial, into: &out)
                previousWasSpecial = false
            }
        }
        if addSpecial && vocab.addEOS, let eos = vocab.eos { out.append(eos) }
        return out
    }

    public func tokenText(_ id: Int32) -> String? { vocab.contains(id) ? vocab.table.text(Int(id)) : nil }

    public func tokenBytes(_ id: Int32, renderSpecial: Bool) -> [UInt8] {
        guard vocab.contains(id) else { return [] }
        let attr = vocab.attributes[Int(id)]
        let text = vocab.table.bytes(Int(id))
        if !attr.isDisjoint(with: [.control, .unknown]) { return renderSpecial ? Array(text) : [] }
        if attr.contains(.userDefined) { return Array(text) }
        if attr.contains(.normal) { return normalTokenBytes(text) }
        if attr.contains(.byte) { return byteTokenValue(text).map { [$0] } ?? [] }
        return []
    }

    public func decode(_ ids: [Int32], renderSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: tokenBytes(id, renderSpecial: renderSpecial)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func isControl(_ id: Int32) -> Bool { vocab.isControl(id) }

    public func id(forTokenText text: String) -> Int32? { vocab.table.id(Array(text.utf8)) }
}

/// The byte a "<0xNN>" token stands for.
func byteTokenValue(_ text: ArraySlice<UInt8>) -> UInt8? {
    guard text.count == 6 else { return nil }
    let t = Array(text)
    guard t[0] == 0x3C, t[1] == 0x30, t[2] == 0x78, t[5] == 0x3E else { return nil }
    return UInt8(String(decoding: t[3...4], as: UTF8.self), radix: 16)
}
