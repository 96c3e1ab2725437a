import Foundation

/// One prompt of Tests/Fixtures/logits-visible.json: llama.cpp's exact-math teacher-forced top-10 logits.
public struct LogitsCase: Sendable {
    public let prompt: String
    public let tokens: [Int32]
    public let top: [[(id: Int32, logit: Float)]]
    public let greedy: [Int32]
}

public enum LogitsReference {
    public static func cases(model: String) throws -> [LogitsCase] {
        let data = try Data(contentsOf: TestPaths.fixtures.appendingPathComponent("logits-visible.json"))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let models = root["models"] as? [String: Any], let list = models[model] as? [[String: Any]]
        else { throw CocoaError(.fileReadCorruptFile) }
        return parse(list)
    }

    /// The exact-math reference of an architecture test model (Tests/Fixtures/arch-models/logits-<arch>.Q8_0.json).
    public static func cases(architecture arch: String) throws -> [LogitsCase] {
        let url = TestPaths.fixtures.appendingPathComponent("arch-models/logits-\(arch).Q8_0.json")
        guard let root = try JSONSerialization.jsonObject(with: try Data(contentsOf: url)) as? [String: Any],
              let list = root["cases"] as? [[String: Any]]
        else { throw CocoaError(.fileReadCorruptFile) }
        return parse(list)
    }

    /// llama.cpp's exact-math perplexity of an architecture test model on ppl-gpl3.txt at context 512.
    public static func perplexity(architecture arch: String) throws -> Double {
        let url = TestPaths.fixtures.appendingPathComponent("arch-models/logits-\(arch).Q8_0.json")
        guard let root = try JSONSerialization.jsonObject(with: try Data(contentsOf: url)) as? [String: Any],
              let ppl = root["perplexity"] as? Double
        else { throw CocoaError(.fileReadCorruptFile) }
        return ppl
    }

    private static func parse(_ list: [[String: Any]]) -> [LogitsCase] {
        list.map { c in
            let top = (c["top"] as! [[[Double]]]).map { row in row.map { (Int32($0[0]), Float($0[1])) } }
            return LogitsCase(prompt: c["prompt"] as! String, tokens: (c["tokens"] as! [Int]).map(Int32.init),
                              top: top, greedy: (c["greedy"] as! [Int]).map(Int32.init))
        }
    }
}

/// The measures of ../shared/reference/README.md: at each position, whether our argmax equals the reference's top
/// token, and |our logit - reference logit| for the reference's top token.
public struct LogitsComparison: CustomStringConvertible {
    public private(set) var positions = 0
    public private(set) var agree = 0
    public private(set) var diffs: [Float] = []

    public init() {}

    /// `logits`: our full row for one position.
    public mutating func add(reference: [(id: Int32, logit: Float)], logits: UnsafeBufferPointer<Float>) {
        var best = 0
        for i in 0..<logits.count where logits[i] > logits[best] { best = i }
        let ref = reference[0]
        positions += 1
        if Int32(best) == ref.id { agree += 1 }
        diffs.append(abs(logits[Int(ref.id)] - ref.logit))
    }

    public var top1: Double { Double(agree) / Double(max(positions, 1)) }
    public func percentile(_ p: Double) -> Float {
        let s = diffs.sorted()
        guard !s.isEmpty else { return .nan }
        let i = min(s.count - 1, max(0, Int((p * Double(s.count - 1)).rounded())))
        return s[i]
    }
    public var median: Float { percentile(0.5) }

    public var description: String {
        String(format: "positions %d, top-1 %.2f%%, median |diff| %.4f, p99 %.4f, max %.4f",
               positions, top1 * 100, median, percentile(0.99), diffs.max() ?? 0)
    }
}
