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
            seq, bad input with exit 65 naming the line. The ledger is built in a directory
            beside the target and moved into place only when whole and verified; on any
            failure it is removed. The projections are built at the end.

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
            try ledgerOptions.refuseIfReadOnly()
            let path = ledgerOptions.path
            if access(path + "/data.mdb", F_OK) == 0 {
                throw LedgerError(.invalidInput, "'\(path)' already holds a ledger; import into a new directory")
            }
            let input = try InputFile.read(file)
            // Built beside the target and renamed into place when whole: a failure, or a
            // kill, never leaves a ledger at the target.
            let building = path + ".importing-\(getpid())"
            var options = ledgerOptions
            options.ledger = building
            let bar = progress || isatty(2) != 0 ? ProgressBar() : nil
            let report: VerificationReport
            do throws(LedgerError) {
                let ledger = try options.open(create: true)
                try input.withUnsafeBufferPointer { bytes throws(LedgerError) in
                    try ledger.importExported(bytes) { done, total in bar?.show("import", done: done, total: total) }
                }
                report = try ledger.verify()
                guard report.isIntact else { throw LedgerError(.verificationFailed, "the imported ledger does not verify: \(report.problem!)") }
                _ = try ProjectionRebuilder(ledger).rebuild(ProjectionName.allCases)
                guard rename(building, path) == 0 else {
                    throw LedgerError(.storage, "cannot move the imported ledger to '\(path)': \(String(cString: strerror(errno)))")
                }
            } catch {
                for file in ["data.mdb", "lock.mdb", "rebuild.lock"] { unlink(building + "/" + file) }
                rmdir(building)
                throw error
            }
            if json {
                Output.standardOutput.jsonLine(.object(JSONObject([
                    ("ledger", .string(path)), ("events", .number(Double(report.events))),
                    ("headSeq", .number(Double(report.headSeq))), ("headHash", .string(report.headHash.hex)), ("verified", .bool(true)),
                ])))
            } else {
                Output.line("imported \(report.events) events into \(path): head \(report.headSeq):\(report.headHash.hex), verified")
            }
            Output.standardOutput.flush()
        }
    }
}
