#if canImport(Glibc)
import Glibc
#endif
import LMDB
import LedgerCore
import LedgerValues

/// A stream folded straight from its records in the log, as a rebuild needs it: what the
/// state projection stores, and each event's place on the timeline. Unlike `Entity`, it keeps
/// no events: each event's data is parsed just before it is applied and dropped after, and
/// nothing else of the envelope is turned into strings (a rebuild's cost is mostly that).
struct FoldedStream: Sendable {
    var stored: StoredEntity
    /// (effective instant, seq) of each event, in fold order.
    var positions: [(instant: Int64, seq: UInt64)]
    /// Whether it was folded from the records directly (false: through `Entity`).
    var direct: Bool

    /// Folds each of `streams` from its events below seq `limit`. The records are read in seq
    /// order, the log's order in the file, rather than stream by stream, which would jump
    /// across the file for every event. A stream with a correction or retraction, or a record
    /// not laid out canonically or stored under another seq than its own, folds through
    /// `Entity` (fixes need the events; decoding names what is wrong with a record). A rebuild
    /// reads what the records say, as `Entity` does; checking the chain is `verify`'s job.
    @Sendable static func read(_ ledger: Ledger, _ txn: Transaction, streams: ArraySlice<String>, below limit: UInt64) throws -> [FoldedStream] {
        let streams = Array(streams)
        var wanted: [(seq: UInt64, stream: Int)] = []
        for (index, stream) in streams.enumerated() {
            try ledger.forEachSeq(txn, of: stream, below: limit) { wanted.append(($0, index)) }
        }
        wanted.sort { $0.seq < $1.seq }
        var events = [[Slices]](repeating: [], count: streams.count)
        var plain = [Bool](repeating: true, count: streams.count)
        try txn.withCursor(ledger.databases.events) { cursor in
            for (seq, stream) in wanted where plain[stream] {
                // The next seq wanted is often on the cursor's page: LMDB then finds it without a descent.
                guard let entry = try cursor.seek(atLeast: seq), UInt64(bigEndianBytes: entry.key) == seq else { continue }
                guard let header = EventRecord.scanCanonical(entry.value, chainFields: false), header.seq == seq,
                      !isFix(header.typeBytes) else {
                    plain[stream] = false
                    continue
                }
                let effective = header.effective
                events[stream].append(Slices(instant: EffectiveTime(effective)?.instant ?? 0, seq: seq, type: String(decoding: header.typeBytes, as: UTF8.self),
                                             effective: effective, data: .record(header.dataBytes), schemaVersion: header.schemaVersion))
            }
        }
        return try streams.indices.map { index in
            if plain[index], let folded = fold(events[index].indices, of: events[index], stream: streams[index]) { return folded }
            // Decoding the events also says what is wrong with a record that is not canonical.
            return FoldedStream(Entity(stream: streams[index], events: try ledger.streamEvents(txn, streams[index], below: limit)))
        }
    }

    /// What the fold reads of one record: its position, and slices of it, valid inside its
    /// read transaction (in a write transaction, until its next update).
    struct Slices {
        var instant: Int64
        var seq: UInt64
        var type: String
        var effective: String
        var data: EventData
        var schemaVersion: Int
    }

    /// Where an event's `data` is: in its record (valid as the record is), or in the event
    /// an append prepared.
    enum EventData {
        case record(UnsafeBufferPointer<UInt8>)
        case prepared(PreparedEvent)

        /// The data parsed; nil if it is not a JSON object.
        func parsed() -> JSONObject? {
            func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JSONObject? {
                (try? JSONParser.parse(bytes, maxDepth: Limits.maxDepth))?.objectValue
            }
            switch self {
            case .record(let bytes): return parse(bytes)
            case .prepared(let event): return event.withData(parse)
            }
        }
    }

    /// Folds one stream's events, `slices[indices]`: in (instant, seq) order, each `data`
    /// parsed just before it applies; onto `base` if given (an entity whose events all come
    /// before these in that order, none of them a fix). Nil if a `data` is not a JSON object.
    /// The slices are read where they are: copying one retains its strings and its event,
    /// which the other cores' folds and the writer touch too (a tenth of an append's fold).
    static func fold(_ indices: some Collection<Int>, of slices: [Slices], stream: String, onto base: StoredEntity? = nil) -> FoldedStream? {
        // Positions are sorted with their event's index: events are big to move.
        var order = indices.map { (instant: slices[$0].instant, seq: slices[$0].seq, index: $0) }
        order.sort { ($0.instant, $0.seq) < ($1.instant, $1.seq) }
        var state = base?.state ?? JSONObject()
        for position in order {
            guard let data = slices[position.index].data.parsed() else { return nil }
            Entity.apply(type: slices[position.index].type, effective: slices[position.index].effective,
                         schemaVersion: slices[position.index].schemaVersion, data: data, to: &state, stream: stream)
        }
        let last = order.last
        return FoldedStream(stored: StoredEntity(stream: stream, state: state, lastInstant: last?.instant ?? base?.lastInstant ?? .min,
                                                 lastSeq: last?.seq ?? base?.lastSeq ?? 0, hasFixes: false),
                            positions: order.map { ($0.instant, $0.seq) })
    }

    private static func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    init(stored: StoredEntity, positions: [(instant: Int64, seq: UInt64)]) {
        self.stored = stored
        self.positions = positions
        direct = true
    }

    init(_ entity: Entity) {
        stored = StoredEntity(entity)
        positions = entity.events.map { ($0.instant, $0.seq) }
        direct = false
    }

    static func isFix(_ type: UnsafeRawBufferPointer) -> Bool {
        // Both fix types are 15 bytes long: only then compare.
        type.count == 15 && (sameBytes(type, "event.corrected") || sameBytes(type, "event.retracted"))
    }

    private static func sameBytes(_ a: UnsafeRawBufferPointer, _ b: StaticString) -> Bool {
        sameBytes(a, UnsafeRawBufferPointer(start: b.utf8Start, count: b.utf8CodeUnitCount))
    }
}
