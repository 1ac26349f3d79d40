import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerValues

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "The zone per year: projects signed and investment, roads, housing, facilities.",
        discussion: """
            Figures are counted from the ledger's events by effective date (what the zone
            reported as totals is under 'civic-ledger indicators').

            Examples:
              civic-ledger summary
              civic-ledger summary --year 2021 --json
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var projectionOptions: ProjectionOptions
    @Option(help: "Only this year, with projects by sector and origin.") var year: Int?

    static let columns: [(counter: String, title: String)] = [
        ("projectsSigned", "SIGNED"), ("investmentCny", "INVESTMENT"), ("projectsAtLeast100mCny", "≥1亿"),
        ("projectsAtLeast1bnCny", "≥10亿"), ("headquartersProjects", "HQ"), ("roadsDelivered", "ROADS"),
        ("housingUnitsHandedOver", "HOUSING UNITS"), ("facilitiesOpened", "FACILITIES"),
    ]

    func run() throws {
        try reportingErrors {
            let ledger = try projectionOptions.open(ledgerOptions)
            var years = try projectionOptions.reader(ledger).years()
            if let year { years = years.filter { $0.key == String(year) } }
            let out = Output.standardOutput
            if projectionOptions.json {
                for (year, counters) in years.sorted(by: { $0.key < $1.key }) {
                    var members: [(String, JSONValue)] = [("year", .number(Double(year) ?? 0))]
                    for (counter, value) in counters.sorted(by: { $0.key < $1.key }) { members.append((counter, .number(value))) }
                    out.jsonLine(.object(JSONObject(members)))
                }
            } else {
                var table = TextTable(["YEAR"] + SummaryCommand.columns.map(\.title), rightAligned: Set(1...SummaryCommand.columns.count))
                for (year, counters) in years.sorted(by: { $0.key < $1.key }) {
                    table.add([year] + SummaryCommand.columns.map { column in
                        let value = counters[column.counter] ?? 0
                        return column.counter == "investmentCny" ? Figures.cny(value) : Figures.number(value)
                    })
                }
                out.line(table.render())
                if year != nil, let counters = years.first?.value {
                    for group in ["bySector", "byOrigin", "facilitiesOpened"] {
                        let parts = counters.filter { $0.key.hasPrefix(group + ".") }.sorted { $0.key < $1.key }
                            .map { "\($0.key.dropFirst(group.count + 1)) \(Figures.number($0.value))" }
                        if !parts.isEmpty { out.line("\(group): " + parts.joined(separator: ", ")) }
                    }
                }
                if years.isEmpty { out.line(year.map { "nothing recorded for \($0)" } ?? "nothing recorded yet") }
            }
            out.flush()
        }
    }
}
