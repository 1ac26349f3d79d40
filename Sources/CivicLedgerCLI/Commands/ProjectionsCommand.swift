import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerValues

struct ProjectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "List the projections: version, the seq they reflect, stale or not."
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Flag(help: "Print one JSON object per projection.") var json = false

    func run() throws {
        try reportingErrors {
            let statuses = try ProjectionReader(try ledgerOptions.open(readOnly: true)).statuses()
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
                out.line(table.render())
            }
            out.flush()
        }
    }
}
