import LMDB
import LedgerCore
import LedgerProjections
import LedgerValues

/// Answers "what was true on date D, as the ledger knew it at time R" by replaying the log:
/// every entity folded from its events with effective ≤ D among those recorded ≤ R (a
/// correction or retraction counts at the time of what it fixes, from when it was recorded).
public struct Auditor: Sendable {
    public let ledger: Ledger

    public init(_ ledger: Ledger) { self.ledger = ledger }

    /// The point of an audit: as of `asOf` (an instant), known at `knownAtSeq`.
    public struct Point: Sendable, Equatable {
        public var asOf: Int64
        public var knownAtSeq: UInt64

        public init(asOf: Int64, knownAtSeq: UInt64) {
            self.asOf = asOf
            self.knownAtSeq = knownAtSeq
        }
    }

    public struct Result: Sendable {
        public var point: Point
        public var headSeq: UInt64
        /// Every entity with something to say at that point: stream → state.
        public var states: [String: JSONObject]
        /// The zone's figures per year at that point.
        public var years: ZoneContribution
        /// Entities whose state at `asOf` changed through events recorded after the point.
        public var hindsight: [Hindsight]
    }

    /// An entity whose past (at the audit's date) was changed by later records.
    public struct Hindsight: Sendable {
        public var stream: String
        public var then: JSONObject?
        public var now: JSONObject?
        /// The events recorded after the point that changed it: late arrivals, corrections,
        /// retractions.
        public var events: [EntityEvent]
    }

    /// The last seq recorded at or before `time` (0 when none), by binary search: recorded
    /// times never decrease along seq.
    public func seq(knownAt time: RecordedTime) throws(LedgerError) -> UInt64 {
        try ledger.storage("cannot search the log by recorded time") {
            try ledger.environment.read { txn in
                var low: UInt64 = 0, high = try ledger.readHead(txn).seq
                while low < high {
                    let mid = low + (high - low + 1) / 2
                    guard let raw = try txn.get(ledger.databases.events, key: mid) else { break }
                    let recorded = RecordedTime(try EventRecord.decode(raw).recorded)
                    if let recorded, recorded <= time { low = mid } else { high = mid - 1 }
                }
                return low
            }
        }
    }

    /// Replays every stream to `point`; with `hindsight`, also to `asOf` as known now, to list
    /// what later records changed.
    public func audit(_ point: Point, hindsight: Bool = true) throws(LedgerError) -> Result {
        try ledger.storage("cannot audit") {
            let head = try ledger.environment.read { txn in try ledger.readHead(txn).seq }
            var result = Result(point: point, headSeq: head, states: [:], years: ZoneContribution(), hindsight: [])
            try ledger.forEachStream { stream, events in
                let entity = Entity(stream: stream, events: events)
                let then = entity.state(knownAt: point.knownAtSeq, asOf: point.asOf)
                if then.count > 0 {
                    result.states[stream] = then
                    result.years.add(ZoneContribution(then), sign: 1)
                }
                if hindsight && point.knownAtSeq < head {
                    let now = entity.state(asOf: point.asOf)
                    if now != then {
                        result.hindsight.append(Hindsight(stream: stream, then: then.count > 0 ? then : nil, now: now.count > 0 ? now : nil,
                                                          events: entity.events.filter { $0.seq > point.knownAtSeq }))
                    }
                }
            }
            result.hindsight.sort { $0.stream < $1.stream }
            return result
        }
    }
}
