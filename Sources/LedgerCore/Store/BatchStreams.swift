import LMDB

/// The streams one write transaction appends to: each stream's version as the batch goes, and
/// the seqs its new versions got. At the end the streams are put in key order, each with its
/// run of stream-index entries: sorting a batch's streams (thousands) instead of its entries
/// (a million) is what keeps a big batch's index writes cheap, and sorted puts fill one page
/// after another instead of landing all over the B-trees.
struct BatchStreams {
    private struct Progress {
        /// The stream's version before the batch's first event in it.
        var before: UInt64
        /// The seqs of the stream's versions `before + 1`, `before + 2`, … in this batch.
        var seqs: [UInt64]
    }

    private var streams: [String: Progress] = [:]

    /// The stream's version now: after this batch's events so far, else the one `stored` reads.
    /// A stream the batch has seen costs one dictionary lookup.
    func version(of stream: String, stored: () throws -> UInt64) rethrows -> UInt64 {
        if let progress = streams[stream] { return progress.before + UInt64(progress.seqs.count) }
        return try stored()
    }

    /// Records that the stream's `version`, the one after `version(of:)`, is event `seq`.
    mutating func add(_ stream: String, version: UInt64, seq: UInt64) {
        if let slot = streams.index(forKey: stream) {
            assert(version == streams.values[slot].before + UInt64(streams.values[slot].seqs.count) + 1)
            streams.values[slot].seqs.append(seq)
        } else {
            streams[stream] = Progress(before: version - 1, seqs: [seq])
        }
    }

    /// Puts each stream's new version (`streams`) and its stream-index entries
    /// (stream ‖ 0x00 ‖ version → seq, `streamEvents`), streams in byte order.
    func put(_ txn: Transaction, streams streamsDatabase: Database, streamEvents: Database) throws {
        // UTF-8 byte order is the key order (a stream name holds no 0x00, so `s ‖ 0x00 ‖ …`
        // sorts as `s` does).
        let names = streams.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var key: [UInt8] = []
        for name in names {
            guard let progress = streams[name] else { continue }
            Ledger.streamEventKey(name, 0, into: &key)
            let versionAt = key.count - 8
            for (offset, seq) in progress.seqs.enumerated() {
                withUnsafeBytes(of: (progress.before + UInt64(offset) + 1).bigEndian) { key.replaceSubrange(versionAt..., with: $0) }
                try key.withUnsafeBytes { key in try seq.withBigEndianBytes { try txn.put(streamEvents, key: key, value: $0) } }
            }
            var stream = name
            let version = progress.before + UInt64(progress.seqs.count)
            try stream.withUTF8 { key in
                try version.withBigEndianBytes { try txn.put(streamsDatabase, key: UnsafeRawBufferPointer(key), value: $0) }
            }
        }
    }
}
