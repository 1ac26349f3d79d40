import LMDB
import LedgerCore
import LedgerValues

/// Derived data that lets an audit of any date skip the replay: every entity's history as the
/// ledger knew it at one seq — its state after each effective instant at which it changed.
/// An audit looks each entity's state up at its date, and replays from the log only the
/// entities that events after the snapshot's seq (or after the audit's known-at point) touch.
///
/// Taking a snapshot is maintenance (`civic-ledger audit snapshot`), not part of appends: a
/// snapshot that is behind the log stays correct, audits just replay more. Like the
/// projections it lives in generations and is switched in atomically.
public struct AuditSnapshot: Sendable {
    /// The version of the snapshot's layout; a snapshot of another version, or folded by
    /// another version of the state projection's code, is ignored by audits.
    public static let version = 1
    static let registryKey = "snapshot"

    static func table(_ generation: Int) -> String { "snapshot.history.g\(generation)" }

    /// What the registry says of the snapshot in use.
    public struct Entry: Sendable, Equatable {
        public var version: Int
        /// The state projection's version when it was taken: the entity fold it holds.
        public var foldVersion: Int
        /// The seq the snapshot reflects: it knows every event up to it and none after.
        public var seq: UInt64
        public var generation: Int

        /// Whether this program can use it: the same layout and the same fold.
        public var isCurrent: Bool { version == AuditSnapshot.version && foldVersion == ProjectionName.state.version }
    }

    public struct Report: Sendable {
        public var seq: UInt64
        public var entities: Int
        public var entries: Int
        public var seconds: Double
    }

    public let ledger: Ledger

    public init(_ ledger: Ledger) { self.ledger = ledger }

    /// Keys: the stream, a NUL (streams hold none), then the effective instant biased so that
    /// byte order is numeric order.
    static func key(stream: String, instant: Int64) -> [UInt8] {
        var key = Array(stream.utf8)
        key.append(0)
        withUnsafeBytes(of: (UInt64(bitPattern: instant) ^ (1 << 63)).bigEndian) { key.append(contentsOf: $0) }
        return key
    }

    /// The snapshot in use, if one was taken with this version of the code.
    public func entry() throws(LedgerError) -> Entry? {
        try ledger.storage("cannot read the audit snapshot") { try ledger.environment.read { txn in try AuditSnapshot.entry(txn) } }
    }

    package static func entry(_ txn: Transaction) throws -> Entry? {
        guard let registry = try txn.openDatabase(named: ProjectionTables.registry, create: false),
              let raw = try Array(registryKey.utf8).withUnsafeBytes({ try txn.get(registry, key: $0) }),
              let value = try? ProjectionTables.parse(raw),
              let version = value["version"]?.integerValue, let seq = value["seq"]?.integerValue, let generation = value["generation"]?.integerValue
        else { return nil }
        return Entry(version: Int(version), foldVersion: Int(value["foldVersion"]?.integerValue ?? 0), seq: UInt64(seq), generation: Int(generation))
    }

    /// Folds every stream up to the head into a fresh generation, then switches to it.
    public func take(onProgress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws(LedgerError) -> Report {
        guard !ledger.options.readOnly else { throw LedgerError(.readOnly, "the ledger is open read-only; a snapshot needs write access") }
        let started = RecordedTime.monotonicSeconds()
        let lock = try RebuildLock(ledger.path)
        defer { lock.release() }
        return try ledger.storage("cannot take an audit snapshot") {
            let environment = ledger.environment
            let (seq, old, generation) = try environment.write { txn in
                let old = try AuditSnapshot.entry(txn)
                let generation = (old?.generation ?? 0) + 1
                if let leftover = try txn.openDatabase(named: AuditSnapshot.table(generation), create: false) { try txn.dropDatabase(leftover) }
                _ = try txn.openDatabase(named: AuditSnapshot.table(generation), create: true)
                return (try ledger.readHead(txn).seq, old, generation)
            }
            var entities = 0, entries = 0, done = 0
            try ProjectionRebuilder(ledger).forEachChunkOfEntities(upTo: seq) { chunk in
                let rows = chunk.flatMap(AuditSnapshot.rows)
                try environment.write { txn in
                    let table = try txn.openDatabase(named: AuditSnapshot.table(generation), create: true)!
                    for (key, value) in rows {
                        try key.withUnsafeBytes { k in try value.withUnsafeBytes { try txn.put(table, key: k, value: $0) } }
                    }
                }
                entities += chunk.count { !$0.events.isEmpty }
                entries += rows.count
                done += chunk.reduce(0) { $0 + $1.events.count }
                onProgress(done, Int(seq))
            }
            try environment.write { txn in
                let registry = try txn.openDatabase(named: ProjectionTables.registry, create: true)!
                try ProjectionTables.putJSON(txn, registry, key: AuditSnapshot.registryKey, .object(JSONObject([
                    ("version", .number(Double(AuditSnapshot.version))), ("foldVersion", .number(Double(ProjectionName.state.version))), ("seq", .number(Double(seq))), ("generation", .number(Double(generation))),
                ])))
                if let old, let stale = try txn.openDatabase(named: AuditSnapshot.table(old.generation), create: false) { try txn.dropDatabase(stale) }
            }
            return Report(seq: seq, entities: entities, entries: entries, seconds: RecordedTime.monotonicSeconds() - started)
        }
    }

    /// One row per effective instant at which the entity's state changed: the state after
    /// the last event at that instant (an audit's date is an instant, so the events sharing
    /// one all count or none does).
    static func rows(_ entity: Entity) -> [([UInt8], [UInt8])] {
        var rows: [([UInt8], [UInt8])] = []
        let history = entity.history()
        for (index, step) in history.enumerated() where index == history.count - 1 || history[index + 1].event.instant != step.event.instant {
            rows.append((key(stream: entity.stream, instant: step.event.instant), JSONValue.object(step.state).canonicalBytes))
        }
        return rows
    }

    /// Every entity's state at `instant` as the snapshot knows it, for the streams `skip`
    /// does not hold; nil when no snapshot of this version exists. Entities with nothing at
    /// that instant are left out.
    public func states(asOf instant: Int64, skipping skip: Set<String>) throws(LedgerError) -> (seq: UInt64, states: [String: JSONObject])? {
        try ledger.storage("cannot read the audit snapshot") {
            try ledger.environment.read { txn -> (UInt64, [String: JSONObject])? in
                guard let entry = try AuditSnapshot.entry(txn), entry.isCurrent,
                      let table = try txn.openDatabase(named: AuditSnapshot.table(entry.generation), create: false) else { return nil }
                var states: [String: JSONObject] = [:]
                // The streams from the log's stream table (small, read in order); for each,
                // one seek just past the audit's instant in the snapshot, and one step back.
                try txn.withCursor(ledger.databases.streams) { streams in
                    try txn.withCursor(table) { cursor in
                        var row = try streams.first()
                        while let current = row {
                            let stream = String(decoding: current.key, as: UTF8.self)
                            if !skip.contains(stream) {
                                let prefix = Array(current.key) + [0]
                                let bound = AuditSnapshot.key(stream: stream, instant: instant == .max ? .max : instant + 1)
                                let after = try bound.withUnsafeBytes { try cursor.seek(atLeast: $0) }
                                let at = try after == nil ? cursor.last() : cursor.previous()
                                if let at, at.key.count == prefix.count + 8, at.key.starts(with: prefix),
                                   let state = try ProjectionTables.parse(at.value).objectValue {
                                    states[stream] = state
                                }
                            }
                            row = try streams.next()
                        }
                    }
                }
                return (entry.seq, states)
            }
        }
    }
}
