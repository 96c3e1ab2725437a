import Foundation
import SLMModels

/// One request inside the scheduler: its decoder, its KV cache slot, where its prefill stands and the prefix blocks it
/// computed. Confined to the scheduler's thread once admitted.
final class ScheduledSequence {
    enum Phase { case waiting, prefilling, decoding }

    let ticket: SequenceTicket
    let request: ScheduledRequest
    let onEvent: @Sendable (SequenceEvent) -> Void
    var decoder: SequenceDecoder
    var phase = Phase.waiting
    var slot = -1
    var cache: KVCache?

    /// Input positions (prompt + control suffix) already in the cache, restored or computed.
    var fed = 0
    var cachedTokens = 0
    /// The input's complete blocks in order (restored, then captured as computed), and their hashes.
    var blocks: [KVBlock] = []
    var hashes: [Hash128] = []
    /// What the next decode step evaluates: the sampled token, or tokens the engine inserts.
    var pending: [Int32] = []
    /// Speculation (while decoding, when the scheduler speculates): the sequence's tokens for prompt lookup, the
    /// draft length policy, this step's tokens (`pending`, then `draftCount` drafts; reused from step to step), and
    /// the totals for the stats.
    var lookup: PromptLookup?
    var policy = DraftPolicy(maxLength: 0)
    var stepTokens: [Int32] = []
    var draftCount = 0
    var draftedTokens = 0
    var acceptedTokens = 0

    let submitted: ContinuousClock.Instant
    var prefillStart: ContinuousClock.Instant?
    var decodeStart: ContinuousClock.Instant?
    var prefillMs = 0.0
    /// Seconds of the steps it took part in, each split by the rows it brought.
    var machineSeconds = 0.0

    init(ticket: SequenceTicket, request: ScheduledRequest, decoder: SequenceDecoder,
         onEvent: @escaping @Sendable (SequenceEvent) -> Void, now: ContinuousClock.Instant) {
        self.ticket = ticket
        self.request = request
        self.decoder = decoder
        self.onEvent = onEvent
        submitted = now
    }

    var input: [Int32] { decoder.input }
    var position: Int { (cache?.count ?? 1) - 1 }

    /// The hash of the input's first complete block, if any: two sequences that share it share a cacheable prefix.
    var firstBlockHash: Hash128? { hashes.first }
}
