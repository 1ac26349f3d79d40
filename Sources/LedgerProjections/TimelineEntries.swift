import LMDB
import LedgerCore

/// Timeline entries (effective instant, seq → stream) gathered for one write and put in key
/// order: a batch's or a chunk's events come in stream or seq order, scattered over time.
struct TimelineEntries {
    private var keys: IndexEntries
    /// The streams the entries name; an entry's value is its index here.
    private var streams: [String] = []

    init(capacity: Int) { keys = IndexEntries(capacity: capacity) }

    mutating func add(instant: Int64, seq: UInt64, stream: String) {
        // Runs of one stream (a rebuild adds an entity's events together) share one name.
        if streams.last != stream { streams.append(stream) }
        ProjectionTables.withTimelineKey(instant: instant, seq: seq) { keys.add($0, value: UInt64(streams.count - 1)) }
    }

    mutating func put(into txn: Transaction, generation: Int) throws {
        let table = try txn.openDatabase(named: ProjectionTables.timeline(generation), create: true)!
        keys.sort()
        try keys.forEach { key, index in
            var stream = streams[Int(index)]
            try stream.withUTF8 { try txn.put(table, key: key, value: UnsafeRawBufferPointer($0)) }
        }
    }
}
