import ArgumentParser
import LedgerCore
import LedgerValues

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every event as NDJSON, with the ledger's own fields, for 'civic-ledger import'.",
        discussion: """
            One envelope per line, in seq order, with seq, version, recorded, prev and hash: the
            same lines as 'log --json'. 'civic-ledger import' rebuilds from them a ledger with
            the same head hash, checking every event on the way.

            Example:
              civic-ledger export --json > zone.ndjson
              civic-ledger import zone.ndjson --ledger /srv/civic/new-ledger
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Flag(help: "NDJSON (the only format; accepted so scripts can say so).") var json = false

    func run() throws {
        try reportingErrors {
            let ledger = try ledgerOptions.open(readOnly: true)
            let out = Output.standardOutput
            try ledger.forEachEvent { event in out.jsonLine(.object(event.envelope(includingHash: true))) }
            out.flush()
        }
    }
}
