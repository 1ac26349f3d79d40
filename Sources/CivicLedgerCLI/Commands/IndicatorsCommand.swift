import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerValues

struct IndicatorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "indicators",
        abstract: "Targets beside the latest reported figure for their metric and period: met or not.",
        discussion: """
            A target is met when the latest figure reported for the same metric, period, unit
            and basis compares with the target as its comparator says. Figures without a
            target are listed too.

            Example:
              civic-ledger indicators --json
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var projectionOptions: ProjectionOptions

    /// One line: a metric and period, with its target, its latest actual, and the verdict.
    struct Row {
        var metric: String
        var period: String
        var target: JSONObject?
        var actual: JSONObject?

        /// nil when there is nothing to compare.
        var met: Bool? {
            guard let target, let actual, let goal = target["value"]?.numberValue, let value = actual["value"]?.numberValue,
                  target["unit"] == actual["unit"], target["basis"] == actual["basis"] else { return nil }
            switch target["comparator"]?.stringValue {
            case ">=": return value >= goal
            case ">": return value > goal
            case "<=": return value <= goal
            case "<": return value < goal
            case "=": return value == goal
            default: return nil
            }
        }
    }

    static func rows(_ reader: ProjectionReader) throws -> [Row] {
        rows(targets: try reader.states(kind: "target").map(\.state), indicators: try reader.states(kind: "indicator").map(\.state))
    }

    /// Pairs each target with the reported figure of the same metric and period.
    static func rows(targets: [JSONObject], indicators: [JSONObject]) -> [Row] {
        var rows: [String: Row] = [:]
        func key(_ metric: String, _ period: String) -> String { metric + "\u{0}" + period }
        for state in targets {
            guard let metric = state["metric"]?.stringValue else { continue }
            for (period, value) in state["targets"]?.objectValue?.members ?? [] {
                rows[key(metric, period), default: Row(metric: metric, period: period)].target = value.objectValue
            }
        }
        for state in indicators {
            guard let metric = state["metric"]?.stringValue else { continue }
            for (period, value) in state["values"]?.objectValue?.members ?? [] {
                rows[key(metric, period), default: Row(metric: metric, period: period)].actual = value.objectValue
            }
        }
        return rows.values.sorted { ($0.metric, $0.period) < ($1.metric, $1.period) }
    }

    func run() throws {
        try reportingErrors {
            let ledger = try projectionOptions.open(ledgerOptions)
            let rows = try IndicatorsCommand.rows(try projectionOptions.reader(ledger))
            let out = Output.standardOutput
            if projectionOptions.json {
                for row in rows {
                    var members: [(String, JSONValue)] = [("metric", .string(row.metric)), ("period", .string(row.period))]
                    if let target = row.target { members.append(("target", .object(target))) }
                    if let actual = row.actual { members.append(("actual", .object(actual))) }
                    members.append(("met", row.met.map(JSONValue.bool) ?? .null))
                    out.jsonLine(.object(JSONObject(members)))
                }
            } else {
                out.line(IndicatorsCommand.table(rows))
            }
            out.flush()
        }
    }

    static func table(_ rows: [Row]) -> String {
        var table = TextTable(["METRIC", "PERIOD", "TARGET", "ACTUAL", "MET"])
        for row in rows {
            let target = row.target.map { t in
                [t["comparator"]?.stringValue, t["value"]?.numberValue.map(Figures.number), t["unit"]?.stringValue, t["basis"]?.stringValue]
                    .compactMap { $0 }.joined(separator: " ")
            } ?? "-"
            let actual = row.actual.map { a in
                [a["qualifier"]?.stringValue.flatMap { $0 == "exact" ? nil : $0 }, a["value"]?.numberValue.map(Figures.number),
                 a["unit"]?.stringValue, a["basis"]?.stringValue].compactMap { $0 }.joined(separator: " ")
            } ?? "-"
            table.add([row.metric, row.period, target, actual, row.met.map { $0 ? "yes" : "no" } ?? "-"])
        }
        return table.render()
    }
}
