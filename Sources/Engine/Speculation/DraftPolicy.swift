/// How many tokens to draft at the next step, from how the recent drafts fared. A verify step of k + 1 rows costs
/// more than a one-row decode step (the weights are read once, but the arithmetic and the output matrix grow with the
/// rows), so a draft pays only when enough of it is accepted: the length grows while whole drafts are accepted and
/// falls to what was accepted (plus one) when one is cut short.
struct DraftPolicy {
    let maxLength: Int
    private(set) var length: Int

    init(maxLength: Int) {
        self.maxLength = max(0, maxLength)
        length = self.maxLength
    }

    mutating func record(drafted: Int, accepted: Int) {
        guard drafted > 0 else { return }
        if accepted == drafted {
            length = min(maxLength, length + 2)
        } else {
            length = max(1, accepted + 1)
        }
    }
}
