import ArgumentParser
import LedgerCore
import LedgerValues

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one event by seq or by id.",
        discussion: "Examples:\n  civic-ledger show 42\n  civic-ledger show road-xujiaguan-delivered --json"
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Argument(help: ArgumentHelp("A seq number or an event id.", valueName: "seq-or-id")) var event: String
    @Flag(help: "Print the envelope as one line of canonical JSON.") var json = false

    func run() throws {
        try reportingErrors {
            let ledger = try ledgerOptions.open(readOnly: true)
            let found = try UInt64(event).flatMap { try ledger.event(seq: $0) } ?? ledger.event(id: event)
            guard let found else { throw LedgerError(.notFound, "no event with seq or id '\(event)'") }
            let envelope = JSONValue.object(found.envelope(includingHash: true))
            if json {
                Output.standardOutput.jsonLine(envelope)
            } else {
                Output.line(envelope.prettyPrinted())
            }
            Output.standardOutput.flush()
        }
    }
}
