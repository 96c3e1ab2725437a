/// A compiled grammar: every rule is a list of alternatives, each a run of elements in one flat array ending with
/// `.end`; repetition and groups are lowered to helper rules (llama.cpp's layout). A matcher's stack holds positions
/// into `elements`. Built once per grammar; immutable and shareable between sequences.
public struct Grammar: Sendable {
    enum Element: Equatable, Sendable {
        case end
        case ref(Int32)
        case chars(Int32)
    }

    let elements: [Element]
    /// Per rule: the positions where its alternatives start.
    let alternatives: [[Int32]]
    let classes: [CompiledCharSet]
    public let ruleNames: [String]
    let root: Int32
    /// Fewest bytes to finish from every element position (GrammarLength.swift).
    let lengths: GrammarLengths

    /// Lowered size limit: a grammar may not expand to more elements than this.
    static let maxElements = 1_000_000

    public init(gbnf source: String) throws(GrammarError) {
        let rules = try GBNFParser.parse(source)
        var lowering = GrammarLowering()
        try lowering.lower(rules)
        guard let root = lowering.index["root"] else { throw .missingRoot }
        var elements: [Element] = []
        var alternatives: [[Int32]] = []
        for alts in lowering.rules {
            var starts: [Int32] = []
            for seq in alts {
                starts.append(Int32(elements.count))
                elements.append(contentsOf: seq)
                elements.append(.end)
            }
            alternatives.append(starts)
        }
        self.elements = elements
        self.alternatives = alternatives
        let classes = lowering.classes.map(CompiledCharSet.init)
        self.classes = classes
        lengths = GrammarLengths(elements: elements, alternatives: alternatives, classes: classes)
        self.ruleNames = lowering.names
        self.root = Int32(root)
        try GrammarChecks.run(self)
    }
}

/// AST to flat rules: user rules keep their names; groups and repetitions get helper rules named after their parent.
struct GrammarLowering {
    var rules: [[[Grammar.Element]]] = []
    var names: [String] = []
    var index: [String: Int] = [:]
    var classes: [CharSet] = []
    private var classIndex: [CharSetKey: Int32] = [:]
    private var size = 0

    private struct CharSetKey: Hashable {
        var bounds: [UInt32]
        var negated: Bool
    }

    mutating func lower(_ parsed: [GBNFRule]) throws(GrammarError) {
        for r in parsed {
            if index[r.name] != nil { throw .duplicateRule(name: r.name, line: r.line, column: r.column) }
            index[r.name] = rules.count
            rules.append([])
            names.append(r.name)
        }
        for r in parsed {
            var alts: [[Grammar.Element]] = []
            for seq in r.alternatives { alts.append(try sequence(seq, parent: r.name)) }
            rules[index[r.name]!] = alts
        }
    }

    private mutating func newRule(_ parent: String, _ alts: [[Grammar.Element]]) throws(GrammarError) -> Grammar.Element {
        let n = "\(parent)_\(rules.count)"
        rules.append(alts)
        names.append(n)
        try grow(alts.reduce(0) { $0 + $1.count + 1 })
        return .ref(Int32(rules.count - 1))
    }

    private mutating func grow(_ n: Int) throws(GrammarError) {
        size += n
        if size > Grammar.maxElements { throw .tooLarge("more than \(Grammar.maxElements) elements after expanding repetitions") }
    }

    private mutating func charSet(_ c: CharSet) -> Grammar.Element {
        let key = CharSetKey(bounds: c.ranges.flatMap { [$0.lowerBound, $0.upperBound] }, negated: c.negated)
        if let k = classIndex[key] { return .chars(k) }
        let k = Int32(classes.count)
        classes.append(c)
        classIndex[key] = k
        return .chars(k)
    }

    private mutating func sequence(_ items: [GBNFItem], parent: String) throws(GrammarError) -> [Grammar.Element] {
        var out: [Grammar.Element] = []
        for item in items { out.append(contentsOf: try self.item(item, parent: parent)) }
        try grow(out.count)
        return out
    }

    private mutating func item(_ item: GBNFItem, parent: String) throws(GrammarError) -> [Grammar.Element] {
        switch item {
        case .chars(let c):
            return [charSet(c)]
        case .literal(let cps):
            return cps.map { charSet(.single($0)) }
        case .ref(let name, let line, let column):
            guard let k = index[name] else { throw .undefinedRule(name: name, line: line, column: column) }
            return [.ref(Int32(k))]
        case .group(let alts):
            if alts.count == 1 { return try sequence(alts[0], parent: parent) }
            var lowered: [[Grammar.Element]] = []
            for a in alts { lowered.append(try sequence(a, parent: parent)) }
            return [try newRule(parent, lowered)]
        case .repeated(let inner, let lo, let hi):
            var unit = try self.item(inner, parent: parent)
            if unit.count != 1 { unit = [try newRule(parent, [unit])] }
            try grow(lo + (hi ?? lo + 1))
            var out: [Grammar.Element] = []
            for _ in 0..<lo { out.append(contentsOf: unit) }
            if let hi {
                // x{0,k} as a chain: o1 ::= x | "", oj ::= x o(j-1) | "" (the reference is last: no stack growth).
                var tail: Grammar.Element? = nil
                if hi > lo {
                    for _ in 0..<(hi - lo) {
                        tail = try newRule(parent, [unit + (tail.map { [$0] } ?? []), []])
                    }
                }
                if let tail { out.append(tail) }
            } else {
                // x* as s ::= x s | "" (right recursion: the stack does not grow per repetition).
                let k = Int32(rules.count)
                rules.append([unit + [.ref(k)], []])
                names.append("\(parent)_\(k)")
                out.append(.ref(k))
            }
            return out
        }
    }
}
