import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerValues
#if canImport(Glibc)
import Glibc
#endif

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Create a new ledger from what 'civic-ledger export' wrote, checking every event.",
        discussion: """
            The new ledger holds the exported records byte for byte, so its head hash is the
            exported one. Every event is checked as an append checks it (its fields, the event
            catalog) and as verify does (seqs, prev, recorded order, versions, unique ids, the
            hash of its content); a broken chain is refused with exit 1 naming the first bad
            seq, bad input with exit 65 naming the line. On any failure the new ledger is
            removed. The projections are built at the end.

            Example:
              civic-ledger import zone.ndjson --ledger /srv/civic/new-ledger
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Argument(help: ArgumentHelp("The export file, or - for standard input.", valueName: "file")) var file: String
    @Flag(help: "Show progress even when standard error is not a terminal.") var progress = false
    @Flag(help: "Print the result as one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            let path = ledgerOptions.path
            if access(path + "/data.mdb", F_OK) == 0 {
                throw LedgerError(.invalidInput, "'\(path)' already holds a ledger; import into a new directory")
            }
            let input = try InputFile.read(file)
            let createdDirectory = access(path, F_OK) != 0
            let ledger = try ledgerOptions.open(create: true)
            let bar = progress || isatty(2) != 0 ? ProgressBar() : nil
            do throws(LedgerError) {
                try input.withUnsafeBufferPointer { bytes throws(LedgerError) in
                    try ledger.importExported(bytes) { done, total in bar?.show("import", done: done, total: total) }
                }
                let report = try ledger.verify()
                guard report.isIntact else { throw LedgerError(.verificationFailed, "the imported ledger does not verify: \(report.problem!)") }
                _ = try ProjectionRebuilder(ledger).rebuild(ProjectionName.allCases)
                if json {
                    Output.standardOutput.jsonLine(.object(JSONObject([
                        ("ledger", .string(path)), ("events", .number(Double(report.events))),
                        ("headSeq", .number(Double(report.headSeq))), ("headHash", .string(report.headHash.hex)), ("verified", .bool(true)),
                    ])))
                } else {
                    Output.line("imported \(report.events) events into \(path): head \(report.headSeq):\(report.headHash.hex), verified")
                }
                Output.standardOutput.flush()
            } catch {
                // Nothing half-way: the new ledger goes.
                for file in ["data.mdb", "lock.mdb", "rebuild.lock"] { unlink(path + "/" + file) }
                if createdDirectory { rmdir(path) }
                throw error
            }
        }
    }
}
