import Foundation
import SLMEngine

/// What a cost report was measured with, beside the report itself.
struct CostContext {
    var model: String
    var threads: Int
    var machine: MachineProfile
    var table: PriceTable
    var prompt: Int
    var generate: Int
    var repetitions: Int
}

struct ReplayContext {
    var model: String
    var threads: Int
    var machine: MachineProfile
    var table: PriceTable
    var workload: String
    var parallel: Int
    var prefixCache: Bool
    var prefillTokS: Double
}

/// `slm cost` and `slm cost replay` as markdown or JSON (docs/INTERFACE.md gives the JSON's shape).
enum CostRender {
    // MARK: JSON

    static func num(_ d: Double?) -> JSONValue {
        guard let d, d.isFinite else { return .null }
        return .number(d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)")
    }
    static func int(_ i: Int) -> JSONValue { .number(String(i)) }
    static func str(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    static func counts(_ m: [Int: Double]) -> JSONValue { .object(m.keys.sorted().map { (String($0), num(m[$0])) }) }

    static func hardware(_ h: HardwareCost) -> JSONValue {
        var f: [(String, JSONValue)] = [("name", .string(h.name)), ("description", .string(h.description)),
                                        ("kind", .string(h.owned == nil ? "rented" : "owned")),
                                        ("usd_per_hour", num(h.usdPerHour)), ("source", .string(h.source))]
        if let d = h.owned {
            f += [("device_usd", num(d.deviceUSD)), ("watts", num(d.watts)), ("usd_per_kwh", num(d.usdPerKWh)),
                  ("years", num(d.years)), ("utilization", num(d.utilization))]
        }
        return .object(f)
    }

    static func charsPerToken(_ c: CharsPerToken) -> JSONValue {
        .object([("local", num(c.local)), ("local_basis", .string(c.localBasis)), ("cloud", num(c.cloud)),
                 ("cloud_basis", .string(c.cloudBasis))])
    }

    static func tableInfo(_ t: PriceTable) -> JSONValue {
        .object([("as_of", .string(t.asOf)), ("rows", int(t.rows.count)), ("age_days", t.ageDays().map(int) ?? .null),
                 ("stale_warning", str(t.staleWarning()))])
    }

    static func json(_ r: CostReport, _ c: CostContext) -> String {
        let measured: JSONValue = .object([
            ("prefill_tok_s", num(r.measured.prefillTokS)), ("decode_tok_s", num(r.measured.decodeTokS)),
            ("decode_batched", counts(r.measured.decodeBatched)), ("cache_restore_tok_s", num(r.measured.cacheRestoreTokS)),
            ("prompt_tokens", int(c.prompt)), ("generated_tokens", int(c.generate)), ("repetitions", int(c.repetitions)),
        ])
        let local: JSONValue = .object([
            ("usd_per_mtok_input", num(r.local.usdPerMTokInput)), ("usd_per_mtok_cached_input", num(r.local.usdPerMTokCachedInput)),
            ("usd_per_mtok_output", num(r.local.usdPerMTokOutput)),
            ("usd_per_mtok_output_batched", counts(r.local.usdPerMTokOutputBatched)),
            ("usd_per_mchar_input", num(r.localInputPerMChar)), ("usd_per_mchar_output", num(r.localOutputPerMChar)),
        ])
        let cloud: [JSONValue] = r.cloud.map { x in
            .object([
                ("model", .string(x.row.model)), ("provider", .string(x.row.provider)),
                ("input", num(x.row.inputUSDPerMTok)), ("cached_input", num(x.row.cachedInputUSDPerMTok)),
                ("output", num(x.row.outputUSDPerMTok)), ("seen", .string(x.row.seen)), ("cheaper", .string(x.cheaper)),
                ("cheaper_input", str(x.cheaperInput?.rawValue)), ("cheaper_output", str(x.cheaperOutput?.rawValue)),
                ("ratio_input", num(x.ratioInput)), ("ratio_output", num(x.ratioOutput)),
                ("input_per_mchar", num(x.cloudInputPerMChar)), ("output_per_mchar", num(x.cloudOutputPerMChar)),
                ("break_even_mtok_per_month_input", num(x.breakEvenInputMTokPerMonth)),
                ("break_even_mtok_per_month_output", num(x.breakEvenOutputMTokPerMonth)),
                ("confidence", str(x.row.confidence)), ("status", str(x.row.status)), ("source", .string(x.row.source)),
            ])
        }
        let root: JSONValue = .object([
            ("model", .string(c.model)), ("threads", int(c.threads)), ("machine", .string(c.machine.summary)),
            ("measured", measured), ("hardware", hardware(r.hardware)), ("local", local),
            ("chars_per_token", charsPerToken(r.charsPerToken)),
            ("comparison", .string("per character of text; output at \(r.outputBasis.concurrency == 1 ? "single-stream decode" : "batched decode x\(r.outputBasis.concurrency)") (\(fmt1(r.outputBasis.tokS)) tok/s)")),
            ("price_table", tableInfo(c.table)), ("cloud", .array(cloud)),
        ])
        return pretty(root) + "\n"
    }

    static func json(_ r: ReplayReport, _ c: ReplayContext) -> String {
        let cloud: [JSONValue] = r.cloud.map { x in
            .object([
                ("model", .string(x.row.model)), ("provider", .string(x.row.provider)), ("usd", num(x.usd)),
                ("prompt_tokens", int(x.usage.promptTokens)), ("cache_hit_tokens", int(x.usage.cacheHitTokens)),
                ("cache_write_tokens", int(x.usage.cacheWriteTokens)), ("output_tokens", int(x.usage.outputTokens)),
                ("ratio", num(x.ratio)), ("cheaper", .string(x.cheaper.rawValue)), ("seen", .string(x.row.seen)),
                ("input", num(x.row.inputUSDPerMTok)), ("cached_input", num(x.row.cachedInputUSDPerMTok)),
                ("output", num(x.row.outputUSDPerMTok)), ("cache_write", num(x.row.cacheRules.writeUSDPerMTok)),
            ])
        }
        let root: JSONValue = .object([
            ("model", .string(c.model)), ("threads", int(c.threads)), ("machine", .string(c.machine.summary)),
            ("workload", .string(c.workload)), ("parallel", int(c.parallel)), ("prefix_cache", .bool(c.prefixCache)),
            ("requests", int(r.requests)), ("prompt_tokens", int(r.promptTokens)), ("cached_tokens", int(r.cachedTokens)),
            ("generated_tokens", int(r.generatedTokens)), ("reasoning_tokens", int(r.reasoningTokens)),
            ("wall_s", num(r.wallSeconds)), ("hardware", hardware(r.hardware)),
            ("local", .object([("usd", num(r.localUSD)), ("usd_per_request", num(r.requests > 0 ? r.localUSD / Double(r.requests) : nil)),
                               ("usd_per_mchar", num(r.localUSDPerMChar)), ("prefill_tok_s", num(c.prefillTokS))])),
            ("characters", .object([("input", int(r.inputCharacters)), ("output", int(r.outputCharacters))])),
            ("chars_per_token", charsPerToken(r.charsPerToken)),
            ("saved", .object([
                ("prefix_cache_tokens", int(r.prefixCacheSavedTokens)), ("prefix_cache_usd", num(r.prefixCacheSavedUSD)),
                ("reasoning_capped_requests", int(r.reasoningCappedRequests)),
                ("reasoning_tokens_avoided_at_most", int(r.reasoningAvoidedTokensAtMost)),
                ("reasoning_usd_avoided_at_most", num(r.reasoningAvoidedUSDAtMost)),
            ])),
            ("price_table", tableInfo(c.table)), ("cloud", .array(cloud)),
        ])
        return pretty(root) + "\n"
    }

    /// JSON text with two-space indents (objects and arrays of objects on several lines).
    static func pretty(_ v: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch v {
        case .object(let kv) where !kv.isEmpty:
            return "{\n" + kv.map { inner + JSONValue.string($0.0).serialized + ": " + pretty($0.1, indent: inner) }
                .joined(separator: ",\n") + "\n" + indent + "}"
        case .array(let a) where a.contains(where: { if case .object = $0 { true } else { false } }):
            return "[\n" + a.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        default: return v.serialized
        }
    }

    // MARK: Markdown

    /// Dollars with enough digits to tell small prices apart: 3 significant digits, no exponent.
    static func usd(_ d: Double?) -> String {
        guard let d, d.isFinite else { return "n/a" }
        if d == 0 { return "$0" }
        let digits = max(2, min(8, 2 - Int(floor(log10(abs(d))))))
        return "$" + String(format: "%.\(digits)f", d)
    }
    /// An hourly price as given ($0.1026), up to 4 significant digits.
    static func hourly(_ d: Double) -> String { "$" + String(format: "%.4g", d) }
    static func ratio(_ d: Double?) -> String {
        guard let d, d.isFinite else { return "n/a" }
        return d >= 10 ? String(format: "%.0fx", d) : d >= 0.1 ? String(format: "%.2fx", d) : String(format: "%.3fx", d)
    }
    static func mtok(_ d: Double?) -> String {
        guard let d else { return "never" }
        return d >= 100 ? String(format: "%.0f M", d) : String(format: "%.2f M", d)
    }

    static func markdown(_ r: CostReport, _ c: CostContext) -> String {
        let m = r.measured
        var s = "## slm cost: \(c.model), \(c.threads) threads on \(c.machine.summary)\n\n"
        s += "Hardware: \(r.hardware.description): **\(hourly(r.hardware.usdPerHour))/hour**.\n\n"
        let batched = m.decodeBatched.keys.sorted().map { "x\($0) \(fmt1(m.decodeBatched[$0]!))" }.joined(separator: ", ")
        s += "Measured (median of \(c.repetitions)): prefill \(fmt1(m.prefillTokS)) tok/s (\(c.prompt)-token prompt); decode "
            + "\(fmt1(m.decodeTokS)) tok/s (one stream, after \(c.prompt) tokens)"
            + (batched.isEmpty ? "" : "; batched decode \(batched) tok/s in all") + "; prefix-cache restore \(fmt1(m.cacheRestoreTokS)) tok/s.\n\n"
        s += "| this machine | $/1M input | $/1M cached input | $/1M output | $/1M chars in | $/1M chars out |\n"
        s += "| --- | ---: | ---: | ---: | ---: | ---: |\n"
        let cpt = r.charsPerToken.local
        s += "| one stream | \(usd(r.local.usdPerMTokInput)) | \(usd(r.local.usdPerMTokCachedInput)) | \(usd(r.local.usdPerMTokOutput)) "
            + "| \(usd(r.localInputPerMChar)) | \(usd(r.local.usdPerMTokOutput.map { $0 / cpt })) |\n"
        for n in r.local.usdPerMTokOutputBatched.keys.sorted() where n > 1 {
            let o = r.local.usdPerMTokOutputBatched[n]
            s += "| batched x\(n) | | | \(usd(o)) | | \(usd(o.map { $0 / cpt })) |\n"
        }
        s += "\nCharacters per token: \(String(format: "%.2f", cpt)) for this model (\(r.charsPerToken.localBasis)); "
            + "\(r.charsPerToken.cloudBasis). Comparisons are per character of text; output at "
            + (r.outputBasis.concurrency == 1 ? "single-stream decode" : "batched decode x\(r.outputBasis.concurrency)") + ".\n\n"
        let owned = r.hardware.owned != nil
        s += "| provider | model | $/1M in | $/1M cached | $/1M out | seen | local/cloud in | local/cloud out | cheaper |"
            + (owned ? " break-even in/out (tokens/month) |" : "") + "\n"
        s += "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | --- |" + (owned ? " ---: |" : "") + "\n"
        for x in r.cloud {
            s += "| \(x.row.provider) | \(x.row.model) | \(usd(x.row.inputUSDPerMTok)) | \(usd(x.row.cachedInputUSDPerMTok)) "
                + "| \(usd(x.row.outputUSDPerMTok)) | \(x.row.seen) | \(ratio(x.ratioInput)) | \(ratio(x.ratioOutput)) | \(x.cheaper) |"
                + (owned ? " \(mtok(x.breakEvenInputMTokPerMonth)) / \(mtok(x.breakEvenOutputMTokPerMonth)) |" : "") + "\n"
        }
        if owned {
            s += "\nBreak-even: the monthly volume (millions of this model's tokens, all input or all output) at which the device's "
                + "purchase (spread over its years) plus electricity equals the cloud bill; this machine could do at most "
                + "\(mtok(CostReport.capacityMTokPerMonth(tokS: r.outputBasis.tokS))) output tokens a month.\n"
        }
        s += "\nPrices: table as of \(c.table.asOf) (`slm cost prices` lists sources and confidence). A ratio below 1: "
            + "this machine is cheaper for the same text.\n"
        return s
    }

    static func markdown(_ r: ReplayReport, _ c: ReplayContext) -> String {
        var s = "## slm cost replay: \(c.workload) with \(c.model), \(c.threads) threads on \(c.machine.summary)\n\n"
        s += "\(r.requests) requests, \(c.parallel) at a time, prefix cache \(c.prefixCache ? "on" : "off"): "
            + "prompt \(r.promptTokens) tokens (\(r.cachedTokens) cached), generated \(r.generatedTokens) "
            + "(\(r.reasoningTokens) reasoning), wall time \(String(format: "%.1f", r.wallSeconds)) s.\n\n"
        s += "On this machine (\(r.hardware.name) at \(hourly(r.hardware.usdPerHour))/hour): **\(usd(r.localUSD))** "
            + "(\(usd(r.requests > 0 ? r.localUSD / Double(r.requests) : nil)) per request, \(usd(r.localUSDPerMChar)) per 1M characters of text).\n\n"
        s += "Saved by slm: \(r.prefixCacheSavedTokens) prompt tokens restored from the prefix cache instead of computed "
            + "(\(usd(r.prefixCacheSavedUSD)) at \(fmt1(c.prefillTokS)) tok/s prefill); \(r.reasoningCappedRequests) reasoning "
            + "sections ended by their budget, at most \(r.reasoningAvoidedTokensAtMost) tokens not generated (\(usd(r.reasoningAvoidedUSDAtMost)) at most).\n\n"
        s += "Characters per token: \(String(format: "%.2f", r.charsPerToken.local)) for this model (\(r.charsPerToken.localBasis)); "
            + "cloud token counts use \(r.charsPerToken.cloudBasis).\n\n"
        s += "| provider | model | workload at list prices | prompt tokens (cache hits / writes) | output tokens | local/cloud | cheaper |\n"
        s += "| --- | --- | ---: | ---: | ---: | ---: | --- |\n"
        for x in r.cloud {
            s += "| \(x.row.provider) | \(x.row.model) | \(usd(x.usd)) | \(x.usage.promptTokens) (\(x.usage.cacheHitTokens) / "
                + "\(x.usage.cacheWriteTokens)) | \(x.usage.outputTokens) | \(ratio(x.ratio)) | \(x.cheaper.rawValue) |\n"
        }
        s += "\nCache hits follow each provider's rules (minimum prompt length, increments, write surcharges) on the prefix a "
            + "request shares with earlier ones; reasoning is billed as output. Prices as of \(c.table.asOf).\n"
        return s
    }

    static func pricesMarkdown(_ t: PriceTable) -> String {
        var s = "Cloud prices, USD per 1M tokens, table as of \(t.asOf) (\(t.ageDays().map { "\($0) days old" } ?? "undated")).\n\n"
        s += "| provider | model | input | cached input | output | cache rules | seen | confidence | status | source |\n"
        s += "| --- | --- | ---: | ---: | ---: | --- | --- | --- | --- | --- |\n"
        for r in t.rows {
            var rules: [String] = []
            if r.cachedInputUSDPerMTok != nil {
                if r.cacheRules.minPromptTokens > 0 { rules.append("min \(r.cacheRules.minPromptTokens)") }
                if r.cacheRules.incrementTokens > 1 { rules.append("steps of \(r.cacheRules.incrementTokens)") }
                if let w = r.cacheRules.writeUSDPerMTok { rules.append("write \(usd(w))") }
            }
            s += "| \(r.provider) | \(r.model) | \(usd(r.inputUSDPerMTok)) | \(usd(r.cachedInputUSDPerMTok)) | \(usd(r.outputUSDPerMTok)) "
                + "| \(rules.joined(separator: ", ")) | \(r.seen) | \(r.confidence ?? "") | \(r.status ?? "") | \(r.source) |\n"
        }
        return s
    }
}
