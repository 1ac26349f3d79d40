import ArgumentParser
import LedgerCore
import LedgerValues

struct AppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append one event, or a batch of events from NDJSON.",
        discussion: """
            One event from options:
              civic-ledger append --type road.delivered --stream road/xujiaguan \\
                --effective 2021-10-15 --id road-xujiaguan-delivered \\
                --data '{"name":{"zh":"徐家观路"}}'

            A batch, one JSON object per line, in one transaction (all or nothing):
              civic-ledger append --batch events.ndjson
              produce-events | civic-ledger append --batch -
            Each line has "type", "stream", "data" and optionally "id",
            "effective", "expectedVersion", "actor", "source", "schemaVersion".

            Each event's data is validated against its type's schema
            ('civic-ledger schema list') before anything is written; an error
            names the line, the JSON pointer and the rule broken (exit 65).

            Limits (docs/FORMAT.md §9): a line, one event, is at most \(Limits.maxEventBytes >> 20) MiB;
            nesting at most \(Limits.maxDepth) levels; a batch at most \(Limits.maxBatchBytes >> 30) GiB;
            numbers within ±2^53. Past them the input is refused (exit 65).

            An id seen before with the same content is not written again: the
            existing seq is reported, so retries are safe. With other content it
            is a conflict (exit 75), as is an expected version the stream is not
            at. A missing ledger is exit 66 unless --create is given.
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions

    @Option(help: ArgumentHelp("Read NDJSON events from a file, or '-' for standard input.", valueName: "file"))
    var batch: String?

    @Option(help: "The event type, e.g. project.signed.") var type: String?
    @Option(help: "The entity's stream, e.g. project/baweitong-hq.") var stream: String?
    @Option(help: ArgumentHelp("When it happened: YYYY-MM-DD (zone date) or a date-time with offset; default today.", valueName: "date"))
    var effective: String?
    @Option(help: "An idempotency key (generated when absent).") var id: String?
    @Option(help: ArgumentHelp("Fail with a conflict unless the stream is at this version (0: new stream).", valueName: "n"))
    var expectedVersion: UInt64?
    @Option(help: "Who records it.") var actor: String?
    @Option(help: ArgumentHelp("The document it comes from.", valueName: "ref")) var source: String?
    @Option(help: ArgumentHelp("The event's data: a JSON object, or @FILE to read it from a file.", valueName: "json"))
    var data: String?
    @Option(help: ArgumentHelp("Validate the data against this schema version of the type (default: the current one).", valueName: "n"))
    var schemaVersion: Int?

    @Flag(help: "Create the ledger if it does not exist.") var create = false
    @Flag(help: "Print one JSON object per event (seq, id, stream, version, hash, status).") var json = false

    func validate() throws {
        if batch != nil {
            guard type == nil, stream == nil, data == nil, effective == nil, id == nil, expectedVersion == nil,
                  actor == nil, source == nil, schemaVersion == nil else {
                throw ValidationError("--batch takes the events from its input; drop the single-event options")
            }
        } else {
            guard type != nil, stream != nil, data != nil else {
                throw ValidationError("give --type, --stream and --data for one event, or --batch FILE")
            }
        }
    }

    func run() throws {
        try reportingErrors {
            try ledgerOptions.refuseIfReadOnly()
            // A batch is prepared in the background while the ledger opens and the writer
            // takes it chunk by chunk; a bad line still comes before a ledger that is missing.
            if batch != nil { MemoryTuning.forLargeBatches() }
            let prepared = try batch.map { path throws(LedgerError) in try EventBatch.preparing(InputFile.read(path)) }
                ?? PreparedBatch([try singleEvent()])
            let ledger: Ledger
            do throws(LedgerError) {
                ledger = try openLedger(for: prepared)
            } catch {
                throw prepared.firstInputError() ?? error
            }
            let outcomes = try ledger.append(prepared)
            // The process ends after the report: freeing a big batch's prepared events (all
            // kept, for the projections) would only delay its exit.
            _ = Unmanaged.passRetained(prepared)
            report(outcomes, ledger: ledger)
        }
    }

    /// Opens the ledger; one that has to be created first waits until the batch is known to
    /// be good, so a bad batch creates nothing.
    private func openLedger(for batch: PreparedBatch) throws(LedgerError) -> Ledger {
        do throws(LedgerError) {
            return try ledgerOptions.open()
        } catch where error.kind == .notFound && create {
            if let inputError = batch.firstInputError() { throw inputError }
            return try ledgerOptions.open(create: true)
        }
    }

    private func singleEvent() throws(LedgerError) -> PreparedEvent {
        guard let type, let stream, let data else { throw LedgerError(.invalidInput, "missing --type, --stream or --data") }
        let text = data.hasPrefix("@") ? try InputFile.read(String(data.dropFirst())) : Array(data.utf8)
        let value: JSONValue
        do { value = try JSONParser.parse(text, maxDepth: Limits.maxDepth) } catch {
            throw LedgerError(.invalidInput, "--data: \(error)")
        }
        guard case .object(let object) = value else { throw LedgerError(.invalidInput, "--data: must be a JSON object") }
        var draft = EventDraft(id: id, type: type, stream: stream, expectedVersion: expectedVersion,
                               actor: actor, source: source, schemaVersion: schemaVersion, data: object)
        if let effective { draft.effective = try EventDraft.effectiveTime(effective) }
        return try PreparedEvent(draft, today: .today())
    }

    private func report(_ outcomes: [AppendOutcome], ledger: Ledger) {
        let out = Output.standardOutput
        if json {
            for outcome in outcomes {
                var members: [(String, JSONValue)] = [
                    ("status", .string(outcome.status.rawValue)), ("seq", .number(Double(outcome.seq))),
                    ("id", .string(outcome.id)), ("stream", .string(outcome.stream)),
                    ("version", .number(Double(outcome.version))), ("hash", .string(outcome.hash.hex)),
                ]
                if let line = outcome.line { members.append(("line", .number(Double(line)))) }
                out.jsonLine(.object(JSONObject(members)))
            }
        } else if batch == nil, let outcome = outcomes.first {
            let verb = outcome.status == .appended ? "appended" : "already recorded as"
            out.line("\(verb) seq \(outcome.seq) · \(outcome.stream) v\(outcome.version) · \(outcome.hash.hex.prefix(16))")
        } else {
            let appended = outcomes.filter { $0.status == .appended }
            let existing = outcomes.count - appended.count
            var text = "appended \(appended.count) event\(appended.count == 1 ? "" : "s")"
            if let first = appended.first, let last = appended.last { text += " (seq \(first.seq)–\(last.seq))" }
            if existing > 0 { text += ", \(existing) already recorded" }
            if let last = appended.last { text += " · head \(last.seq) \(last.hash.hex.prefix(16))" }
            out.line(text)
        }
        out.flush()
    }
}
