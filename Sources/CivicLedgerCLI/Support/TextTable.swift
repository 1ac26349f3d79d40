/// Columns aligned for a terminal, counting East Asian wide characters (汉字) as two columns.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []
    /// Columns aligned to the right (numbers).
    var rightAligned: Set<Int> = []

    init(_ headers: [String], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rightAligned = rightAligned
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        let all = [headers] + rows
        let widths = headers.indices.map { column in all.map { TextTable.width(of: $0[column]) }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - TextTable.width(of: cell))
                return rightAligned.contains(column) ? padding + cell : (column == row.count - 1 ? cell : cell + padding)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// Terminal columns: 2 for wide and fullwidth characters, 0 for combining marks.
    static func width(of text: String) -> Int {
        text.unicodeScalars.reduce(0) { total, scalar in
            let v = scalar.value
            if scalar.properties.generalCategory == .nonspacingMark || scalar.properties.generalCategory == .enclosingMark { return total }
            let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1FAFF).contains(v) || (0x20000...0x3FFFD).contains(v)
            return total + (wide ? 2 : 1)
        }
    }
}

/// How the CLI writes numbers for people (exact figures are in --json).
enum Figures {
    /// CNY with 亿 (10^8) or 万 (10^4): `3.32亿`, `4,500万`, `800`.
    static func cny(_ amount: Double) -> String {
        if amount >= 100_000_000 { return decimal(amount / 100_000_000, places: 2) + "亿" }
        if amount >= 10_000 { return grouped(Int64((amount / 10_000).rounded())) + "万" }
        return grouped(Int64(amount.rounded()))
    }

    /// A number as people write it: whole numbers grouped by thousands, others to 4 places.
    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? grouped(Int64(value)) : decimal(value, places: 4, trim: true)
    }

    static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (value < 0 ? "-" : "") + out
    }

    static func decimal(_ value: Double, places: Int, trim: Bool = false) -> String {
        var scale: Double = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale), fraction = scaled % Int64(scale)
        var fractionText = String(fraction)
        fractionText = String(repeating: "0", count: places - fractionText.count) + fractionText
        if trim { while fractionText.hasSuffix("0") { fractionText.removeLast() } }
        return (value < 0 ? "-" : "") + grouped(whole) + (fractionText.isEmpty ? "" : "." + fractionText)
    }
}
