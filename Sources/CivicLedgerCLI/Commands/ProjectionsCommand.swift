import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerValues

struct ProjectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "List the projections: version, the seq they reflect, stale or not; and the audit snapshot.",
        discussion: """
            The table lists the audit snapshot ('civic-ledger audit snapshot') last: it is
            never stale for being behind the log (audits fold what came after it from the
            log), only when another version of the program took it. --json prints one object
            per projection only.
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Flag(help: "Print one JSON object per projection.") var json = false

    func run() throws {
        try reportingErrors {
            let ledger = try ledgerOptions.open(readOnly: true)
            let statuses = try ProjectionReader(ledger).statuses()
            let snapshot = try AuditSnapshot(ledger).entry()
            let head = statuses.first?.headSeq ?? 0
            let out = Output.standardOutput
            if json {
                for status in statuses {
                    var members: [(String, JSONValue)] = [
                        ("name", .string(status.name.rawValue)), ("version", .number(Double(status.name.version))),
                        ("stale", .bool(status.isStale)), ("headSeq", .number(Double(status.headSeq))),
                    ]
                    if let stored = status.stored {
                        members.append(("storedVersion", .number(Double(stored.version))))
                        members.append(("appliedSeq", .number(Double(stored.appliedSeq))))
                    }
                    if let reason = status.reason { members.append(("reason", .string(reason))) }
                    out.jsonLine(.object(JSONObject(members)))
                }
            } else {
                var table = TextTable(["PROJECTION", "VERSION", "APPLIED SEQ", "STATE"], rightAligned: [1, 2])
                for status in statuses {
                    table.add([status.name.rawValue, String(status.stored?.version ?? status.name.version),
                               status.stored.map { String($0.appliedSeq) } ?? "-", status.isStale ? "stale: " + (status.reason ?? "") : "current"])
                }
                table.add(["snapshot", String(snapshot?.version ?? AuditSnapshot.version), snapshot.map { String($0.seq) } ?? "-",
                           snapshot.map { entry in
                               entry.isCurrent ? (entry.seq == head ? "current" : "usable, \(head - entry.seq) events behind the log")
                                   : "ignored: taken by another version; run 'civic-ledger audit snapshot'"
                           } ?? "none: 'civic-ledger audit snapshot' makes audits faster"])
                out.line(table.render())
            }
            out.flush()
        }
    }
}
