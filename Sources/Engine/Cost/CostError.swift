/// What the cost module refuses: a price table, a hardware description or a workload that cannot be used. Each case
/// names where the problem is (the table's row, the workload's line) so the message can say it in one line.
public enum CostError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The price table as a whole (not JSON, no `models`, a bad `as_of`).
    case priceTable(String)
    /// One row of the table: its 1-based index among `models` and its "provider model" (or "?" when unnamed).
    case priceRow(row: Int, name: String, problem: PriceRowProblem)
    /// A hardware flag or preset that cannot price an hour.
    case hardware(String)
    /// One line of a workload file (1-based, as an editor counts).
    case workloadLine(line: Int, problem: String)
    /// The workload as a whole (empty, too many requests).
    case workload(String)

    public var description: String {
        switch self {
        case .priceTable(let s): return "price table: \(s)"
        case .priceRow(let row, let name, let problem): return "price table row \(row) (\(name)): \(problem)"
        case .hardware(let s): return s
        case .workloadLine(let line, let problem): return "workload line \(line): \(problem)"
        case .workload(let s): return "workload: \(s)"
        }
    }
}

public enum PriceRowProblem: Sendable, Equatable, CustomStringConvertible {
    case missingField(String)
    case negativePrice(field: String, value: Double)
    /// A price key whose unit is not one slm reads (`input_per_mtok_eur`, `output_per_ktok`).
    case unknownUnit(key: String)
    /// A field of the wrong type or a number out of range (non-finite, above `PriceTable.maxPrice`).
    case badValue(field: String, expected: String)

    public var description: String {
        switch self {
        case .missingField(let f): return "missing field '\(f)'"
        case .negativePrice(let f, let v): return "negative price \(v) in '\(f)'"
        case .unknownUnit(let k):
            return "unknown unit in '\(k)' (prices are read from <kind>_per_mtok_usd, _per_ktok_usd or _per_token_usd)"
        case .badValue(let f, let e): return "'\(f)' must be \(e)"
        }
    }
}
