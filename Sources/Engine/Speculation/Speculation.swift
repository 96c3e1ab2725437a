/// Speculative decoding settings for a single-sequence generation (`Engine.generate`; the scheduler ignores them).
/// Drafts come from prompt lookup; the output is byte-identical with speculation on or off.
public struct Speculation: Sendable, Equatable {
    /// Most draft tokens verified per forward pass (0: off).
    public var draftMax: Int
    /// Fewest trailing tokens that must match earlier text before it is used as a draft.
    public var minMatch: Int

    public init(draftMax: Int = Speculation.defaultDraftMax, minMatch: Int = Speculation.defaultMinMatch) {
        self.draftMax = max(0, draftMax)
        self.minMatch = max(1, minMatch)
    }

    public static let off = Speculation(draftMax: 0)
    /// Chosen by measurement (Benchmarks/README.md, "Speculative decoding").
    public static let defaultDraftMax = 6
    public static let defaultMinMatch = 3

    public var enabled: Bool { draftMax > 0 }
}
