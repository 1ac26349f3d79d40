import LMDB
import LedgerCore
import LedgerValues

/// The projections this program maintains, each with the version of its code: a ledger whose
/// stored projection has another version (or is behind the log) must be rebuilt before it
/// answers.
public enum ProjectionName: String, Sendable, CaseIterable, Comparable {
    /// Every entity's events and state, and the zone's figures per year.
    case state
    /// Every event by effective time, for timelines and as-of audits.
    case timeline

    public var version: Int {
        switch self {
        case .state: return 4  // 3: entity fold position as text; years by the zone's calendar date; 4: housing units by month
        case .timeline: return 1
        }
    }

    public static func < (a: ProjectionName, b: ProjectionName) -> Bool { a.rawValue < b.rawValue }
}

/// What the `projections` table says of one projection.
public struct ProjectionEntry: Sendable, Equatable {
    /// The version of the code that built it.
    public var version: Int
    /// The last seq it reflects.
    public var appliedSeq: UInt64
    /// Which set of tables holds it; a rebuild fills the next generation and switches.
    public var generation: Int

    var json: JSONValue {
        .object(JSONObject([("version", .number(Double(version))), ("appliedSeq", .number(Double(appliedSeq))),
                            ("generation", .number(Double(generation)))]))
    }

    init(version: Int, appliedSeq: UInt64, generation: Int) {
        self.version = version
        self.appliedSeq = appliedSeq
        self.generation = generation
    }

    init?(_ raw: UnsafeRawBufferPointer) {
        guard let value = try? ProjectionTables.parse(raw),
              let version = value["version"]?.integerValue, let applied = value["appliedSeq"]?.integerValue,
              let generation = value["generation"]?.integerValue else { return nil }
        self.init(version: Int(version), appliedSeq: UInt64(applied), generation: Int(generation))
    }
}

/// Table names and the small read/write helpers every projection file uses.
enum ProjectionTables {
    static let registry = "projections"

    static func entities(_ generation: Int) -> String { "state.entities.g\(generation)" }
    static func years(_ generation: Int) -> String { "state.years.g\(generation)" }
    static func timeline(_ generation: Int) -> String { "timeline.g\(generation)" }

    static func tables(of name: ProjectionName, generation: Int) -> [String] {
        switch name {
        case .state: return [entities(generation), years(generation)]
        case .timeline: return [timeline(generation)]
        }
    }

    static func entry(_ txn: Transaction, _ name: ProjectionName) throws -> ProjectionEntry? {
        guard let registry = try txn.openDatabase(named: registry, create: false) else { return nil }
        return try Array(name.rawValue.utf8).withUnsafeBytes { try txn.get(registry, key: $0) }.flatMap(ProjectionEntry.init)
    }

    static func setEntry(_ txn: Transaction, _ name: ProjectionName, _ entry: ProjectionEntry) throws {
        let registry = try txn.openDatabase(named: registry, create: true)!
        try putJSON(txn, registry, key: name.rawValue, entry.json)
    }

    static func putJSON(_ txn: Transaction, _ database: Database, key: String, _ value: JSONValue) throws {
        let bytes = value.canonicalBytes
        try Array(key.utf8).withUnsafeBytes { k in try bytes.withUnsafeBytes { try txn.put(database, key: k, value: $0) } }
    }

    static func getJSON(_ txn: Transaction, _ database: Database, key: String) throws -> JSONValue? {
        guard let raw = try Array(key.utf8).withUnsafeBytes({ try txn.get(database, key: $0) }) else { return nil }
        return try parse(raw)
    }

    static func parse(_ raw: UnsafeRawBufferPointer) throws -> JSONValue {
        try JSONParser.parse(raw.bindMemory(to: UInt8.self))
    }

    /// Timeline keys: the effective instant (biased so that byte order is numeric order for
    /// negative instants too) then the seq, both big-endian.
    static func withTimelineKey<T>(instant: Int64, seq: UInt64, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try withUnsafeBytes(of: ((UInt64(bitPattern: instant) ^ (1 << 63)).bigEndian, seq.bigEndian), body)
    }

    static func timelineKeyParts(_ key: UnsafeRawBufferPointer) -> (instant: Int64, seq: UInt64)? {
        guard key.count == 16, let biased = UInt64(bigEndianBytes: key),
              let seq = UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: key[8...])) else { return nil }
        return (Int64(bitPattern: biased ^ (1 << 63)), seq)
    }
}

/// What the state projection stores per entity: its current state, and enough to tell
/// whether the next events can simply apply on top (they come later in time and nothing was
/// fixed) or the entity must be folded again from its events in the log.
struct StoredEntity: Sendable, Equatable {
    var stream: String
    var state: JSONObject
    /// The fold position of the last event applied: (effective instant, seq).
    var lastInstant: Int64
    var lastSeq: UInt64
    /// Whether a correction or retraction names one of its events.
    var hasFixes: Bool

    init(stream: String, state: JSONObject, lastInstant: Int64, lastSeq: UInt64, hasFixes: Bool) {
        self.stream = stream
        self.state = state
        self.lastInstant = lastInstant
        self.lastSeq = lastSeq
        self.hasFixes = hasFixes
    }

    init(_ entity: Entity) {
        stream = entity.stream
        state = entity.state
        lastInstant = entity.events.last?.instant ?? .min
        lastSeq = entity.events.last?.seq ?? 0
        hasFixes = entity.events.contains(where: \.isFix)
    }

    var json: JSONValue {
        // The instant as text: microseconds of dates far from 1970 exceed the 2^53 JSON numbers hold exactly.
        .object(JSONObject([("stream", .string(stream)), ("state", .object(state)), ("lastInstant", .string(String(lastInstant))),
                            ("lastSeq", .number(Double(lastSeq))), ("hasFixes", .bool(hasFixes))]))
    }

    init?(json: JSONValue) {
        guard let stream = json["stream"]?.stringValue, let state = json["state"]?.objectValue,
              let lastInstant = json["lastInstant"]?.stringValue.flatMap({ Int64($0) }), let lastSeq = json["lastSeq"]?.integerValue,
              case .bool(let hasFixes)? = json["hasFixes"] else { return nil }
        self.stream = stream
        self.state = state
        self.lastInstant = lastInstant
        self.lastSeq = UInt64(lastSeq)
        self.hasFixes = hasFixes
    }
}
