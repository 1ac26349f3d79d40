import ArgumentParser
import LedgerAudit
import LedgerCore
import LedgerValues

struct AuditDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "What changed between two dates, entity by entity, field by field.",
        discussion: "Example:\n  civic-ledger audit diff --from 2021-06-30 --to 2021-12-31 --known-at 2022-01-31"
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Option(help: ArgumentHelp("The earlier date (as --as-of).", valueName: "date")) var from: String
    @Option(help: ArgumentHelp("The later date (as --as-of).", valueName: "date")) var to: String
    @OptionGroup var point: AuditPointOptions
    @Flag(help: "Print one JSON object per changed field.") var json = false

    func run() throws {
        try reportingErrors {
            let auditor = Auditor(try ledgerOptions.open(readOnly: true))
            let known = try point.knownAtSeq(auditor)
            let before = try auditor.audit(.init(asOf: try AuditPointOptions.endInstant(from, option: "--from"), knownAtSeq: known), hindsight: false)
            let after = try auditor.audit(.init(asOf: try AuditPointOptions.endInstant(to, option: "--to"), knownAtSeq: known), hindsight: false)
            let out = Output.standardOutput
            var changes = 0
            for stream in Set(before.states.keys).union(after.states.keys).sorted() {
                let old = before.states[stream] ?? JSONObject(), new = after.states[stream] ?? JSONObject()
                if !json && (old.count == 0 || new.count == 0) {
                    // A whole entity appearing or vanishing reads better as one line.
                    changes += 1
                    out.line(old.count == 0 ? "\(stream)  appeared: \(AuditDiffCommand.text(.object(new)))" : "\(stream)  gone")
                    continue
                }
                for field in Set(old.keys).union(new.keys).sorted() where old[field] != new[field] {
                    changes += 1
                    if json {
                        out.jsonLine(.object(JSONObject([("stream", .string(stream)), ("field", .string(field)),
                                                         ("from", old[field] ?? .null), ("to", new[field] ?? .null)])))
                    } else {
                        out.line("\(stream)  \(field): \(AuditDiffCommand.text(old[field])) → \(AuditDiffCommand.text(new[field]))")
                    }
                }
            }
            if !json && changes == 0 { out.line("no changes between \(from) and \(to)") }
            out.flush()
        }
    }

    static func text(_ value: JSONValue?) -> String {
        value.map { String(decoding: $0.canonicalBytes, as: UTF8.self) } ?? "(none)"
    }
}
