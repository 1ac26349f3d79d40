import LMDB
import LedgerCore
import LedgerValues

/// Events just written in a transaction, as the projections fold them: each event's place
/// (seq, effective instant, stream), its type and effective text, and where its `data` is. An
/// append gives its prepared events (nothing is read back or parsed again); the events a
/// rebuild catches up with are scanned from their records.
///
/// A record's slices point into the transaction's pages, which LMDB may move at its next
/// update (a big transaction writes dirty pages out early and frees them). So everything that
/// reads them (the fold) runs before the projections' first put; the places are copies and stay.
struct WrittenEvents {
    /// Per event, in seq order: what the fold reads.
    private(set) var slices: [FoldedStream.Slices] = []
    /// Per event: the index of its stream in `streams`.
    private(set) var streamIndex: [Int] = []
    /// Per event: whether it can fold from its slices (an original, its record canonical).
    /// A stream with any other new event folds from its decoded events.
    private(set) var plain: [Bool] = []
    /// The streams, in the order of their first event.
    private(set) var streams: [String] = []

    /// The events of an append, as it prepared them.
    init(_ batch: WrittenBatch) {
        streams = batch.streams
        streamIndex = batch.streamIndex
        slices = batch.events.enumerated().map { index, event in
            FoldedStream.Slices(instant: event.effective.instant, seq: batch.seqs.lowerBound + UInt64(index), type: event.type,
                                effective: event.effective.text, data: .prepared(event), schemaVersion: event.schemaVersion)
        }
        plain = batch.events.map { !EntityEvent.isFix(type: $0.type) }
    }

    /// The records of `seqs`, read by others (a rebuild catching up with appends): their
    /// envelopes are scanned on all cores for many; the grouping by stream runs here.
    init(_ txn: Transaction, ledger: Ledger, seqs: ClosedRange<UInt64>) throws {
        let records = try WrittenEvents.records(txn, ledger: ledger, seqs: seqs)
        let first = seqs.lowerBound
        let scanned = ZoneProjector.mapInParallel(Array(records.indices), from: 4096) { [records = UnsafeSendable(records)] index in
            WrittenEvents.scan(records.value[index], seq: first + UInt64(index))
        }
        slices.reserveCapacity(scanned.count)
        streamIndex.reserveCapacity(scanned.count)
        plain.reserveCapacity(scanned.count)
        var slots: [String: Int] = [:]
        for (index, event) in scanned.enumerated() {
            let stream: String, slice: FoldedStream.Slices
            if let event {
                (stream, slice) = (event.stream, event.slices)
            } else {
                // Not laid out canonically: decoding says what it holds, or what is wrong. Its
                // stream folds from decoded events, so only its place is kept.
                let decoded = try EventRecord.decode(records[index])
                stream = decoded.stream
                slice = FoldedStream.Slices(instant: EntityEvent.instant(of: decoded), seq: decoded.seq, type: decoded.type,
                                            effective: decoded.effective, data: .record(UnsafeBufferPointer(start: nil, count: 0)),
                                            schemaVersion: decoded.schemaVersion)
            }
            let slot = slots[stream] ?? {
                slots[stream] = streams.count
                streams.append(stream)
                return streams.count - 1
            }()
            streamIndex.append(slot)
            slices.append(slice)
            plain.append(event.map { !$0.isFix } ?? false)
        }
    }

    /// The records of `seqs`, in order, walked on the transaction's thread.
    private static func records(_ txn: Transaction, ledger: Ledger, seqs: ClosedRange<UInt64>) throws -> [UnsafeRawBufferPointer] {
        var records: [UnsafeRawBufferPointer] = []
        records.reserveCapacity(seqs.count)
        try txn.withCursor(ledger.databases.events) { cursor in
            var entry = try cursor.seek(atLeast: seqs.lowerBound)
            for seq in seqs {
                guard let current = entry, UInt64(bigEndianBytes: current.key) == seq else {
                    throw LedgerError(.storage, "seq \(seq) is missing from the log; run 'civic-ledger verify'")
                }
                records.append(current.value)
                entry = try cursor.next()
            }
        }
        return records
    }

    private struct Scanned {
        var slices: FoldedStream.Slices
        var stream: String
        var isFix: Bool
    }

    private static func scan(_ record: UnsafeRawBufferPointer, seq: UInt64) -> Scanned? {
        guard let header = EventRecord.scanCanonical(record, chainFields: false), header.seq == seq else { return nil }
        let effective = header.effective
        return Scanned(slices: FoldedStream.Slices(instant: EffectiveTime(effective)?.instant ?? 0, seq: seq,
                                                   type: String(decoding: header.typeBytes, as: UTF8.self),
                                                   effective: effective, data: .record(header.dataBytes), schemaVersion: header.schemaVersion),
                       stream: header.stream, isFix: FoldedStream.isFix(header.typeBytes))
    }

    /// The timeline's entries for these events, sorted. It reads only the places (copies),
    /// so it may run while the transaction goes on.
    var timelineEntries: TimelineEntries {
        var entries = TimelineEntries(capacity: slices.count)
        // Only the places: a whole slice copied retains its event, which the fold on the
        // other core retains too.
        for index in slices.indices {
            entries.add(instant: slices[index].instant, seq: slices[index].seq, stream: streams[streamIndex[index]])
        }
        entries.sortNewEntries()
        return entries
    }
}
