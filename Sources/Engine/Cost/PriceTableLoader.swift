import Foundation

/// Reads a price table in `cloud-prices.json`'s shape: `{"as_of": "YYYY-MM-DD", "models": [row, ...]}`, each row
/// `provider`, `model`, `source`, `seen`, prices as `input_per_mtok_usd`, `output_per_mtok_usd` and optionally
/// `cached_input_per_mtok_usd` (null: none), cache rules `cache_min_prompt_tokens`, `cache_increment_tokens`,
/// `cache_write_per_mtok_usd`, and optional `confidence`, `status`, `notes`. A price may also be given per 1K tokens
/// (`_per_ktok_usd`) or per token (`_per_token_usd`); any other unit is refused. Other top-level keys are ignored.
extension PriceTable {
    public static func load(path: String) throws(CostError) -> PriceTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .priceTable("cannot read '\(path)'")
        }
        guard data.count <= 16 << 20 else { throw .priceTable("'\(path)' is over 16 MB") }
        guard let text = String(data: data, encoding: .utf8) else { throw .priceTable("'\(path)' is not UTF-8 text") }
        return try parse(text)
    }

    public static func parse(_ text: String) throws(CostError) -> PriceTable {
        let root: JSONValue
        do { root = try JSONValue.parse(text) } catch { throw .priceTable("not JSON: \(error)") }
        guard case .object = root else { throw .priceTable("expected a JSON object with 'as_of' and 'models'") }
        guard case .string(let asOf)? = root["as_of"] else { throw .priceTable("missing 'as_of' (a YYYY-MM-DD date)") }
        guard day(asOf) != nil else { throw .priceTable("'as_of' must be a YYYY-MM-DD date, got '\(asOf)'") }
        guard case .array(let models)? = root["models"] else { throw .priceTable("missing 'models' (an array of rows)") }
        guard !models.isEmpty else { throw .priceTable("'models' is empty") }
        var rows: [CloudPrice] = []
        for (i, m) in models.enumerated() { rows.append(try row(m, index: i + 1)) }
        return PriceTable(asOf: asOf, rows: rows)
    }

    /// Price-key units and the factor to USD per 1M tokens.
    static let units: [(suffix: String, factor: Double)] = [("mtok_usd", 1), ("ktok_usd", 1_000), ("token_usd", 1_000_000)]

    static func row(_ v: JSONValue, index: Int) throws(CostError) -> CloudPrice {
        guard case .object(let fields) = v else {
            throw .priceRow(row: index, name: "?", problem: .badValue(field: "row", expected: "an object"))
        }
        let provider: String? = if case .string(let s)? = v["provider"] { s } else { nil }
        let model: String? = if case .string(let s)? = v["model"] { s } else { nil }
        let name = [provider, model].compactMap { $0 }.joined(separator: " ")
        func fail(_ p: PriceRowProblem) -> CostError { .priceRow(row: index, name: name.isEmpty ? "?" : name, problem: p) }
        func string(_ key: String, required: Bool) throws(CostError) -> String? {
            switch v[key] {
            case .string(let s)?: return s
            case nil, .null?: if required { throw fail(.missingField(key)) } else { return nil }
            default: throw fail(.badValue(field: key, expected: "a string"))
            }
        }
        func count(_ key: String) throws(CostError) -> Int? {
            switch v[key] {
            case nil, .null?: return nil
            case .number(let s)?:
                guard let d = Double(s), d >= 0, d <= 10_000_000, d == d.rounded() else {
                    throw fail(.badValue(field: key, expected: "a whole number of tokens in 0...10000000"))
                }
                return Int(d)
            default: throw fail(.badValue(field: key, expected: "a number"))
            }
        }
        /// The price of `kind` in USD per 1M tokens, from whichever unit its key has; nil when absent or null.
        func price(_ kind: String, required: Bool) throws(CostError) -> Double? {
            let prefix = kind + "_per_"
            let keys = fields.map(\.0).filter { $0.hasPrefix(prefix) }
            guard let key = keys.first else {
                if required { throw fail(.missingField(kind + "_per_mtok_usd")) }
                return nil
            }
            guard keys.count == 1 else { throw fail(.badValue(field: key, expected: "given once (also '\(keys[1])')")) }
            guard let unit = units.first(where: { prefix + $0.suffix == key }) else { throw fail(.unknownUnit(key: key)) }
            switch v[key] {
            case .null?:
                if required { throw fail(.missingField(key)) }
                return nil
            case .number(let s)?:
                guard let d = Double(s), d.isFinite else { throw fail(.badValue(field: key, expected: "a finite number")) }
                guard d >= 0 else { throw fail(.negativePrice(field: key, value: d)) }
                let perM = d * unit.factor
                guard perM <= maxPrice else {
                    throw fail(.badValue(field: key, expected: "at most \(Int(maxPrice)) USD per 1M tokens"))
                }
                return perM
            default: throw fail(.badValue(field: key, expected: "a number or null"))
            }
        }
        guard let provider = try string("provider", required: true), !provider.isEmpty else { throw fail(.missingField("provider")) }
        guard let model = try string("model", required: true), !model.isEmpty else { throw fail(.missingField("model")) }
        guard let input = try price("input", required: true), let output = try price("output", required: true) else {
            throw fail(.missingField("input_per_mtok_usd"))
        }
        let cached = try price("cached_input", required: false)
        var rules = CacheRules()
        rules.minPromptTokens = try count("cache_min_prompt_tokens") ?? 0
        rules.incrementTokens = max(try count("cache_increment_tokens") ?? 1, 1)
        rules.writeUSDPerMTok = try price("cache_write", required: false)
        return CloudPrice(provider: provider, model: model, input: input, cachedInput: cached, output: output,
                          cacheRules: rules, source: try string("source", required: true) ?? "",
                          seen: try string("seen", required: true) ?? "", confidence: try string("confidence", required: false),
                          status: try string("status", required: false), notes: try string("notes", required: false))
    }
}
