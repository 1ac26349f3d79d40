import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerValues

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "An entity's events in effective-date order with its state after each, or a year's timeline.",
        discussion: """
            Events count in the order they happened (effective date, then seq), whatever order
            they were recorded in; a correction changes the event it names, a retraction
            removes it.

            Examples:
              civic-ledger history road/xujiaguan
              civic-ledger history --year 2021
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var projectionOptions: ProjectionOptions
    @Argument(help: "The entity's stream, e.g. project/baweitong-hq.") var stream: String?
    @Option(help: "Instead of a stream: the zone's timeline for this year.") var year: Int?

    func validate() throws {
        guard (stream == nil) != (year == nil) else { throw ValidationError("give a STREAM or --year YEAR") }
    }

    func run() throws {
        try reportingErrors {
            let ledger = try projectionOptions.open(ledgerOptions)
            let reader = try projectionOptions.reader(ledger)
            if let year { try timeline(year, reader, ledger) } else if let stream { try entityHistory(stream, reader) }
            Output.standardOutput.flush()
        }
    }

    private func entityHistory(_ stream: String, _ reader: ProjectionReader) throws {
        guard let entity = try reader.entity(stream) else {
            throw LedgerError(.notFound, "no events in stream '\(stream)'")
        }
        let out = Output.standardOutput
        let history = entity.history()
        for (event, state) in history {
            if projectionOptions.json {
                out.jsonLine(.object(JSONObject([("event", event.json), ("state", .object(state))])))
            } else {
                out.line(HistoryCommand.describe(event))
                out.line("    → " + String(decoding: JSONValue.object(state).canonicalBytes, as: UTF8.self))
            }
        }
        let fixes = entity.events.filter { $0.type == "event.corrected" || $0.type == "event.retracted" }
        if !projectionOptions.json && !fixes.isEmpty {
            out.line("(applied where they point: " + fixes.map { "seq \($0.seq) \($0.type)" }.joined(separator: ", ") + ")")
        }
    }

    private func timeline(_ year: Int, _ reader: ProjectionReader, _ ledger: Ledger) throws {
        guard let start = CalendarDate(year: year, month: 1, day: 1), let end = CalendarDate(year: year + 1, month: 1, day: 1) else {
            throw LedgerError(.invalidInput, "--year: \(year) is not a year the ledger can hold")
        }
        let offset = Int64(EffectiveTime.zoneOffsetSeconds)
        let from = (Int64(start.daysSinceEpoch) * 86_400 - offset) * 1_000_000
        let to = (Int64(end.daysSinceEpoch) * 86_400 - offset) * 1_000_000
        let out = Output.standardOutput
        for (_, seq, _) in try reader.timeline(from: from, to: to) {
            guard let event = try ledger.event(seq: seq) else { continue }
            if projectionOptions.json {
                out.jsonLine(.object(event.envelope(includingHash: true)))
            } else {
                out.line(LogCommand.line(event))
            }
        }
    }

    /// `2021-10-15  seq 7  road.delivered  {data}`
    static func describe(_ event: EntityEvent) -> String {
        "\(event.effective)  seq \(event.seq)  \(event.type)  " + String(decoding: JSONValue.object(event.data).canonicalBytes, as: UTF8.self)
    }
}
