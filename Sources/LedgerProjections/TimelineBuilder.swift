import LMDB
import LedgerCore

/// The entries of a timeline being rebuilt, gathered whole (about 24 bytes an event), then
/// sorted and written in key order with `MDB_APPEND`. Gathered in stream or seq order they are
/// scattered over time, and writing them chunk by chunk would rewrite pages all over the table
/// in every transaction.
struct TimelineBuilder {
    private var entries: [(instant: Int64, seq: UInt64, stream: UInt32)] = []
    private var streams: [String] = []
    private var streamIndex: [String: UInt32] = [:]

    init(capacity: Int) { entries.reserveCapacity(capacity) }

    var count: Int { entries.count }

    mutating func add(instant: Int64, seq: UInt64, stream: String) {
        let index: UInt32
        if streams.last == stream {
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

    /// Sorts the entries and writes them into the (empty) timeline table of `generation`, a
    /// million per transaction; `onProgress` gets the number written so far.
    mutating func write(to environment: Environment, generation: Int, onProgress: (Int) -> Void) throws {
        entries.sort { ($0.instant, $0.seq) < ($1.instant, $1.seq) }
        // Each seq once: two entries for one seq mean its event is listed under two streams.
        for index in entries.indices.dropFirst() where entries[index].seq == entries[index - 1].seq && entries[index].instant == entries[index - 1].instant {
            throw LedgerError(.storage, "the ledger file is damaged: seq \(entries[index].seq) is listed under two streams; run 'civic-ledger verify' and restore a backup")
        }
        var start = 0
        while start < entries.count {
            let end = min(entries.count, start + 1_000_000)
            try environment.write { txn in
                let table = try txn.openDatabase(named: ProjectionTables.timeline(generation), create: true)!
                for entry in entries[start..<end] {
                    var stream = streams[Int(entry.stream)]
                    try ProjectionTables.withTimelineKey(instant: entry.instant, seq: entry.seq) { key in
                        try stream.withUTF8 { try txn.put(table, key: key, value: UnsafeRawBufferPointer($0), options: .append) }
                    }
                }
            }
            start = end
            onProgress(start)
        }
    }
}
