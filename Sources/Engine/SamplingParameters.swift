/// Sampling settings: the CLI's flag defaults and the server's request defaults are these.
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Float = 0.7
    public var topK: Int = 40
    public var topP: Float = 0.95
    public var minP: Float = 0.05
    public var repeatPenalty: Float = 1.0
    public var repeatWindow: Int = 64
    public var seed: UInt64 = 0xC0FFEE

    public init() {}
}
