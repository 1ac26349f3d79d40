import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerValues

struct ProjectsShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one project's current state and its events.",
        discussion: "Example:\n  civic-ledger projects show baweitong-hq"
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var projectionOptions: ProjectionOptions
    @Argument(help: "The project: its stream (project/baweitong-hq) or the name after project/.") var project: String

    func run() throws {
        try reportingErrors {
            let ledger = try projectionOptions.open(ledgerOptions)
            let stream = project.hasPrefix("project/") ? project : "project/" + project
            let reader = try projectionOptions.reader(ledger)
            guard let state = try reader.state(of: stream), let entity = try reader.entity(stream) else {
                throw LedgerError(.notFound, "no project '\(stream)' ('civic-ledger projects' lists them)")
            }
            let out = Output.standardOutput
            if projectionOptions.json {
                out.jsonLine(.object(JSONObject([("state", .object(state)), ("events", .array(entity.events.map(\.json)))])))
            } else {
                out.line(JSONValue.object(state).prettyPrinted())
                out.line("")
                for event in entity.events { out.line(HistoryCommand.describe(event)) }
            }
            out.flush()
        }
    }
}
