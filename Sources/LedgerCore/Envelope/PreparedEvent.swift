import LedgerValues
import LedgerSchemas

/// A draft made ready for the write transaction: checked against the event catalog, its id
/// chosen, and the canonical bytes of every field that does not depend on the ledger's state
/// already written. Preparing runs before the transaction (in parallel for big batches) and
/// keeps no parsed JSON: inside the transaction only `prev`, `recorded`, `seq` and `version`
/// are filled in and the record hashed, and the projections parse `data` from these bytes.
///
/// A struct whose canonical bytes sit in a `PreparedBytes` it shares with the other events of
/// its chunk, so that a big batch's events take a few large allocations per chunk, which are
/// used again for later chunks, rather than two allocations each. Sendable: its bytes are
/// written before it exists and not changed while it lives.
public struct PreparedEvent: @unchecked Sendable {
    public let id: String
    /// Whether the client gave the id (only those can already exist).
    public let clientId: Bool
    public let type: String
    public let stream: String
    /// The stream name's hash (`BatchStreams.hash`), computed while preparing so that the
    /// writer does not hash it again.
    let streamHash: UInt64
    public let expectedVersion: UInt64?
    public let effective: EffectiveTime
    /// Whether the client gave `effective` (a retry without one matches any date).
    public let effectiveGiven: Bool
    /// The schema version `data` was validated against.
    public let schemaVersion: Int
    /// For `event.corrected` and `event.retracted`: the event referred to; for a correction,
    /// also its replacement data (checked against that event's schema in the transaction).
    let reference: EventReference?
    let replacementData: JSONObject?
    /// The batch line it came from, for error messages.
    public let line: Int?
    /// The canonical bytes of the members the client gives, in three parts:
    /// `{"actor":…,"data":…,` (the members before `effective` in canonical order), then
    /// `"effective":…,"id":…,`, then `"source":…,"stream":…,"type":…,` (those between `seq`
    /// and `version`). They live in `storage`, so they are there while the event is.
    let parts: UnsafeBufferPointer<UInt8>
    private let storage: PreparedBytes
    /// Where the `effective` part starts, and where the tail does.
    let effectiveStart: Int, tailStart: Int
    /// Where `data`'s canonical bytes start; they end before the comma before `effective`.
    private let dataStart: Int

