import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerValues

struct ProjectsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every project: investor, sector, status, investment, origin, stages.",
        discussion: "Examples:\n  civic-ledger projects\n  civic-ledger projects list --status signed --json"
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var projectionOptions: ProjectionOptions
    @Option(help: "Only projects with this status (signed, under_construction, completed, cancelled).") var status: String?

    func run() throws {
        try reportingErrors {
            let ledger = try projectionOptions.open(ledgerOptions)
            let projects = try projectionOptions.reader(ledger).states(kind: "project")
                .filter { status == nil || $0.state["status"]?.stringValue == status }
            let out = Output.standardOutput
            if projectionOptions.json {
                for project in projects { out.jsonLine(.object(project.state)) }
            } else {
                var table = TextTable(["PROJECT", "INVESTOR", "SECTOR", "STATUS", "INVESTMENT", "ORIGIN", "HQ", "SIGNED"], rightAligned: [4])
                for project in projects {
                    let state = project.state
                    table.add([
                        String(project.stream.dropFirst("project/".count)), ProjectsListCommand.name(state["investor"]),
                        state["sector"]?.stringValue ?? "-", state["status"]?.stringValue ?? "-",
                        state["totalInvestmentCny"]?.numberValue.map(Figures.cny) ?? "-", state["origin"]?.stringValue ?? "-",
                        state["headquarters"] == .bool(true) ? "yes" : "-", state["signed"]?.stringValue ?? "-",
                    ])
                }
                out.line(table.render())
                out.line("\(projects.count) project\(projects.count == 1 ? "" : "s")")
            }
            out.flush()
        }
    }

    /// `八维通 Baweitong`: Chinese first, English after.
    static func name(_ value: JSONValue?) -> String {
        guard let value else { return "-" }
        return [value["zh"]?.stringValue, value["en"]?.stringValue].compactMap { $0 }.joined(separator: " ")
    }
}
