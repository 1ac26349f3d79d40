import Dispatch
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
        var due: [(name: ProjectionName, entry: ProjectionEntry)] = []
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
            due.append((name, entry))
        }
        guard !due.isEmpty else { return }
        // The effective instants are parsed once, for both views. The timeline's entries are
        // gathered and sorted on another thread while the state is brought up to date here.
        let instants = ZoneProjector.instants(events)
        let timeline = due.contains { $0.name == .timeline } ? BackgroundResult { ZoneProjector.timelineEntries(events, instants) } : nil
        for (name, var entry) in due {
            switch name {
            case .state: try ZoneProjector.applyState(events, instants, txn, generation: entry.generation, ledger: ledger)
            case .timeline:
                guard var entries = timeline?.wait() else { continue }
                try entries.put(into: txn, generation: entry.generation)
            }
            entry.appliedSeq = last.seq
            try ProjectionTables.setEntry(txn, name, entry)
        }
    }

    /// Folds the events into their entities, and the change of each entity's contribution
    /// into the zone's figures per year. Events that come later in time than everything an
    /// entity holds (the usual case) apply on top of its state; an event arriving late, or a
    /// correction or retraction, makes the entity fold again from its events in the log.
    ///
    /// What is stored is read first and written last, on this thread (the transaction's);
    /// the folding in between, pure computation, runs on all cores.
    static func applyState(_ events: [Event], _ instants: [Int64], _ txn: Transaction, generation: Int, ledger: Ledger) throws {
        let entities = try txn.openDatabase(named: ProjectionTables.entities(generation), create: true)!
        let years = try txn.openDatabase(named: ProjectionTables.years(generation), create: true)!
        // Each stream's events, as positions in `events` (copying events is what costs).
        var slots: [String: Int] = [:]
        var work: [EntityWork] = []
        for (position, event) in events.enumerated() {
            if let slot = slots[event.stream] {
                work[slot].positions.append(position)
            } else {
                slots[event.stream] = work.count
                work.append(EntityWork(stream: event.stream, positions: [position]))
            }
        }
        for slot in work.indices {
            let item = work[slot]
            guard let stored = try ProjectionTables.getJSON(txn, entities, key: item.stream).flatMap(StoredEntity.init(json:)) else { continue }
            work[slot].stored = stored
            if stored.hasFixes || !appliesOnTop(item.positions, events, instants, after: (stored.lastInstant, stored.lastSeq)) {
                work[slot].earlier = try ledger.streamEvents(txn, item.stream, below: events[item.positions[0]].seq)
            }
        }
        let updated = mapInParallel(work, from: 64) { $0.updated(events, instants) }
        var delta = ZoneContribution()
        for (item, (entity, bytes)) in zip(work, updated) {
            delta.add(item.stored?.state ?? JSONObject(), sign: -1)
            delta.add(entity.state)
            try Array(item.stream.utf8).withUnsafeBytes { key in try bytes.withUnsafeBytes { try txn.put(entities, key: key, value: $0) } }
        }
        try addToYears(delta, txn, years)
    }

    /// One entity to bring up to date: its new events (positions in the batch), its stored
    /// form if it has one, and, to fold it again from the start instead of applying the new
    /// events on top, all its events before them.
    struct EntityWork: Sendable {
        var stream: String
        var positions: [Int]
        var stored: StoredEntity?
        var earlier: [EntityEvent]?

        init(stream: String, positions: [Int]) {
            self.stream = stream
            self.positions = positions
        }

        /// The entity after its new events, and its stored bytes.
        func updated(_ events: [Event], _ instants: [Int64]) -> (StoredEntity, [UInt8]) {
            let new = positions.map { EntityEvent(events[$0], instant: instants[$0]) }
            let entity: StoredEntity
            if let stored, earlier == nil {
                var state = stored.state
                for event in new { Entity.apply(event, to: &state, stream: stream) }
                entity = StoredEntity(stream: stream, state: state, lastInstant: new.last!.instant, lastSeq: new.last!.seq, hasFixes: false)
            } else {
                entity = StoredEntity(Entity(stream: stream, events: (earlier ?? []) + new))
            }
            return (entity, entity.json.canonicalBytes)
        }
    }

    /// `transform` of every element, in order: for `threshold` elements or more, in slices
    /// on all cores (more slices than cores, so a core that finishes early takes the next).
    static func mapInParallel<Element: Sendable, Result>(_ elements: [Element], from threshold: Int, _ transform: @Sendable (Element) -> Result) -> [Result] {
        guard elements.count >= threshold else { return elements.map(transform) }
        let slices = 16, share = (elements.count + slices - 1) / slices
        var results = [[Result]](repeating: [], count: slices)
        results.withUnsafeMutableBufferPointer { slots in
            let slots = UnsafeSendable(slots)
            DispatchQueue.concurrentPerform(iterations: slices) { slice in
                slots.value[slice] = elements[min(slice * share, elements.count)..<min((slice + 1) * share, elements.count)].map(transform)
            }
        }
        return results.flatMap { $0 }
    }

    /// Whether the events at `positions` are originals in fold order, all after `position`.
    static func appliesOnTop(_ positions: [Int], _ events: [Event], _ instants: [Int64], after position: (Int64, UInt64)) -> Bool {
        var last = position
        for index in positions {
            guard !EntityEvent.isFix(type: events[index].type), (instants[index], events[index].seq) > last else { return false }
            last = (instants[index], events[index].seq)
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

    static func applyTimeline(_ events: [Event], _ instants: [Int64], _ txn: Transaction, generation: Int) throws {
        var entries = timelineEntries(events, instants)
        try entries.put(into: txn, generation: generation)
    }

    /// The events' timeline entries, sorted: in key order a big batch fills each page once
    /// instead of splitting pages all over the tree.
    static func timelineEntries(_ events: [Event], _ instants: [Int64]) -> TimelineEntries {
        var entries = TimelineEntries(capacity: events.count)
        for (event, instant) in zip(events, instants) { entries.add(instant: instant, seq: event.seq, stream: event.stream) }
        entries.sortNewEntries()
        return entries
    }

    /// Each event's effective instant, parsed on all cores for a big batch.
    static func instants(_ events: [Event]) -> [Int64] {
        mapInParallel(events, from: 4096, EntityEvent.instant(of:))
    }
}

/// A value computed on another thread; `wait()` returns it once it is there.
final class BackgroundResult<Value: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    // Written once before `done` is signalled, read only after waiting on it.
    private var value: Value?

    init(_ compute: @escaping @Sendable () -> Value) {
        DispatchQueue.global().async {
            self.value = compute()
            self.done.signal()
        }
    }

    func wait() -> Value {
        done.wait()
        done.signal()  // leaves it open for another wait
        return value!
    }
}
