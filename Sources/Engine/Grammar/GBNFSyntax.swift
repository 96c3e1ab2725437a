/// The parsed form of a GBNF grammar, before lowering: rules of alternatives of sequences of items.
struct GBNFRule {
    var name: String
    var alternatives: [[GBNFItem]]
    var line: Int
    var column: Int
}

/// A set of code points: sorted, non-overlapping closed ranges, possibly negated.
public struct CharSet: Sendable, Equatable {
    public var ranges: [ClosedRange<UInt32>]
    public var negated: Bool

    public init(ranges: [ClosedRange<UInt32>], negated: Bool) {
        self.ranges = ranges
        self.negated = negated
    }

    static let any = CharSet(ranges: [], negated: true)
    static func single(_ c: UInt32) -> CharSet { CharSet(ranges: [c...c], negated: false) }
}

indirect enum GBNFItem {
    case chars(CharSet)
    /// A string literal: one code point after another.
    case literal([UInt32])
    case ref(name: String, line: Int, column: Int)
    case group([[GBNFItem]])
    /// `item{min,max}`; max nil = unbounded (`*`, `+`, `{m,}`).
    case repeated(GBNFItem, min: Int, max: Int?)
}
