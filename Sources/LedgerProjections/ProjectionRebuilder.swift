import Dispatch
import LMDB
import LedgerCore
import LedgerValues
#if canImport(Glibc)
import Glibc
#endif

/// Rebuilds projections from the log into a fresh generation of tables and switches to it
/// atomically. Readers keep using the old tables until the switch; appends made meanwhile keep
/// the old tables current and are replayed into the new ones in the transaction that switches,
/// so the result holds every event. Only one rebuild runs at a time per ledger (a lock file).
public struct ProjectionRebuilder {
    public struct Progress: Sendable {
        public var projection: ProjectionName
        public var done: Int
        public var total: Int
    }

    public struct Report: Sendable {
        public var projection: ProjectionName
        public var events: Int
        public var generation: Int
        public var seconds: Double
    }

    public let ledger: Ledger
    /// Called now and then with how far the rebuild has got.
    public var onProgress: (Progress) -> Void = { _ in }

    /// How much one chunk of streams holds at most. A chunk's folds are in memory, twice over
    /// while the next chunk folds as this one is written.
    struct ChunkLimits {
        var streams: Int
        var events: Int
    }

    /// Entities keep every event, data and all.
    static let entityChunk = ChunkLimits(streams: 512, events: 20_000)
    /// A rebuild's folds keep 16 bytes an event, so its chunks can be large: fewer waits for the
    /// slowest slice, fewer write transactions.
    static let foldedChunk = ChunkLimits(streams: 16_384, events: 200_000)
    /// Events read per read transaction when only the timeline is rebuilt.
    static let timelineChunk = 20_000

    /// The chunks a rebuild folds (tests make them small to cross their boundaries).
    var chunkLimits = ProjectionRebuilder.foldedChunk

    public init(_ ledger: Ledger) { self.ledger = ledger }

    public func rebuild(_ names: [ProjectionName]) throws(LedgerError) -> [Report] {
        guard !ledger.options.readOnly else { throw LedgerError(.readOnly, "the ledger is open read-only; rebuilding needs write access") }
        let lock = try RebuildLock(ledger.path)
        defer { lock.release() }
        // State and timeline together come from one pass over the log: folding reads every
        // event of every stream, which is all the timeline needs.
        if names.contains(.state) && names.contains(.timeline) {
            return try rebuild(together: ProjectionName.allCases.filter(names.contains))
        }
        var reports: [Report] = []
        for name in names { reports += try rebuild(together: [name]) }
        return reports
    }

    /// One projection's new generation while it is built.
    private struct Plan {
        var name: ProjectionName
        var old: ProjectionEntry?
        var generation: Int
    }

    private func rebuild(together names: [ProjectionName]) throws(LedgerError) -> [Report] {
        let started = RecordedTime.monotonicSeconds()
        return try ledger.storage("cannot rebuild the \(names.map(\.rawValue).joined(separator: " and ")) projection\(names.count > 1 ? "s" : "")") {
            let environment = ledger.environment
            // Fresh tables for the new generations (a crashed rebuild may have left some). The
            // head and the generations in use are read in the same transaction, so an append
            // (even a ledger's first, which starts generation 1) cannot slip in between.
            let (snapshot, plans) = try environment.write { txn in
                let plans = try names.map { name in
                    let old = try ProjectionTables.entry(txn, name)
                    let plan = Plan(name: name, old: old, generation: (old?.generation ?? 0) + 1)
                    for table in ProjectionTables.tables(of: name, generation: plan.generation) {
                        if let leftover = try txn.openDatabase(named: table, create: false) { try txn.dropDatabase(leftover) }
                        _ = try txn.openDatabase(named: table, create: true)
                    }
                    return plan
                }
                return (try ledger.readHead(txn).seq, plans)
            }
            func generation(_ name: ProjectionName) -> Int? { plans.first { $0.name == name }?.generation }
            var contributions = ZoneContribution()
            if let state = generation(.state) {
                try rebuildEntities(upTo: snapshot, generation: state, timelineGeneration: generation(.timeline), contributions: &contributions)
            } else if let timeline = generation(.timeline) {
                try rebuildTimeline(upTo: snapshot, generation: timeline)
            }
            // Catch up with appends made meanwhile, and switch, in one transaction.
            let head = try environment.write { txn -> UInt64 in
                let head = try ledger.readHead(txn).seq
                if head > snapshot {
                    try ZoneProjector.apply(snapshot + 1...head, state: generation(.state), timeline: generation(.timeline), txn, ledger: ledger)
                }
                for plan in plans {
                    if plan.name == .state {
                        let years = try txn.openDatabase(named: ProjectionTables.years(plan.generation), create: true)!
                        try ZoneProjector.addToYears(contributions, txn, years)
                    }
                    try ProjectionTables.setEntry(txn, plan.name, ProjectionEntry(version: plan.name.version, appliedSeq: head, generation: plan.generation))
                    if let old = plan.old {
                        for table in ProjectionTables.tables(of: plan.name, generation: old.generation) {
                            if let stale = try txn.openDatabase(named: table, create: false) { try txn.dropDatabase(stale) }
                        }
                    }
                }
                return head
            }
            let seconds = RecordedTime.monotonicSeconds() - started
            return plans.map { plan in
                onProgress(Progress(projection: plan.name, done: Int(head), total: Int(head)))
                return Report(projection: plan.name, events: Int(head), generation: plan.generation, seconds: seconds)
            }
        }
    }

