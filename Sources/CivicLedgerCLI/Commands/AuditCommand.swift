import ArgumentParser
import LedgerAudit
import LedgerCore
import LedgerValues

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The zone as of a date, as the ledger knew it at a time; what changed later; differences between dates; snapshots for speed.",
        subcommands: [AuditReportCommand.self, AuditDiffCommand.self, AuditSnapshotCommand.self],
        defaultSubcommand: AuditReportCommand.self
    )
}

/// `--as-of` and `--known-at`, shared by the audit commands.
struct AuditPointOptions: ParsableArguments {
    @Option(help: ArgumentHelp("When the known-at view ends: YYYY-MM-DD (the end of that day in the zone) or a date-time with offset; default now.", valueName: "time"))
    var knownAt: String?

    /// The seq the ledger had reached at `--known-at`.
    func knownAtSeq(_ auditor: Auditor) throws(LedgerError) -> UInt64 {
        guard let knownAt else { return UInt64.max }
        let instant = try AuditPointOptions.endInstant(knownAt, option: "--known-at")
        return try auditor.seq(knownAt: RecordedTime(microseconds: instant))
    }

    /// The last microsecond a date or date-time names: a date means its whole day in the zone.
    static func endInstant(_ text: String, option: String) throws(LedgerError) -> Int64 {
        guard let time = EffectiveTime(text) else {
            throw LedgerError(.invalidInput, "\(option): '\(text)' is not a date (YYYY-MM-DD) or date-time with offset")
        }
        return text.count == 10 ? time.instant + 86_400_000_000 - 1 : time.instant
    }
}
