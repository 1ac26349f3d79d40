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
        public var method: Method
        /// The seq of the snapshot used, when one was.
        public var snapshotSeq: UInt64?
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

    /// How an audit got its answer.
    public enum Method: String, Sendable {
        /// Every stream folded from the log.
        case replay
        /// The audit snapshot, with the streams touched after it (or after the known-at
        /// point) folded from the log.
        case snapshot
    }

    /// The state of the zone at `point`; with `hindsight`, also each entity's state at `asOf`
    /// as known now, to list what later records changed. Uses the audit snapshot when there
    /// is one (unless `useSnapshot` is false), else replays the whole log; both give the
    /// same answer.
    public func audit(_ point: Point, hindsight: Bool = true, useSnapshot: Bool = true) throws(LedgerError) -> Result {
        // The head and the snapshot in use, read together: events after this head are
        // ignored on both paths, whatever is appended (or snapshotted) meanwhile.
        let (head, snapshot) = try ledger.storage("cannot audit") {
            try ledger.environment.read { txn in (try ledger.readHead(txn).seq, try AuditSnapshot.entry(txn)) }
        }
        let known = min(point.knownAtSeq, head)
        var result = Result(point: point, headSeq: head, method: .replay, snapshotSeq: nil, states: [:], years: ZoneContribution(), hindsight: [])
        func fold(_ stream: String, _ events: [EntityEvent]) {
            let entity = Entity(stream: stream, events: events.filter { $0.seq <= head })
            let then = entity.state(knownAt: known, asOf: point.asOf)
            if then.count > 0 { result.states[stream] = then }
            if hindsight && known < head {
                let now = entity.state(asOf: point.asOf)
                if now != then {
                    result.hindsight.append(Hindsight(stream: stream, then: then.count > 0 ? then : nil, now: now.count > 0 ? now : nil,
                                                      events: entity.events.filter { $0.seq > known }))
                }
            }
        }
        if useSnapshot, let snapshot, snapshot.isCurrent {
            // The snapshot knows seqs up to its own; streams with events between it and the
            // known-at point, or after the known-at point (for hindsight), fold from the log.
            let touched = try streams(after: min(known, snapshot.seq), through: head)
            // A snapshot taken meanwhile is not the one planned for: then replay.
            if let (seq, states) = try AuditSnapshot(ledger).states(asOf: point.asOf, skipping: touched), seq == snapshot.seq {
                result.method = .snapshot
                result.snapshotSeq = snapshot.seq
                result.states = states
                let sorted = touched.sorted()
                try ledger.storage("cannot audit") {
                    // A chunk of streams per short read transaction, as the replay reads them.
                    for start in stride(from: 0, to: sorted.count, by: 256) {
                        let chunk = sorted[start..<min(sorted.count, start + 256)]
                        let events = try ledger.environment.read { txn in try chunk.map { try ledger.streamEvents(txn, $0, below: head + 1) } }
                        for (stream, events) in zip(chunk, events) { fold(stream, events) }
                    }
                }
            }
        }
        if result.method == .replay {
            try ledger.storage("cannot audit") { try ledger.forEachStream(fold) }
        }
        for state in result.states.values { result.years.add(state) }
        result.hindsight.sort { $0.stream < $1.stream }
        return result
    }

    /// The streams of the events with seqs in (`first`, `last`].
    func streams(after first: UInt64, through last: UInt64) throws(LedgerError) -> Set<String> {
        guard first < last else { return [] }
        return try ledger.storage("cannot read the log") {
            var streams = Set<String>()
            var next = first + 1
            while next <= last {
                let end = min(last, next + 65_535)
                try ledger.environment.read { txn in
                    for seq in next...end {
                        guard let raw = try txn.get(ledger.databases.events, key: seq) else {
                            throw LedgerError(.storage, "seq \(seq) is missing from the log: the ledger file is damaged; run 'civic-ledger verify'")
                        }
                        streams.insert(try EventRecord.scanCanonical(raw)?.stream ?? EventRecord.decode(raw).stream)
                    }
                }
                next = end + 1
            }
            return streams
        }
    }
}
