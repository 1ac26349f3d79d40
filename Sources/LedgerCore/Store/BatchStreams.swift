import CShims
import LMDB

/// The streams one write transaction appends to: each stream's version as the batch goes, and
/// the seqs its new versions got. At the end the streams are put in key order, each with its
/// run of stream-index entries: sorting a batch's streams (thousands) instead of its entries
/// (a million) is what keeps a big batch's index writes cheap, and sorted puts fill one page
/// after another instead of landing all over the B-trees.
///
/// The writer asks where a stream is once per event, so that lookup is (most often) one probe
/// of an open table keyed by the stream's hash, computed while preparing, with the stream's
/// name and versions in the same entry: a big batch touches thousands of streams, and a `Dictionary`
/// lookup (hashing the name, then its keys, values and a versions array) cost several cache
/// misses per event. Per event written it keeps a stream number and a seq in one flat array.
struct BatchStreams {
    private struct Entry {
        var hash: UInt64 = 0
        /// The stream's number among the batch's streams (`names`); -1 for an empty entry.
        var slot = -1
        var name = ""
        /// The stream's version before the batch, and now.
        var before: UInt64 = 0
        var now: UInt64 = 0
    }
    /// A power of two in size, at most half full; probed linearly from `hash & mask`.
    private var table = [Entry](repeating: Entry(), count: 64)
    private var names: [String] = []
    /// Per event written, in seq order: its stream's slot and its seq.
    private var writtenEvents: [(slot: Int, seq: UInt64)] = []

    /// The hash a stream is filed under: keyed SipHash of its UTF-8 bytes.
    static func hash(_ stream: String) -> UInt64 {
        var stream = stream
        return stream.withUTF8 { SipHash.fingerprint.hash(UnsafeRawBufferPointer($0)) }
    }

    /// A stream as the batch has it so far.
    struct Position {
        fileprivate let entry: Int, slot: Int
        /// The stream's version after this batch's events so far.
        let version: UInt64
    }

    /// Where `stream` (whose `hash` is `BatchStreams.hash(stream)`) is: after this batch's
    /// events so far, else at the version `stored` reads.
    mutating func position(of stream: String, hash: UInt64, stored: () throws -> UInt64) rethrows -> Position {
        let mask = table.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while table[index].slot >= 0 {
            if table[index].hash == hash, table[index].name == stream {
                return Position(entry: index, slot: table[index].slot, version: table[index].now)
            }
            index = (index + 1) & mask
        }
        let version = try stored()
        table[index] = Entry(hash: hash, slot: names.count, name: stream, before: version, now: version)
        names.append(stream)
        if names.count * 2 > table.count {
            grow()
            return try position(of: stream, hash: hash, stored: stored)
        }
        return Position(entry: index, slot: names.count - 1, version: version)
    }

    /// Starts loading the entry a lookup of `hash` probes first, to be asked for soon: a big
    /// batch's table is larger than the cache, and the miss was most of a lookup's cost
    /// (3.4% of a million-event append's samples, 0.8% with the entry loaded one event ahead).
    func prefetch(hash: UInt64) {
        table.withUnsafeBufferPointer { table in
            let entry = UnsafeRawPointer(table.baseAddress! + (Int(truncatingIfNeeded: hash) & (table.count - 1)))
            civic_prefetch(entry)
            civic_prefetch(entry + MemoryLayout<Entry>.stride - 1)  // an entry may straddle two lines
        }
    }

    /// Twice the room, every entry filed again.
    private mutating func grow() {
        let old = table
        table = [Entry](repeating: Entry(), count: old.count * 2)
        let mask = table.count - 1
        for entry in old where entry.slot >= 0 {
            var index = Int(truncatingIfNeeded: entry.hash) & mask
            while table[index].slot >= 0 { index = (index + 1) & mask }
            table[index] = entry
        }
    }

    /// Records that the stream at `position` (the last one asked for) got its next version,
    /// event `seq`.
    mutating func append(_ seq: UInt64, at position: Position) {
        assert(table[position.entry].slot == position.slot, "a position is used before the table grows again")
        assert(table[position.entry].now == position.version, "a stream's position is used once")
        table[position.entry].now += 1
        writtenEvents.append((position.slot, seq))
    }

    /// The streams the batch wrote to (in the order first asked about), and per event
    /// written, in seq order, the index of its stream among them.
    var written: (streams: [String], streamIndex: [Int]) { (names, writtenEvents.map(\.slot)) }

    /// Puts each stream's new version (`streams`) and its stream-index entries
    /// (stream ‖ 0x00 ‖ version → seq, `streamEvents`), streams in byte order.
    func put(_ txn: Transaction, streams streamsDatabase: Database, streamEvents: Database) throws {
        var versions = [(before: UInt64, now: UInt64)](repeating: (0, 0), count: names.count)
        for entry in table where entry.slot >= 0 { versions[entry.slot] = (entry.before, entry.now) }
        // Each stream's seqs, in seq order: where a stream's run starts in `seqs`, then the
        // runs filled in event order.
        var starts = [Int](repeating: 0, count: names.count + 1)
        for event in writtenEvents { starts[event.slot + 1] += 1 }
        for slot in names.indices { starts[slot + 1] += starts[slot] }
        var next = starts
        var seqs = [UInt64](repeating: 0, count: writtenEvents.count)
        for event in writtenEvents {
            seqs[next[event.slot]] = event.seq
            next[event.slot] += 1
        }
        // The streams in key order: their names' UTF-8 bytes (a stream name holds no 0x00,
        // so `s ‖ 0x00 ‖ …` sorts as `s` does).
        var order = IndexEntries(capacity: names.count)
        for (slot, name) in names.enumerated() where versions[slot].now > versions[slot].before {
            var name = name
            name.withUTF8 { order.add(UnsafeRawBufferPointer($0), value: UInt64(slot)) }
        }
        order.sort()
        var key: [UInt8] = []
        try txn.withCursor(streamEvents) { cursor in
            try order.forEach { name, slot in
                let slot = Int(slot)
                Ledger.streamEventKey(utf8: name, 0, into: &key)
                let versionAt = key.count - 8
                for (offset, seq) in seqs[starts[slot]..<starts[slot + 1]].enumerated() {
                    withUnsafeBytes(of: (versions[slot].before + UInt64(offset) + 1).bigEndian) { key.replaceSubrange(versionAt..., with: $0) }
                    try key.withUnsafeBytes { key in try seq.withBigEndianBytes { try cursor.putAscending(key: key, value: $0) } }
                }
            }
        }
        try order.put(into: streamsDatabase, txn) { versions[Int($0)].now }
    }
}
