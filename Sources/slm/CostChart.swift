import Foundation
import SLMEngine

/// `slm cost --chart`: a horizontal bar chart, one group per row (this machine, then each cloud model), an input
/// and an output bar each, in USD per 1M characters of text (the unit the comparison uses). The axis is logarithmic
/// when the values span more than 30x, linear otherwise. Plain SVG 1.1: no script, no external fonts or styles.
enum CostChart {
    struct Row {
        var label: String
        var input: Double?
        var output: Double?
        var local: Bool
    }

    static func rows(_ r: CostReport) -> [Row] {
        let cpt = r.charsPerToken.local
        var rows = [Row(label: "this machine, one stream", input: r.localInputPerMChar,
                        output: r.local.usdPerMTokOutput.map { $0 / cpt }, local: true)]
        let best = r.measured.bestDecode
        if best.concurrency > 1, let o = r.local.usdPerMTokOutputBatched[best.concurrency] {
            rows.append(Row(label: "this machine, batched x\(best.concurrency)", input: r.localInputPerMChar, output: o / cpt, local: true))
        }
        rows += r.cloud.map { Row(label: shortened("\($0.row.provider) \($0.row.model)"), input: $0.cloudInputPerMChar,
                                  output: $0.cloudOutputPerMChar, local: false) }
        return rows
    }

    static func svg(_ r: CostReport, title: String) -> String {
        let rows = rows(r)
        let values = rows.flatMap { [$0.input, $0.output] }.compactMap { $0 }.filter { $0 > 0 && $0.isFinite }
        let lo = values.min() ?? 0.001, hi = values.max() ?? 1
        let log = hi / lo > 30
        let labelW = 360.0, plotW = 520.0, rowH = 30.0, top = 64.0
        let width = labelW + plotW + 40, height = top + Double(rows.count) * rowH + 56
        // Axis range: whole powers of ten around the data (log), or 0 to a round maximum (linear).
        let minExp = floor(log10(lo)), maxExp = ceil(log10(hi)) == floor(log10(lo)) ? floor(log10(lo)) + 1 : ceil(log10(hi))
        let linMax = niceMax(hi)
        func x(_ v: Double) -> Double {
            if log { return labelW + (log10(max(v, pow(10, minExp))) - minExp) / (maxExp - minExp) * plotW }
            return labelW + v / linMax * plotW
        }
        var s = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="white"/>
            <text x="10" y="20" font-size="15" font-weight="bold">\(escape(title))</text>
            <text x="10" y="38" fill="#444">\(escape("\(r.hardware.name) at $\(r.hardware.usdPerHour)/hour; \(String(format: "%.2f", r.charsPerToken.local)) chars/token local, \(r.charsPerToken.cloud) assumed for the cloud; \(log ? "log scale" : "linear scale")"))</text>
            <rect x="\(Int(labelW))" y="46" width="12" height="10" fill="#3b6fb6"/><text x="\(Int(labelW) + 16)" y="55">input</text>
            <rect x="\(Int(labelW) + 70)" y="46" width="12" height="10" fill="#e07b39"/><text x="\(Int(labelW) + 86)" y="55">output</text>

            """
        // Grid and tick labels.
        let ticks: [Double] = log ? stride(from: minExp, through: maxExp, by: 1).map { pow(10, $0) }
            : stride(from: 0, through: linMax, by: linMax / 5).map { $0 }
        let axisY = top + Double(rows.count) * rowH
        for t in ticks {
            let tx = String(format: "%.1f", x(t))
            s += "<line x1=\"\(tx)\" y1=\"\(Int(top) - 4)\" x2=\"\(tx)\" y2=\"\(Int(axisY))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(tx)\" y=\"\(Int(axisY) + 16)\" text-anchor=\"middle\" fill=\"#444\">\(escape(CostRender.usd(t)))</text>\n"
        }
        s += "<text x=\"\(Int(labelW + plotW / 2))\" y=\"\(Int(axisY) + 36)\" text-anchor=\"middle\">USD per 1M characters of text</text>\n"
        for (i, row) in rows.enumerated() {
            let y = top + Double(i) * rowH
            s += "<text x=\"\(Int(labelW) - 8)\" y=\"\(String(format: "%.1f", y + 17))\" text-anchor=\"end\"\(row.local ? " font-weight=\"bold\"" : "")>\(escape(row.label))</text>\n"
            for (j, v) in [row.input, row.output].enumerated() {
                guard let v, v.isFinite, v > 0 else { continue }
                let by = y + 4 + Double(j) * 11
                let w = max(x(v) - labelW, 1)
                s += "<rect x=\"\(Int(labelW))\" y=\"\(String(format: "%.1f", by))\" width=\"\(String(format: "%.1f", w))\" height=\"10\" fill=\"\(j == 0 ? "#3b6fb6" : "#e07b39")\"\(row.local ? "" : " fill-opacity=\"0.75\"")><title>\(escape("\(row.label) \(j == 0 ? "input" : "output"): \(CostRender.usd(v)) per 1M characters"))</title></rect>\n"
            }
        }
        s += "<line x1=\"\(Int(labelW))\" y1=\"\(Int(top) - 4)\" x2=\"\(Int(labelW))\" y2=\"\(Int(axisY))\" stroke=\"#333\"/>\n"
        s += "</svg>\n"
        return s
    }

    /// At most 52 characters (the label column's width).
    static func shortened(_ s: String) -> String { s.count <= 52 ? s : String(s.prefix(51)) + "…" }

    /// 1, 2 or 5 times a power of ten, at least `v`.
    static func niceMax(_ v: Double) -> Double {
        guard v > 0, v.isFinite else { return 1 }
        let p = pow(10, floor(log10(v)))
        for m in [1.0, 2, 5, 10] where m * p >= v { return m * p }
        return 10 * p
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case _ where ch.value < 0x20 && ch != "\n" && ch != "\t": continue
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
