import Tokenizers

/// The reasoning section's markers for one tokenizer: its own think tokens where the vocabulary has them as single
/// tokens, else the text `<think>` / `</think>` tokenized as ordinary text.
public struct ReasoningMarkers: Sendable {
    public let open: String
    public let close: String
    /// What the engine appends to the prompt to open the section, and inserts to close it.
    public let openTokens: [Int32]
    public let closeTokens: [Int32]
    /// The close marker as one token, when the vocabulary has it (the model may emit it directly).
    public let closeToken: Int32?

    public init(tokenizer: any Tokenizer) {
        open = "<think>"
        close = "</think>"
        let single = tokenizer.id(forTokenText: close)
        closeToken = single
        openTokens = tokenizer.encode(open + "\n", addSpecial: false, parseSpecial: true)
        closeTokens = tokenizer.encode("\n" + close + "\n", addSpecial: false, parseSpecial: true)
    }
}

/// Per-sequence state of a capped reasoning section: counts the model's reasoning tokens, notices when the model
/// closes the section itself (the close text appearing in its output, or the close token), and says when the
/// engine must close it because the budget is spent.
struct ReasoningSection {
    let markers: ReasoningMarkers
    let budget: Int
    private(set) var tokens = 0
    private(set) var open = true
    private var tail: [UInt8] = []

    /// Opens the section; with budget 0 the engine closes it at the first step.
    init(markers: ReasoningMarkers, budget: Int) {
        self.markers = markers
        self.budget = max(budget, 0)
    }

    /// The budget is spent and the section still open: the engine closes it now.
    var mustClose: Bool { open && tokens >= budget }

    /// Records one reasoning token and its output bytes.
    mutating func record(_ token: Int32, bytes: ArraySlice<UInt8>) {
        tokens += 1
        if token == markers.closeToken { open = false; return }
        tail.append(contentsOf: bytes)
        let close = Array(markers.close.utf8)
        if tail.count >= close.count {
            // The close text may span tokens and be followed by more bytes of the same token.
            var k = 0
            while k + close.count <= tail.count {
                if Array(tail[k..<(k + close.count)]) == close { open = false; return }
                k += 1
            }
            tail.removeFirst(tail.count - (close.count - 1))
        }
    }

    mutating func closeNow() { open = false }
}