    /// Calls `body` with `data`'s canonical bytes, as the record holds them.
    package func withData<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(rebasing: parts[dataStart..<effectiveStart - 1]))
    }

    /// About what the members the ledger adds take in a record (`hash`, `prev`, `recorded`,
    /// `schemaVersion`, `seq`, `version`): an upper bound for sizing.
    static let ledgerFieldBytes = 200

    /// About how many bytes the event's record takes.
    var recordBytes: Int { parts.count + PreparedEvent.ledgerFieldBytes }

    public init(_ draft: EventDraft, line: Int? = nil, today: EffectiveTime) throws(LedgerError) {
        try self.init(draft, line: line, today: today, validation: .catalog)
    }

    @_spi(Benchmark)
    public init(_ draft: EventDraft, line: Int? = nil, today: EffectiveTime, validation: DataValidation) throws(LedgerError) {
        let schemaVersion: Int
        do {
            try draft.validate()
            schemaVersion = try PreparedEvent.checkData(draft, validation)
        } catch {
            throw error.at(line: line)
        }
        let (reference, replacementData) = PreparedEvent.correctionTarget(draft)
        let id = draft.id ?? EventIdentifier.generate()
        let effective = draft.effective ?? today
        var parts: [UInt8] = []
        parts.reserveCapacity(512)
        let offsets = PreparedEvent.writeParts(into: &parts, actor: draft.actor.map(FieldText.string), data: { JSONValue.object(draft.data).writeCanonical(into: &$0) },
                                               effective: .string(effective.text), id: .string(id), source: draft.source.map(FieldText.string),
                                               stream: .string(draft.stream), type: .string(draft.type))
        let storage = PreparedBytes(blockSize: parts.count)
        try self.init(id: id, clientId: draft.id != nil, type: draft.type, stream: draft.stream, expectedVersion: draft.expectedVersion,
                      effective: effective, effectiveGiven: draft.effective != nil, schemaVersion: schemaVersion,
                      reference: reference, replacementData: replacementData, line: line,
                      parts: parts.withUnsafeBufferPointer(storage.append), storage: storage, offsets: offsets)
    }

    /// An event whose `parts` are written (by `writeParts`, with these fields) in `storage`;
    /// checks the size.
    init(id: String, clientId: Bool, type: String, stream: String, expectedVersion: UInt64?, effective: EffectiveTime,
         effectiveGiven: Bool, schemaVersion: Int, reference: EventReference?, replacementData: JSONObject?, line: Int?,
         parts: UnsafeBufferPointer<UInt8>, storage: PreparedBytes, offsets: PartOffsets) throws(LedgerError) {
        self.id = id
        self.clientId = clientId
        self.type = type
        self.stream = stream
        streamHash = BatchStreams.hash(stream)
        self.expectedVersion = expectedVersion
        self.effective = effective
        self.effectiveGiven = effectiveGiven
        self.schemaVersion = schemaVersion
        self.reference = reference
        self.replacementData = replacementData
        self.line = line
        self.parts = parts
        self.storage = storage
        dataStart = offsets.data
        effectiveStart = offsets.effective
        tailStart = offsets.tail
        guard recordBytes <= Limits.maxEventBytes else {
            throw LedgerError(.invalidInput, "event is over the limit of \(Limits.maxEventBytes) bytes", line: line)
        }
    }

    /// Validates `data` against the catalog's schema for the draft's type and version;
    /// returns that version.
    private static func checkData(_ draft: EventDraft, _ validation: DataValidation) throws(LedgerError) -> Int {
        let (schema, version) = try schema(type: draft.type, version: draft.schemaVersion)
        if validation == .catalog, let failure = schema.validate(.object(draft.data), limit: 1).first {
            throw LedgerError(.invalidInput, "data\(MessageText.quote(failure.instancePath, limit: 200)): \(failure.message) (\(failure.keyword))")
        }
        return version
    }

    /// The catalog's schema for `type` at `version` (the type's current version when nil),
    /// and that version.
    static func schema(type name: String, version: Int?) throws(LedgerError) -> (JSONSchema, Int) {
        guard let type = EventCatalog.shared.types[name] else {
            throw LedgerError(.invalidInput, "unknown event type '\(name)' ('civic-ledger schema list' shows the catalog)")
        }
        guard let found = type.schema(version: version) else {
            let known = type.versions.keys.sorted().map(String.init).joined(separator: ", ")
            throw LedgerError(.invalidInput, "type '\(name)' has no schema version \(version ?? type.currentVersion) (it has \(known))")
        }
        return found
    }

    /// What a correction or retraction refers to (their schemas guarantee the shape).
    private static func correctionTarget(_ draft: EventDraft) -> (EventReference?, JSONObject?) {
        guard draft.type == EventReference.correctionType || draft.type == EventReference.retractionType,
              let target = draft.data["target"] else { return (nil, nil) }
        let reference: EventReference? = target["id"]?.stringValue.map(EventReference.id)
            ?? target["seq"]?.integerValue.map { EventReference.seq(UInt64($0)) }
        return (reference, draft.data["data"]?.objectValue)
    }

    /// A field's text as its writer holds it: bytes read from a batch line, or a string.
    enum FieldText {
        case bytes(UnsafeBufferPointer<UInt8>)
        /// Bytes that need no escape (a tape's string read as it was: no `"`, `\\` or
        /// control character), copied as they are.
        case plain(UnsafeBufferPointer<UInt8>)
        case string(String)
    }

    /// Where `parts`' pieces start.
    struct PartOffsets {
        var data: Int, effective: Int, tail: Int
    }

    /// Writes the canonical bytes of what a client says in an event (`parts`): the members
    /// before `effective` (the record's opening brace included), `effective` and `id`, and
    /// those between `seq` and `version`. `data`'s canonical bytes are written by `writeData`.
    static func writeParts<Sink: ByteSink>(into out: inout Sink, actor: FieldText?, data writeData: (inout Sink) -> Void,
                                           effective: FieldText, id: FieldText, source: FieldText?, stream: FieldText,
                                           type: FieldText) -> PartOffsets {
        out.append(UInt8(ascii: "{"))
        if let actor { member("actor", actor, into: &out) }
        out.append("\"data\":")
        let dataStart = out.count
        writeData(&out)
        out.append(UInt8(ascii: ","))
        let effectiveStart = out.count
        member("effective", effective, into: &out)
        member("id", id, into: &out)
        let tailStart = out.count
        if let source { member("source", source, into: &out) }
        member("stream", stream, into: &out)
        member("type", type, into: &out)
        return PartOffsets(data: dataStart, effective: effectiveStart, tail: tailStart)
    }

    /// `"key":"value",` with the value escaped as canonical JSON needs.
    private static func member(_ key: StaticString, _ value: FieldText, into out: inout some ByteSink) {
        out.append(UInt8(ascii: "\""))
        out.append(key)
        out.append("\":")
        switch value {
        case .bytes(let bytes): CanonicalJSON.writeString(bytes, into: &out)
        case .plain(let bytes):
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "\""))
        case .string(let text): CanonicalJSON.writeString(text, into: &out)
        }
        out.append(UInt8(ascii: ","))
    }

    /// Whether a retried event says the same as `stored`, the event under its id. An event
    /// sent without `effective` matches any effective time (it defaulted to the day it was
    /// sent).
    func sameContent(as stored: Event) -> Bool {
        var storedParts: [UInt8] = []
        let offsets = PreparedEvent.writeParts(into: &storedParts, actor: stored.actor.map(FieldText.string),
                                               data: { JSONValue.object(stored.data).writeCanonical(into: &$0) },
                                               effective: .string(stored.effective), id: .string(stored.id),
                                               source: stored.source.map(FieldText.string), stream: .string(stored.stream), type: .string(stored.type))
        return parts[..<effectiveStart].elementsEqual(storedParts[..<offsets.effective])
            && parts[tailStart...].elementsEqual(storedParts[offsets.tail...])
            && schemaVersion == stored.schemaVersion && (!effectiveGiven || effective.text == stored.effective)
    }

    /// The size of the record's canonical bytes with these ledger fields (`recorded` bytes
    /// of recorded time).
    func bodySize(recorded: Int, seq: UInt64, version: UInt64) -> Int {
        parts.count + PreparedEvent.ledgerMembersSize + 2 * EventRecord.hashSize + recorded
            + CanonicalJSON.digits(UInt64(schemaVersion)) + CanonicalJSON.digits(seq) + CanonicalJSON.digits(version)
    }

    /// The text around the ledger's fields, in the order `assemble` writes it.
    private static let ledgerMembers: [StaticString] = ["\"prev\":\"", "\",\"recorded\":\"", "\",\"schemaVersion\":", ",\"seq\":", ",",
                                                        "\"version\":", "}"]
    private static let ledgerMembersSize = ledgerMembers.reduce(0) { $0 + $1.utf8CodeUnitCount }

    /// Writes the record's canonical bytes into `out`, exactly `bodySize` bytes: the writer
    /// assembles each record in the place LMDB reserves for it.
    func assemble(prev: ChainHash, recorded: [UInt8], seq: UInt64, version: UInt64, into out: UnsafeMutableRawBufferPointer) {
        var writer = ByteWriter(out)
        writer.append(contentsOf: UnsafeBufferPointer(rebasing: parts[..<tailStart]))
        writer.append(PreparedEvent.ledgerMembers[0])
        withUnsafeBytes(of: prev.bytes) { Hex.write($0, into: &writer) }
        writer.append(PreparedEvent.ledgerMembers[1])
        recorded.withUnsafeBufferPointer { writer.append(contentsOf: $0) }
        writer.append(PreparedEvent.ledgerMembers[2])
        CanonicalJSON.writeInteger(UInt64(schemaVersion), into: &writer)
        writer.append(PreparedEvent.ledgerMembers[3])
        CanonicalJSON.writeInteger(seq, into: &writer)
        writer.append(PreparedEvent.ledgerMembers[4])
        writer.append(contentsOf: UnsafeBufferPointer(rebasing: parts[tailStart...]))
        writer.append(PreparedEvent.ledgerMembers[5])
        CanonicalJSON.writeInteger(version, into: &writer)
        writer.append(PreparedEvent.ledgerMembers[6])
        precondition(writer.count == out.count, "bodySize and assemble disagree")
    }
}

/// Writes bytes one after another into memory sized for them beforehand (the canonical
/// writers write into it as into an array).
struct ByteWriter: ByteSink {
    private let out: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ out: UnsafeMutableRawBufferPointer) { self.out = out }

    mutating func append(_ byte: UInt8) {
        precondition(count < out.count, "ByteWriter: past the end")
        out[count] = byte
        count += 1
    }

    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        precondition(count + bytes.count <= out.count, "ByteWriter: past the end")
        (out.baseAddress! + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }
}

/// Whether preparing validates `data` against the catalog. Skipping exists for the benchmark
/// alone, to measure what validation costs.
@_spi(Benchmark)
public enum DataValidation: Sendable {
    case catalog
    case skipped
}

/// An earlier event named by a correction or retraction.
enum EventReference: Sendable, Equatable, CustomStringConvertible {
    case id(String)
    case seq(UInt64)

    static let correctionType = "event.corrected"
    static let retractionType = "event.retracted"

    var description: String {
        switch self {
        case .id(let id): return "id '\(id)'"
        case .seq(let seq): return "seq \(seq)"
        }
    }
}
