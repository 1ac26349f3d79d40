import LMDB
import LedgerCore
import LedgerValues

/// Keeps the projections up to date inside each append's transaction. A projection that is
/// stale (built by another version, or behind the log) is left alone: appends still succeed,
/// and the projection answers again once rebuilt.
public struct ZoneProjector: LedgerProjector {
    public init() {}

    public func apply(_ events: [Event], in txn: Transaction, ledger: Ledger) throws {
        guard let first = events.first, let last = events.last else { return }
        for name in ProjectionName.allCases {
            var entry: ProjectionEntry
            if let stored = try ProjectionTables.entry(txn, name) {
                entry = stored
            } else if first.seq == 1 {
                // A new ledger: the projections start with it.
                entry = ProjectionEntry(version: name.version, appliedSeq: 0, generation: 1)
            } else {
                continue  // never built for this ledger: 'rebuild' builds it
            }
            guard entry.version == name.version, entry.appliedSeq == first.seq - 1 else { continue }
            switch name {
            case .state: try ZoneProjector.applyState(events, txn, generation: entry.generation, ledger: ledger)
            case .timeline: try ZoneProjector.applyTimeline(events, txn, generation: entry.generation)
            }
            entry.appliedSeq = last.seq
            try ProjectionTables.setEntry(txn, name, entry)
        }
    }

    /// Folds the events into their entities, and the change of each entity's contribution
    /// into the zone's figures per year. Events that come later in time than everything an
    /// entity holds (the usual case) apply on top of its state; an event arriving late, or a
    /// correction or retraction, makes the entity fold again from its events in the log.
    static func applyState(_ events: [Event], _ txn: Transaction, generation: Int, ledger: Ledger) throws {
        let entities = try txn.openDatabase(named: ProjectionTables.entities(generation), create: true)!
        let years = try txn.openDatabase(named: ProjectionTables.years(generation), create: true)!
        var byStream: [String: [EntityEvent]] = [:]
        var order: [String] = []
        for event in events {
            if byStream[event.stream] == nil { order.append(event.stream) }
            byStream[event.stream, default: []].append(EntityEvent(event))
        }
        var delta = ZoneContribution()
        for stream in order {
            let new = byStream[stream]!
            let stored = try ProjectionTables.getJSON(txn, entities, key: stream).flatMap(StoredEntity.init(json:))
            let updated: StoredEntity
            if let stored, !stored.hasFixes, appliesOnTop(new, after: (stored.lastInstant, stored.lastSeq)) {
                var state = stored.state
                for event in new { Entity.apply(event, to: &state, stream: stream) }
                updated = StoredEntity(stream: stream, state: state, lastInstant: new.last!.instant, lastSeq: new.last!.seq, hasFixes: false)
            } else {
                let earlier = stored == nil ? [] : try ledger.streamEvents(txn, stream, below: new[0].seq)
                updated = StoredEntity(Entity(stream: stream, events: earlier + new))
            }
            delta.add(stored?.state ?? JSONObject(), sign: -1)
            delta.add(updated.state)
            try ProjectionTables.putJSON(txn, entities, key: stream, updated.json)
        }
        try addToYears(delta, txn, years)
    }

    /// Whether `events` are originals in fold order, all after `position`.
    static func appliesOnTop(_ events: [EntityEvent], after position: (Int64, UInt64)) -> Bool {
        var last = position
        for event in events {
            guard !event.isFix, (event.instant, event.seq) > last else { return false }
            last = (event.instant, event.seq)
        }
        return true
    }

    static func addToYears(_ delta: ZoneContribution, _ txn: Transaction, _ years: Database) throws {
        for (year, changes) in delta.counters {
            var counters = try ProjectionTables.getJSON(txn, years, key: year)?.objectValue ?? JSONObject()
            for (counter, amount) in changes where amount != 0 {
                // Rounded to a millionth, so sums of fractional lengths do not drift by
                // incremental updates and a counter back at zero goes away.
                let total = ((counters[counter]?.numberValue ?? 0) + amount) * 1_000_000
                counters[counter] = abs(total.rounded()) < 1 ? nil : .number(total.rounded() / 1_000_000)
            }
            if counters.count == 0 {
                _ = try Array(year.utf8).withUnsafeBytes { try txn.delete(years, key: $0) }
            } else {
                try ProjectionTables.putJSON(txn, years, key: year, .object(counters))
            }
        }
    }

    static func applyTimeline(_ events: [Event], _ txn: Transaction, generation: Int) throws {
        // In key order: a big batch then fills each page once instead of splitting pages all
        // over the tree.
        var entries = TimelineEntries(capacity: events.count)
        for event in events { entries.add(instant: EffectiveTime(event.effective)?.instant ?? 0, seq: event.seq, stream: event.stream) }
        try entries.put(into: txn, generation: generation)
    }
}
