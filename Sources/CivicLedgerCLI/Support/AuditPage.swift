import LedgerAudit
import LedgerCore
import LedgerValues

/// The audit as one self-contained HTML page: no scripts, no network, no external assets. A
/// timeline chart of the zone (investment signed, housing units handed over, roads delivered,
/// cumulative, with the audit date marked) and the report's tables.
struct AuditPage {
    var title: String
    var asOfDate: String
    var audit: Auditor.Result
    var verification: VerificationReport
    var indicatorRows: [IndicatorsCommand.Row]

    func render() -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="zh-Hans"><head><meta charset="utf-8">
            <title>\(escape(title))</title>
            <style>
            body{font-family:"Noto Sans CJK SC","WenQuanYi Zen Hei","Noto Sans",sans-serif;margin:2em;color:#1d2733;background:#fff}
            h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccd}
            table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ccd;padding:.25em .6em;text-align:left}
            td.n{text-align:right} .ok{color:#1a7f37} .bad{color:#b42318} .muted{color:#667}
            svg{background:#f7f9fc;border:1px solid #dde}
            </style></head><body>
            <h1>\(escape(title))</h1>
            <p class="muted">\(audit.snapshotSeq.map { "From the audit snapshot of seq \($0) and the log after it" } ?? "Replayed from the ledger's log"): \(audit.states.count) entities, seq \(min(audit.point.knownAtSeq, audit.headSeq)) of \(audit.headSeq).</p>
            <p class="\(verification.isIntact ? "ok" : "bad")">Hash chain: \(verification.isIntact ? "intact, \(verification.events) events verified" : escape("verification FAILED at \(verification.problem!)"))</p>
            <h2>Timeline</h2>

            """
        html += chart()
        html += "<h2>The zone per year</h2>" + yearsTable()
        html += "<h2>Projects</h2>" + projectsTable()
        html += "<h2>Targets and reported figures</h2>" + indicatorsTable()
        html += "<h2>Changed by later records</h2>" + hindsightList()
        html += "</body></html>\n"
        return html
    }

    // MARK: The chart

    /// Cumulative series over time, each on its own scale, as stacked step lines.
    private func chart() -> String {
        var series: [(name: String, color: String, points: [(day: Int, amount: Double)])] = [
            ("Investment signed (CNY)", "#2563eb", []), ("Housing units handed over", "#16a34a", []), ("Roads delivered", "#d97706", []),
        ]
        for state in audit.states.values {
            if let signed = day(state["signed"]) { series[0].points.append((signed, state["totalInvestmentCny"]?.numberValue ?? 0)) }
            for (month, units) in state["unitsHandedOverByMonth"]?.objectValue?.members ?? [] {
                // A month's handovers drawn on its first day.
                if let date = day(.string(month + "-01")), let units = units.numberValue { series[1].points.append((date, units)) }
            }
            if let delivered = day(state["delivered"]) { series[2].points.append((delivered, 1)) }
        }
        let audited = day(.string(asOfDate)) ?? 0
        let days = series.flatMap { $0.points.map(\.day) } + [audited]
        let first = (days.min() ?? audited) - 15, last = max(days.max() ?? audited, audited) + 15
        let width = 860.0, rowHeight = 90.0, left = 180.0, plot = width - left - 20
        func x(_ day: Int) -> Double { left + plot * Double(day - first) / Double(max(1, last - first)) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(rowHeight) * series.count + 40)\" role=\"img\" aria-label=\"timeline\">\n"
        for (row, item) in series.enumerated() {
            let top = 20 + Double(row) * rowHeight, bottom = top + rowHeight - 25
            var total = 0.0
            let steps = item.points.sorted { $0.day < $1.day }.map { point -> (Int, Double) in total += point.amount; return (point.day, total) }
            let peak = max(total, 1)
            var path = "M\(fmt(x(first))),\(fmt(bottom))"
            var level = bottom
            for (day, value) in steps {
                path += " L\(fmt(x(day))),\(fmt(level))"
                level = bottom - (bottom - top) * value / peak
                path += " L\(fmt(x(day))),\(fmt(level))"
            }
            path += " L\(fmt(x(last))),\(fmt(level))"
            svg += "<text x=\"8\" y=\"\(fmt(top + 14))\" font-size=\"12\">\(escape(item.name))</text>\n"
            svg += "<text x=\"8\" y=\"\(fmt(top + 30))\" font-size=\"12\" fill=\"#667\">\(escape(row == 0 ? Figures.cny(total) : Figures.number(total)))</text>\n"
            svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(bottom))\" x2=\"\(fmt(width - 20))\" y2=\"\(fmt(bottom))\" stroke=\"#99a\"/>\n"
            svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(item.color)\" stroke-width=\"2.5\"/>\n"
        }
        let mark = x(audited)
        svg += "<line x1=\"\(fmt(mark))\" y1=\"10\" x2=\"\(fmt(mark))\" y2=\"\(Int(rowHeight) * series.count + 15)\" stroke=\"#b42318\" stroke-dasharray=\"5,4\" stroke-width=\"2\"/>\n"
        let anchor = mark > width - 160 ? "end" : "start"  // keep the label inside the chart
        svg += "<text x=\"\(fmt(anchor == "end" ? mark - 4 : mark + 4))\" y=\"\(Int(rowHeight) * series.count + 32)\" text-anchor=\"\(anchor)\" font-size=\"12\" fill=\"#b42318\">as of \(escape(asOfDate))</text>\n"
        svg += "<text x=\"\(fmt(left))\" y=\"\(Int(rowHeight) * series.count + 32)\" font-size=\"12\" fill=\"#667\">\(escape(CalendarDate(daysSinceEpoch: first).description))</text>\n"
        return svg + "</svg>\n"
    }

    private func day(_ value: JSONValue?) -> Int? {
        value?.stringValue.flatMap { CalendarDate(String($0.prefix(10))) }?.daysSinceEpoch
    }

    /// An SVG coordinate to a tenth (coordinates here are never negative).
    private func fmt(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    // MARK: Tables

    private func table(_ headers: [String], _ rows: [[String]], numeric: Set<Int> = []) -> String {
        guard !rows.isEmpty else { return "<p class=\"muted\">none</p>\n" }
        var html = "<table><tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for row in rows {
            html += "<tr>" + row.enumerated().map { "<td\(numeric.contains($0.offset) ? " class=\"n\"" : "")>\(escape($0.element))</td>" }.joined() + "</tr>\n"
        }
        return html + "</table>\n"
    }

    private func yearsTable() -> String {
        let rows = audit.years.counters.sorted { $0.key < $1.key }.map { year, counters in
            [year] + SummaryCommand.columns.map { column in
                column.counter == "investmentCny" ? Figures.cny(counters[column.counter] ?? 0) : Figures.number(counters[column.counter] ?? 0)
            }
        }
        return table(["Year"] + SummaryCommand.columns.map(\.title), rows, numeric: Set(1...SummaryCommand.columns.count))
    }

    private func projectsTable() -> String {
        let rows = audit.states.filter { $0.key.hasPrefix("project/") }.sorted { $0.key < $1.key }.map { stream, state in
            [String(stream.dropFirst(8)), ProjectsListCommand.name(state["investor"]), state["sector"]?.stringValue ?? "-",
             state["status"]?.stringValue ?? "-", state["totalInvestmentCny"]?.numberValue.map(Figures.cny) ?? "-", state["signed"]?.stringValue ?? "-"]
        }
        return table(["Project", "Investor", "Sector", "Status", "Investment", "Signed"], rows, numeric: [4])
    }

    private func indicatorsTable() -> String {
        let rows = indicatorRows.map { row in
            [row.metric, row.period, row.target.map(describe) ?? "-", row.actual.map(describe) ?? "-", row.met.map { $0 ? "met" : "not met" } ?? "-"]
        }
        return table(["Metric", "Period", "Target", "Reported", "Met"], rows)
    }

    private func describe(_ object: JSONObject) -> String {
        [object["comparator"]?.stringValue, object["value"]?.numberValue.map(Figures.number), object["unit"]?.stringValue,
         object["basis"]?.stringValue].compactMap { $0 }.joined(separator: " ")
    }

    private func hindsightList() -> String {
        guard !audit.hindsight.isEmpty else { return "<p class=\"muted\">Nothing recorded after the known-at point changes this answer.</p>\n" }
        return "<ul>" + audit.hindsight.map { item in
            "<li><b>\(escape(item.stream))</b>: " + item.events.map { escape("seq \($0.seq) \($0.type), recorded \($0.recorded)") }.joined(separator: "; ") + "</li>"
        }.joined(separator: "\n") + "</ul>\n"
    }

    private func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