    /// Folds every stream's events (up to `snapshot`) into the new entities table, a chunk
    /// of streams at a time, and sums their contributions to the zone's figures. With a
    /// timeline generation, the same events go into that timeline too.
    private func rebuildEntities(upTo snapshot: UInt64, generation: Int, timelineGeneration: Int?,
                                 contributions: inout ZoneContribution) throws {
        var done = 0
        var timeline = TimelineEntries(capacity: timelineGeneration == nil ? 0 : Int(snapshot))
        try forEachChunk(upTo: snapshot, limits: chunkLimits, fold: FoldedStream.read) { chunk in
            try ledger.environment.write { txn in
                let table = try txn.openDatabase(named: ProjectionTables.entities(generation), create: true)!
                for folded in chunk where !folded.positions.isEmpty {
                    try ProjectionTables.putJSON(txn, table, key: folded.stored.stream, folded.stored.json)
                }
            }
            for folded in chunk {
                contributions.add(folded.stored.state)
                done += folded.positions.count
                if timelineGeneration != nil {
                    for position in folded.positions { timeline.add(instant: position.instant, seq: position.seq, stream: folded.stored.stream) }
                }
            }
            timeline.sortNewEntries()
            onProgress(Progress(projection: .state, done: done, total: Int(snapshot)))
        }
        if let timelineGeneration {
            // Its progress is reported with the state's when the rebuild ends: writing sorted
            // entries takes a fraction of a second per million.
            try timeline.write(to: ledger.environment, generation: timelineGeneration) { _ in }
        }
    }

    /// Calls `body` with every entity folded from its events up to `snapshot`, a chunk of
    /// streams (in name order) at a time: the chunk's streams are read, then folded on all
    /// cores, each core in its own read transaction, so `body` may write. The next chunk is
    /// folded while `body` handles the current one, so the writes overlap the folding.
    func forEachChunkOfEntities(upTo snapshot: UInt64, _ body: ([Entity]) throws -> Void) throws {
        try forEachChunk(upTo: snapshot, limits: ProjectionRebuilder.entityChunk, fold: { ledger, txn, streams, limit in
            try streams.map { Entity(stream: $0, events: try ledger.streamEvents(txn, $0, below: limit)) }
        }, body)
    }

    /// Some streams' events below a seq, folded by reading them in a read transaction.
    typealias Fold<Folded> = @Sendable (Ledger, Transaction, _ streams: ArraySlice<String>, _ below: UInt64) throws -> [Folded]

    /// `forEachChunkOfEntities` with the fold, and the chunks' limits, chosen by the caller.
    func forEachChunk<Folded: Sendable>(upTo snapshot: UInt64, limits: ChunkLimits, fold: @escaping Fold<Folded>,
                                        _ body: ([Folded]) throws -> Void) throws {
        var after: [UInt8]? = nil
        var folded: [Folded] = []
        while true {
            let (streams, lastKey) = try streamNames(after: after, limits: limits)
            guard let lastKey else { break }
            if folded.isEmpty {
                folded = try ProjectionRebuilder.foldInParallel(streams, upTo: snapshot, ledger: ledger, fold: fold)
            } else {
                let next = Box<Result<[Folded], any Error>>(.success([]))
                let group = DispatchGroup()
                let ledger = self.ledger
                DispatchQueue.global().async(group: group) {
                    next.value = Result { try ProjectionRebuilder.foldInParallel(streams, upTo: snapshot, ledger: ledger, fold: fold) }
                }
                defer { group.wait() }  // never leave the fold running past a thrown write
                try body(folded)
                group.wait()
                folded = try next.value.get()
            }
            after = lastKey
        }
        if !folded.isEmpty { try body(folded) }
    }

