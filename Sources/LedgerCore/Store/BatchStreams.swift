import LMDB

/// The streams one write transaction appends to: each stream's version as the batch goes, and
/// the seqs its new versions got. At the end the streams are put in key order, each with its
/// run of stream-index entries: sorting a batch's streams (thousands) instead of its entries
/// (a million) is what keeps a big batch's index writes cheap, and sorted puts fill one page
/// after another instead of landing all over the B-trees.
///
/// Per event it keeps a stream number and a seq in one flat array, and per stream two
/// versions side by side: a big batch touches thousands of streams, and an array of seqs per
/// stream would cost a cache miss per event to reach.
struct BatchStreams {
    private var slots: [String: Int] = [:]
    private var names: [String] = []
    /// Per stream: its version before the batch, and now.
    private var versions: [(before: UInt64, now: UInt64)] = []
    /// Per event written, in seq order: its stream's slot and its seq.
    private var writtenEvents: [(slot: Int, seq: UInt64)] = []

    /// A stream as the batch has it so far.
    struct Position {
        fileprivate let slot: Int
        /// The stream's version after this batch's events so far.
        let version: UInt64
    }

    /// Where `stream` is: after this batch's events so far, else at the version `stored`
    /// reads. A stream the batch has seen costs one dictionary lookup.
    mutating func position(of stream: String, stored: () throws -> UInt64) rethrows -> Position {
        if let slot = slots[stream] { return Position(slot: slot, version: versions[slot].now) }
        let version = try stored()
        slots[stream] = names.count
        names.append(stream)
        versions.append((version, version))
        return Position(slot: names.count - 1, version: version)
    }

    /// Records that the stream at `position` got its next version, event `seq`.
    mutating func append(_ seq: UInt64, at position: Position) {
        assert(versions[position.slot].now == position.version, "a stream's position is used once")
        versions[position.slot].now += 1
        writtenEvents.append((position.slot, seq))
    }

    /// The streams the batch wrote to (in the order first asked about), and per event
    /// written, in seq order, the index of its stream among them.
    var written: (streams: [String], streamIndex: [Int]) { (names, writtenEvents.map(\.slot)) }

    /// Puts each stream's new version (`streams`) and its stream-index entries
    /// (stream ‖ 0x00 ‖ version → seq, `streamEvents`), streams in byte order.
    func put(_ txn: Transaction, streams streamsDatabase: Database, streamEvents: Database) throws {
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
