/// The filters after the penalty, in llama.cpp's order: top-k, top-p, min-p, then temperature.
struct SamplingFilters {
    var topK: TopK
    var topP: TopP
    var minP: MinP
    var temperature: Temperature

    init(_ p: SamplingParameters) {
        topK = TopK(p.topK)
        topP = TopP(p.topP)
        minP = MinP(p.minP)
        temperature = Temperature(p.temperature)
    }

    mutating func apply(_ c: inout Candidates) {
        topK.apply(&c)
        topP.apply(&c)
        minP.apply(&c)
        temperature.apply(&c)
    }
}