    /// The next chunk of stream names after `after` (as stored: a key that is not UTF-8, in
    /// a damaged file, does not come back as itself from the decoded name), and the last key.
    private func streamNames(after: [UInt8]?, limits: ChunkLimits) throws -> ([String], [UInt8]?) {
        try ledger.environment.read { txn in
            try txn.withCursor(ledger.databases.streams) { cursor in
                var names: [String] = []
                var lastKey: [UInt8]?
                var entry = try after.map { key in try (key + [0]).withUnsafeBytes { try cursor.seek(atLeast: $0) } } ?? cursor.first()
                var events: UInt64 = 0
                while let current = entry, names.count < limits.streams {
                    // A stream's version is its number of events (capped: the file may be damaged).
                    // A stream that would take the chunk over the cap starts the next one, so a
                    // long stream is folded in a chunk of its own.
                    let count = min(UInt64(bigEndianBytes: current.value) ?? 1, UInt64(limits.events))
                    guard names.isEmpty || events + count <= UInt64(limits.events) else { break }
                    events += count
                    names.append(String(decoding: current.key, as: UTF8.self))
                    lastKey = Array(current.key)
                    entry = try cursor.next()
                }
                return (names, lastKey)
            }
        }
    }

    private static func foldInParallel<Folded>(_ streams: [String], upTo snapshot: UInt64, ledger: Ledger,
                                               fold: Fold<Folded>) throws -> [Folded] {
        // Slices, more than cores, so a core that finishes early takes the next one.
        let slices = min(16, max(1, streams.count))
        let share = (streams.count + slices - 1) / slices
        var results = [Result<[Folded], any Error>](repeating: .success([]), count: slices)
        results.withUnsafeMutableBufferPointer { slots in
            let slots = UnsafeSendable(slots)
            DispatchQueue.concurrentPerform(iterations: slices) { slice in
                let mine = streams[min(slice * share, streams.count)..<min((slice + 1) * share, streams.count)]
                slots.value[slice] = Result {
                    try ledger.environment.read { txn in
                        try fold(ledger, txn, mine, snapshot + 1)
                    }
                }
            }
        }
        return try results.flatMap { try $0.get() }
    }

    private func rebuildTimeline(upTo snapshot: UInt64, generation: Int) throws {
        let environment = ledger.environment
        var timeline = TimelineEntries(capacity: Int(snapshot))
        var next: UInt64 = 1
        while next <= snapshot {
            let end = min(snapshot, next + UInt64(ProjectionRebuilder.timelineChunk) - 1)
            try environment.read { txn in
                for seq in next...end {
                    guard let raw = try txn.get(ledger.databases.events, key: seq) else { continue }
                    // The forward scanner reads canonical records without building their data.
                    let (effective, stream) = try EventRecord.scanCanonical(raw, chainFields: false).map { ($0.effective, $0.stream) }
                        ?? { let event = try EventRecord.decode(raw); return (event.effective, event.stream) }()
                    timeline.add(instant: EffectiveTime(effective)?.instant ?? 0, seq: seq, stream: stream)
                }
            }
            timeline.sortNewEntries()
            // Reading is the first half of the work, writing the second.
            onProgress(Progress(projection: .timeline, done: Int(end) / 2, total: Int(snapshot)))
            next = end + 1
        }
        try timeline.write(to: environment, generation: generation) { written in
            onProgress(Progress(projection: .timeline, done: (Int(snapshot) + written) / 2, total: Int(snapshot)))
        }
    }
}

/// An exclusive lock on `rebuild.lock` in the ledger directory, released on exit even if the
/// process dies: one rebuild or snapshot at a time.
struct RebuildLock {
    let fd: Int32

    init(_ directory: String) throws(LedgerError) {
        fd = open(directory + "/rebuild.lock", O_CREAT | O_RDWR, 0o600)
        guard fd >= 0 else { throw LedgerError(.storage, "cannot create the rebuild lock in '\(directory)'") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw LedgerError(.conflict, "another rebuild or snapshot of this ledger is running; try again when it is done")
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// A mutable slot a background fold fills in.
private final class Box<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
