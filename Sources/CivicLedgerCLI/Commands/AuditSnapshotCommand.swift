import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerValues
#if canImport(Glibc)
import Glibc
#endif

struct AuditSnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Take the audit snapshot that lets an audit of any date skip the full replay.",
        discussion: """
            The snapshot holds every entity's history as the ledger knows it now. Audits use
            the latest snapshot and fold from the log only the entities changed after it (or
            after their --known-at point), so a snapshot that falls behind the log stays
            correct and only makes audits slower: take one again during maintenance. It is
            derived data: 'audit report --full-replay' ignores it, and tests check that both
            give the same answer. Shows progress on a terminal (or with --progress).

            Example:
              civic-ledger audit snapshot --progress
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Flag(help: "Show progress even when standard error is not a terminal.") var progress = false
    @Flag(help: "Print the report as one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            let ledger = try ledgerOptions.open()
            let bar = progress || isatty(2) != 0 ? ProgressBar() : nil
            let report = try AuditSnapshot(ledger).take { done, total in bar?.show("snapshot", done: done, total: total) }
            let out = Output.standardOutput
            if json {
                out.jsonLine(.object(JSONObject([
                    ("seq", .number(Double(report.seq))), ("entities", .number(Double(report.entities))),
                    ("entries", .number(Double(report.entries))), ("seconds", .number(report.seconds)),
                ])))
            } else {
                out.line("audit snapshot at seq \(report.seq): \(report.entities) entities, \(report.entries) history entries, \(Figures.decimal(report.seconds, places: 2)) s")
            }
            out.flush()
        }
    }
}
