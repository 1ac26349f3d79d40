import Dispatch
import LMDB
import LedgerCore
import LedgerValues

/// Keeps the projections up to date inside each append's transaction. A projection that is
/// stale (built by another version, or behind the log) is left alone: appends still succeed,
/// and the projection answers again once rebuilt.
public struct ZoneProjector: LedgerProjector {
    public init() {}

    public func apply(_ batch: WrittenBatch, in txn: Transaction, ledger: Ledger) throws {
        let seqs = batch.seqs
        var due: [(name: ProjectionName, entry: ProjectionEntry)] = []
        for name in ProjectionName.allCases {
            var entry: ProjectionEntry
            if let stored = try ProjectionTables.entry(txn, name) {
                entry = stored
            } else if seqs.lowerBound == 1 {
                // A new ledger: the projections start with it.
                entry = ProjectionEntry(version: name.version, appliedSeq: 0, generation: 1)
            } else {
                continue  // never built for this ledger: 'rebuild' builds it
            }
            guard entry.version == name.version, entry.appliedSeq == seqs.lowerBound - 1 else { continue }
            due.append((name, entry))
        }
        guard !due.isEmpty else { return }
        func generation(_ name: ProjectionName) -> Int? { due.first { $0.name == name }?.entry.generation }
        try ZoneProjector.apply(seqs, batch: batch, state: generation(.state), timeline: generation(.timeline), txn, ledger: ledger)
        for (name, var entry) in due {
            entry.appliedSeq = seqs.upperBound
            try ProjectionTables.setEntry(txn, name, entry)
        }
    }

    /// Brings the state (of generation `state`) and the timeline (of generation `timeline`)
    /// up to date with events `seqs`, written in `txn` after those the projections hold: an
    /// append's (`batch`, the events as it prepared them), or those a rebuild catches up with.
    static func apply(_ seqs: ClosedRange<UInt64>, batch: WrittenBatch? = nil, state: Int?, timeline: Int?, _ txn: Transaction,
                      ledger: Ledger) throws {
        // Opening a table may create it, an update: done before the records are read.
        let tables = try state.map { generation in
            (entities: try txn.openDatabase(named: ProjectionTables.entities(generation), create: true)!,
             years: try txn.openDatabase(named: ProjectionTables.years(generation), create: true)!)
        }
        if let timeline { _ = try txn.openDatabase(named: ProjectionTables.timeline(timeline), create: true) }
        let written = try batch.map(WrittenEvents.init) ?? WrittenEvents(txn, ledger: ledger, seqs: seqs)
        // The timeline's entries are gathered and sorted on another thread while the state is
        // brought up to date here.
        let entries = timeline == nil ? nil : BackgroundResult { [written = UnsafeSendable(written)] in written.value.timelineEntries }
        if let tables { try applyState(written, seqs, tables.entities, tables.years, txn, ledger: ledger) }
        if let timeline, var entries = entries?.wait() { try entries.put(into: txn, generation: timeline) }
    }

    /// Folds the events into their entities, and the change of each entity's contribution
    /// into the zone's figures per year. Events that come later in time than everything an
    /// entity holds (the usual case) apply on top of its state, and a new entity folds from
    /// them, each `data` parsed just before it applies; an event arriving late, or a
    /// correction or retraction, makes the entity fold again from its events in the log.
    ///
    /// What is stored is read first and written last, on this thread (the transaction's);
    /// the folding in between, pure computation, runs on all cores.
    private static func applyState(_ written: WrittenEvents, _ seqs: ClosedRange<UInt64>, _ entities: Database, _ years: Database,
                                   _ txn: Transaction, ledger: Ledger) throws {
        var work = written.streams.map { EntityWork(stream: $0) }
        for (position, slot) in written.streamIndex.enumerated() { work[slot].positions.append(position) }
        for slot in work.indices {
            let item = work[slot]
            let stored = try ProjectionTables.getJSON(txn, entities, key: item.stream).flatMap(StoredEntity.init(json:))
            work[slot].stored = stored
            let onTop = item.positions.allSatisfy { written.plain[$0] }
                && stored.map { !$0.hasFixes && appliesOnTop(item.positions, written, after: ($0.lastInstant, $0.lastSeq)) } ?? true
            if !onTop { work[slot].events = try work[slot].decodedEvents(written, txn, ledger: ledger, below: seqs.lowerBound) }
        }
        var updated = mapInParallel(work, from: 64) { [written = UnsafeSendable(written)] item in item.updated(written.value) }
        // An event whose data does not parse folds through decoding, which says what is wrong.
        for index in updated.indices where updated[index] == nil {
            var item = work[index]
            item.events = try item.decodedEvents(written, txn, ledger: ledger, below: seqs.lowerBound)
            updated[index] = item.updated(written)
        }
        // Records' slices are not read after this point: the puts may move their pages.
        var delta = ZoneContribution()
        for (item, result) in zip(work, updated) {
            guard let (entity, bytes) = result else { continue }
            delta.add(item.stored?.state ?? JSONObject(), sign: -1)
            delta.add(entity.state)
            try Array(item.stream.utf8).withUnsafeBytes { key in try bytes.withUnsafeBytes { try txn.put(entities, key: key, value: $0) } }
        }
        try addToYears(delta, txn, years)
    }

    /// One entity to bring up to date: its new events (positions in the written events), its
    /// stored form if it has one, and, to fold it again from the start instead of applying
    /// the new events on top, all its events, decoded.
    struct EntityWork: Sendable {
        var stream: String
        var positions: [Int] = []
        var stored: StoredEntity?
        var events: [EntityEvent]?

        init(stream: String) { self.stream = stream }

        /// The entity's events before the new ones (none for an entity not stored) and the
        /// new ones, decoded from the log.
        func decodedEvents(_ written: WrittenEvents, _ txn: Transaction, ledger: Ledger, below limit: UInt64) throws -> [EntityEvent] {
            var events = stored == nil ? [] : try ledger.streamEvents(txn, stream, below: limit)
            for position in positions {
                let seq = written.slices[position].seq
                guard let raw = try txn.get(ledger.databases.events, key: seq) else {
                    throw LedgerError(.storage, "seq \(seq) is missing from the log; run 'civic-ledger verify'")
                }
                events.append(EntityEvent(try EventRecord.decode(raw)))
            }
            return events
        }

        /// The entity after its new events, and its stored bytes; nil if a new event's data
        /// does not parse.
        func updated(_ written: WrittenEvents) -> (StoredEntity, [UInt8])? {
            let entity: StoredEntity
            if let events {
                entity = StoredEntity(Entity(stream: stream, events: events))
            } else {
                guard let folded = FoldedStream.fold(positions, of: written.slices, stream: stream, onto: stored) else { return nil }
                entity = folded.stored
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

    /// Whether the events at `positions` (originals) are in fold order, all after `position`.
    static func appliesOnTop(_ positions: [Int], _ written: WrittenEvents, after position: (Int64, UInt64)) -> Bool {
        var last = position
        for index in positions {
            let next = (written.slices[index].instant, written.slices[index].seq)
            guard next > last else { return false }
            last = next
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
