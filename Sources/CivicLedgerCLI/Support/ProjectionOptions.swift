import ArgumentParser
import LedgerCore
import LedgerProjections

/// Options of the commands that answer from projections.
struct ProjectionOptions: ParsableArguments {
    @Flag(help: "Rebuild stale projections first instead of refusing to answer.") var autoRebuild = false
    @Flag(help: "Print JSON for scripts.") var json = false

    /// A reader over `ledger`'s projections, rebuilding stale ones first when asked.
    func reader(_ ledger: Ledger) throws(LedgerError) -> ProjectionReader {
        let reader = ProjectionReader(ledger)
        if autoRebuild {
            let stale = try reader.statuses().filter(\.isStale).map(\.name)
            if !stale.isEmpty { _ = try ProjectionRebuilder(ledger).rebuild(stale) }
        }
        return reader
    }

    /// Opens the ledger: read-only unless a rebuild may be needed.
    func open(_ options: LedgerOptions) throws(LedgerError) -> Ledger {
        try options.open(readOnly: !autoRebuild)
    }
}
