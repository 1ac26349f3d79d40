import ArgumentParser
import LedgerCore
import LedgerValues

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "List events in seq order.",
        discussion: """
            Examples:
              civic-ledger log --stream project/baweitong-hq
              civic-ledger log --after 1000 --limit 50 --json
            With --json each line is an envelope: the fields 'append --batch'
            accepts plus the ledger's own (seq, version, recorded, prev, hash).
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Option(help: ArgumentHelp("Only events after this seq.", valueName: "seq")) var after: UInt64 = 0
    @Option(help: ArgumentHelp("At most this many events.", valueName: "n")) var limit: Int?
    @Option(help: "Only this stream's events.") var stream: String?
    @Option(help: "Only events of this type.") var type: String?
    @Flag(help: "Print NDJSON, one envelope per line.") var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be 1 or more") }
    }

    func run() throws {
        try reportingErrors {
            let ledger = try ledgerOptions.open(readOnly: true)
            let out = Output.standardOutput
            try ledger.forEachEvent(EventFilter(after: after, limit: limit, stream: stream, type: type)) { event in
                if json {
                    out.jsonLine(.object(event.envelope(includingHash: true)))
                } else {
                    out.line(LogCommand.line(event))
                }
            }
            out.flush()
        }
    }

    /// `     12  2021-10-15  road.delivered             road/xujiaguan v1         road-xujiaguan`
    /// Columns have fixed widths (the log streams, so it cannot measure them first); a longer
    /// value pushes its line out rather than being cut.
    static func line(_ event: Event) -> String {
        func padded(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(1, width - text.count))
        }
        let seq = String(event.seq)
        return String(repeating: " ", count: max(0, 7 - seq.count)) + seq + "  " + padded(event.effective, 12)
            + padded(event.type, 27) + padded(event.stream + " v" + String(event.version), 36) + event.id
    }
}
