import LMDB
import LedgerCore

/// Timeline entries (effective instant, seq → stream) gathered compactly (24 bytes an event),
/// then sorted and put in key order: a batch's or a rebuild's events come in stream or seq
/// order, scattered over time, and put as they come they would land all over the table.
struct TimelineEntries {
    private var entries: [(instant: Int64, seq: UInt64, stream: UInt32)] = []
    private var streams: [String] = []
    private var streamIndex: [String: UInt32] = [:]
    /// How many entries, from the start, are runs already sorted by `sortNewEntries`.
    private var sortedCount = 0

    init(capacity: Int) { entries.reserveCapacity(capacity) }

    mutating func add(instant: Int64, seq: UInt64, stream: String) {
        let index: UInt32
        if streams.last == stream {
            // Runs of one stream (a rebuild adds an entity's events together) skip the lookup.
            index = UInt32(streams.count - 1)
        } else if let known = streamIndex[stream] {
            index = known
        } else {
            index = UInt32(streams.count)
            streams.append(stream)
            streamIndex[stream] = index
        }
        entries.append((instant, seq, index))
    }

    /// Sorts the entries added since the last call. A rebuild calls it chunk by chunk while
    /// the next chunk folds, and the final sort (which finds sorted runs) only merges them.
    mutating func sortNewEntries() {
        entries[sortedCount...].sort(by: TimelineEntries.keyOrder)
        sortedCount = entries.count
    }

    private static func keyOrder(_ a: (instant: Int64, seq: UInt64, stream: UInt32), _ b: (instant: Int64, seq: UInt64, stream: UInt32)) -> Bool {
        (a.instant, a.seq) < (b.instant, b.seq)
    }

    /// Puts the entries into the timeline table of `generation`, in `txn` (a batch's).
    mutating func put(into txn: Transaction, generation: Int) throws {
        entries.sort(by: TimelineEntries.keyOrder)
        try put(entries.indices, into: txn, generation: generation, options: [])
    }

    /// Writes the entries into the (empty) timeline table of `generation` with `MDB_APPEND`, a
    /// million per transaction (a rebuild's); `onProgress` gets the number written so far.
    mutating func write(to environment: Environment, generation: Int, onProgress: (Int) -> Void) throws {
        entries.sort(by: TimelineEntries.keyOrder)
        // Each seq once: two entries for one seq mean its event is listed under two streams.
        for index in entries.indices.dropFirst() where entries[index].seq == entries[index - 1].seq && entries[index].instant == entries[index - 1].instant {
            throw LedgerError(.storage, "the ledger file is damaged: seq \(entries[index].seq) is listed under two streams; run 'civic-ledger verify' and restore a backup")
        }
        var start = 0
        while start < entries.count {
            let end = min(entries.count, start + 1_000_000)
            try environment.write { txn in try put(start..<end, into: txn, generation: generation, options: .append) }
            start = end
            onProgress(start)
        }
    }

    private func put(_ range: Range<Int>, into txn: Transaction, generation: Int, options: PutOptions) throws {
        let table = try txn.openDatabase(named: ProjectionTables.timeline(generation), create: true)!
        try txn.withCursor(table) { cursor in
            for entry in entries[range] {
                var stream = streams[Int(entry.stream)]
                try ProjectionTables.withTimelineKey(instant: entry.instant, seq: entry.seq) { key in
                    try stream.withUTF8 { try cursor.put(key: key, value: UnsafeRawBufferPointer($0), options: options) }
                }
            }
        }
    }
}
