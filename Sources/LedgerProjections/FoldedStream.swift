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

    var state: JSONObject { stored.state }

    /// Folds `stream`'s events below seq `limit`. A stream with a correction or retraction,
    /// or a record not laid out canonically, folds through `Entity` (fixes need the events).
    @Sendable static func read(_ ledger: Ledger, _ txn: Transaction, stream: String, below limit: UInt64) throws -> FoldedStream {
        var events: [Slices] = []
        var order: [(instant: Int64, seq: UInt64, index: Int)] = []
        var plain = true
        try ledger.forEachRecord(txn, of: stream, below: limit) { raw in
            guard plain, let header = EventRecord.scanCanonical(raw, chainFields: false), !isFix(header.typeBytes) else {
                plain = false
                return
            }
            order.append((EffectiveTime(header.effective)?.instant ?? 0, header.seq, events.count))
            events.append(Slices(type: header.typeBytes, effective: header.effectiveBytes, data: header.dataBytes,
                                 schemaVersion: header.schemaVersion))
        }
        if plain {
            order.sort { ($0.instant, $0.seq) < ($1.instant, $1.seq) }
            if let state = fold(order.lazy.map { events[$0.index] }, stream: stream) {
                let last = order.last
                return FoldedStream(stored: StoredEntity(stream: stream, state: state, lastInstant: last?.instant ?? .min,
                                                         lastSeq: last?.seq ?? 0, hasFixes: false),
                                    positions: order.map { ($0.instant, $0.seq) })
            }
        }
        // Decoding the events also says what is wrong with a record that is not canonical.
        return FoldedStream(Entity(stream: stream, events: try ledger.streamEvents(txn, stream, below: limit)))
    }

    /// What the fold reads of one record: slices of it, valid inside its read transaction.
    private struct Slices {
        var type: UnsafeRawBufferPointer
        var effective: UnsafeRawBufferPointer
        var data: UnsafeBufferPointer<UInt8>
        var schemaVersion: Int
    }

    /// The state the events leave, applied in the order given; nil if a `data` is not a JSON object.
    private static func fold(_ events: some Sequence<Slices>, stream: String) -> JSONObject? {
        var state = JSONObject()
        var type = "", typeBytes = UnsafeRawBufferPointer(start: nil, count: 0)
        for event in events {
            // A stream's events are mostly of one or two types: reuse the last type's string.
            if !sameBytes(event.type, typeBytes) {
                typeBytes = event.type
                type = String(decoding: typeBytes, as: UTF8.self)
            }
            guard case .object(let data)? = try? JSONParser.parse(event.data, maxDepth: Limits.maxDepth) else { return nil }
            Entity.apply(type: type, effective: String(decoding: event.effective, as: UTF8.self), schemaVersion: event.schemaVersion,
                         data: data, to: &state, stream: stream)
        }
        return state
    }

    private static func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    init(stored: StoredEntity, positions: [(instant: Int64, seq: UInt64)]) {
        self.stored = stored
        self.positions = positions
    }

    init(_ entity: Entity) {
        stored = StoredEntity(entity)
        positions = entity.events.map { ($0.instant, $0.seq) }
    }

    private static func isFix(_ type: UnsafeRawBufferPointer) -> Bool {
        // Both fix types are 15 bytes long: only then compare.
        type.count == 15 && (sameBytes(type, "event.corrected") || sameBytes(type, "event.retracted"))
    }

    private static func sameBytes(_ a: UnsafeRawBufferPointer, _ b: StaticString) -> Bool {
        sameBytes(a, UnsafeRawBufferPointer(start: b.utf8Start, count: b.utf8CodeUnitCount))
    }
}
