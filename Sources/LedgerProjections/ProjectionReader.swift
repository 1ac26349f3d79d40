import LMDB
import LedgerCore
import LedgerValues

/// One projection's state as `civic-ledger projections` shows it.
public struct ProjectionStatus: Sendable {
    public var name: ProjectionName
    /// What the ledger holds; nil when it was never built.
    public var stored: ProjectionEntry?
    public var headSeq: UInt64

    /// Stale: never built, built by another version of the code, or behind the log.
    public var isStale: Bool {
        guard let stored else { return true }
        return stored.version != name.version || stored.appliedSeq != headSeq
    }

    public var reason: String? {
        guard let stored else { return "never built for this ledger" }
        if stored.version != name.version { return "built by projection version \(stored.version), this program has version \(name.version)" }
        if stored.appliedSeq != headSeq { return "reflects seq \(stored.appliedSeq) of \(headSeq)" }
        return nil
    }
}

/// Reads the projections, each answer in one short read transaction, and refuses to answer
/// from a stale projection.
public struct ProjectionReader: Sendable {
    public let ledger: Ledger

    public init(_ ledger: Ledger) { self.ledger = ledger }

    public func statuses() throws(LedgerError) -> [ProjectionStatus] {
        try ledger.storage("cannot read the projections") {
            try ledger.environment.read { txn in try statuses(txn) }
        }
    }

    func statuses(_ txn: Transaction) throws -> [ProjectionStatus] {
        let head = try ledger.readHead(txn).seq
        return try ProjectionName.allCases.map { ProjectionStatus(name: $0, stored: try ProjectionTables.entry(txn, $0), headSeq: head) }
    }

    /// Runs `body` on the tables of a fresh projection; `.stale` otherwise.
    func reading<T>(_ name: ProjectionName, _ body: (Transaction, Int) throws -> T) throws(LedgerError) -> T {
        try ledger.storage("cannot read the \(name.rawValue) projection") {
            try ledger.environment.read { txn in
                let status = ProjectionStatus(name: name, stored: try ProjectionTables.entry(txn, name), headSeq: try ledger.readHead(txn).seq)
                if status.isStale {
                    throw LedgerError(.stale, "the \(name.rawValue) projection is stale (\(status.reason ?? "")): run 'civic-ledger rebuild' or add --auto-rebuild")
                }
                return try body(txn, status.stored!.generation)
            }
        }
    }

    /// One entity's current state, by stream.
    public func state(of stream: String) throws(LedgerError) -> JSONObject? {
        try reading(.state) { txn, generation in
            guard let table = try txn.openDatabase(named: ProjectionTables.entities(generation), create: false) else { return nil }
            return try ProjectionTables.getJSON(txn, table, key: stream).flatMap(StoredEntity.init(json:))?.state
        }
    }

    /// The current states of the entities whose stream starts with `kind/`, in stream order.
    public func states(kind: String) throws(LedgerError) -> [(stream: String, state: JSONObject)] {
        try reading(.state) { txn, generation in
            guard let table = try txn.openDatabase(named: ProjectionTables.entities(generation), create: false) else { return [] }
            let prefix = Array((kind + "/").utf8)
            return try txn.withCursor(table) { cursor in
                var found: [(String, JSONObject)] = []
                var entry = try prefix.withUnsafeBytes { try cursor.seek(atLeast: $0) }
                while let current = entry, current.key.starts(with: prefix) {
                    if let stored = StoredEntity(json: try ProjectionTables.parse(current.value)) { found.append((stored.stream, stored.state)) }
                    entry = try cursor.next()
                }
                return found
            }
        }
    }

    /// An entity with all its events, folded from the log (its stream index): the history
    /// view. Nil when the stream has no events.
    public func entity(_ stream: String) throws(LedgerError) -> Entity? {
        try ledger.storage("cannot read stream '\(stream)'") {
            let events = try ledger.environment.read { txn in try ledger.streamEvents(txn, stream) }
            return events.isEmpty ? nil : Entity(stream: stream, events: events)
        }
    }

    /// The zone's figures per year: year → counter → amount.
    public func years() throws(LedgerError) -> [String: [String: Double]] {
        try reading(.state) { txn, generation in
            guard let table = try txn.openDatabase(named: ProjectionTables.years(generation), create: false) else { return [:] }
            return try txn.withCursor(table) { cursor in
                var years: [String: [String: Double]] = [:]
                var entry = try cursor.first()
                while let current = entry {
                    let counters = try ProjectionTables.parse(current.value).objectValue ?? JSONObject()
                    years[String(decoding: current.key, as: UTF8.self)] = Dictionary(uniqueKeysWithValues: counters.members.compactMap { member in
                        member.value.numberValue.map { (member.key, $0) }
                    })
                    entry = try cursor.next()
                }
                return years
            }
        }
    }

    /// The events effective in [from, to), as (instant, seq, stream), in time order.
    public func timeline(from: Int64, to: Int64) throws(LedgerError) -> [(instant: Int64, seq: UInt64, stream: String)] {
        try reading(.timeline) { txn, generation in
            guard let table = try txn.openDatabase(named: ProjectionTables.timeline(generation), create: false) else { return [] }
            return try txn.withCursor(table) { cursor in
                var found: [(Int64, UInt64, String)] = []
                var entry = try ProjectionTables.withTimelineKey(instant: from, seq: 0) { try cursor.seek(atLeast: $0) }
                while let current = entry, let (instant, seq) = ProjectionTables.timelineKeyParts(current.key), instant < to {
                    found.append((instant, seq, String(decoding: current.value, as: UTF8.self)))
                    entry = try cursor.next()
                }
                return found
            }
        }
    }
}
