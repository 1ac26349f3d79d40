import ArgumentParser
import LedgerCore
import LedgerSchemas
import LedgerValues

struct SchemaShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the JSON Schema of an event type.",
        discussion: "Example:\n  civic-ledger schema show project.signed --schema-version 1"
    )

    @Argument(help: "The event type, e.g. project.signed.") var type: String
    @Option(help: ArgumentHelp("The schema version (default: the current one).", valueName: "n")) var schemaVersion: Int?
    @Flag(help: "Print the schema as one line of canonical JSON.") var json = false

    func run() throws {
        try reportingErrors {
            guard let entry = EventCatalog.shared.types[type] else {
                throw LedgerError(.notFound, "unknown event type '\(type)' ('civic-ledger schema list' shows the catalog)")
            }
            guard let schema = entry.versions[schemaVersion ?? entry.currentVersion] else {
                throw LedgerError(.notFound, "type '\(type)' has no schema version \(schemaVersion ?? 0) (it has \(entry.versions.keys.sorted().map(String.init).joined(separator: ", ")))")
            }
            if json {
                Output.standardOutput.jsonLine(schema.document)
            } else {
                Output.line(schema.document.prettyPrinted())
            }
            Output.standardOutput.flush()
        }
    }
}
