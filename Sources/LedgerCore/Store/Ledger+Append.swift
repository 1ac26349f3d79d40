import LMDB
import LedgerSchemas
import LedgerValues

/// What became of one appended event.
public struct AppendOutcome: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Written now.
        case appended
        /// The id was there already with the same content: nothing written (idempotent retry).
        case existing
    }

    public var status: Status
    public var seq: UInt64
    public var id: String
    public var stream: String
    public var version: UInt64
    public var hash: ChainHash
    /// The batch line, when the event came from one.
    public var line: Int?
}

extension Ledger {
    /// Appends drafts in one transaction: all or nothing.
    public func append(_ drafts: [EventDraft]) throws(LedgerError) -> [AppendOutcome] {
        let today = EffectiveTime.today()
        var prepared: [PreparedEvent] = []
        prepared.reserveCapacity(drafts.count)
        for draft in drafts { prepared.append(try PreparedEvent(draft, today: today)) }
        return try append(prepared: prepared)
    }

    /// Appends prepared events in one write transaction: all are written, or none (an error
    /// names the event's line). Events whose client id already holds the same content are
    /// reported as `.existing` and not written again.
    public func append(prepared events: [PreparedEvent]) throws(LedgerError) -> [AppendOutcome] {
        try append(PreparedBatch(events))
    }

    /// Appends a batch in one write transaction, taking each chunk as soon as it is prepared.
    /// All are written, or none. A bad line is reported before a conflict, whichever comes
    /// first, as if the whole batch had been checked before writing.
    public func append(_ batch: PreparedBatch) throws(LedgerError) -> [AppendOutcome] {
        guard !options.readOnly else { throw LedgerError(.readOnly, "the ledger is open read-only; appending needs write access") }
        guard batch.count > 0 else { return [] }
        // Grow the map up front for a big batch, so it does not fill halfway and start over.
        if options.growsMapUpFront {
            try storage("cannot grow the ledger's map") { try environment.reserve(bytes: batch.estimatedBytes * 3 + 64 << 10) }
        }
        // What the file grows by: the records, and their index entries (a quarter more: for a
        // million events, 490 MB estimated and 600 MB written).
        let expectedBytes = batch.estimatedBytes * 5 / 4
        // The append has the batch to itself: no one else waits for a chunk whose memory it
        // hands back.
        return try batch.exclusively { () throws(LedgerError) in
            try storage("cannot append") {
                do {
                    return try environment.write(expectedBytes: expectedBytes) { txn in try appendInTransaction(txn, batch, wholeBatch: nil) }
                } catch {
                    // A bad line anywhere in the batch comes before what the first pass met.
                    if let inputError = batch.firstInputErrorHeld() { throw inputError }
                    // The first pass cannot see that an id comes again later in the batch, so
                    // with such an id its conflict or refusal may be wrong; it cannot look up an
                    // event of the batch by id either. Then the batch is written again, knowing
                    // its ids (the chunks written before the failure are prepared again for
                    // that, on all cores). Both are rare; a storage failure stands as it is.
                    let kind = (error as? LedgerError)?.kind
                    guard error is NeedsWholeBatch || kind == .conflict || kind == .invalidInput else { throw error }
                    let whole = BatchIds(try batch.allEventsHeld())
                    guard error is NeedsWholeBatch || !whole.repeated.isEmpty else { throw error }
                    return try environment.write(expectedBytes: expectedBytes) { txn in try appendInTransaction(txn, batch, wholeBatch: whole) }
                }
            }
        }
    }

    /// Thrown by a first pass over a batch that turns out to need what only the whole batch
    /// tells (an id on more than one line, an id to look up among the batch's own events):
    /// the transaction is thrown away and the batch written again knowing it.
    private struct NeedsWholeBatch: Error {}

    /// The ids of a whole batch, sorted, for the second pass: which ones repeat, and which
    /// line an id is on.
    private struct BatchIds {
        var entries: IndexEntries
        var repeated = Set<String>()

        init(_ events: [PreparedEvent]) {
            entries = IndexEntries(capacity: events.count)
            for (index, event) in events.enumerated() {
                var id = event.id
                id.withUTF8 { entries.add(UnsafeRawBufferPointer($0), value: UInt64(index)) }
            }
            entries.sort()
            entries.forEachRepeatedKey { repeated.insert(String(decoding: $0, as: UTF8.self)) }
        }
    }

    /// Writes the batch's events in order. A first pass (`wholeBatch` nil) takes chunks as they
    /// come and throws `NeedsWholeBatch` if an id turns out to be on two lines or a correction
    /// refers to an event of the batch itself; the second pass knows the batch's ids upfront.
    private func appendInTransaction(_ txn: Transaction, _ batch: PreparedBatch, wholeBatch: BatchIds?) throws -> [AppendOutcome] {
        // Going over the batch again (the map filled): what the last try handed back is
        // prepared again in the background as this one writes.
        batch.prepareReleasedChunks()
        let db = databases
        var head = try readHead(txn)
        // Recorded times never go back along seq, whatever the clock does.
        let recorded = max(RecordedTime.now(), head.recorded)
        let recordedText = Array(recorded.description.utf8)

        // The batch's ids go into the id index in key order at the end. The first pass gathers
        // them as it goes; the second has them sorted already.
        var ids = wholeBatch?.entries ?? IndexEntries(capacity: batch.count)
        let repeated = wholeBatch?.repeated ?? []
        var claimed: [String: UInt64] = [:]  // a repeated id → the seq its first line got
        var seqs = [UInt64](repeating: 0, count: batch.count)  // by line of the batch; 0 for one not written
        var streams = BatchStreams()

        var outcomes: [AppendOutcome] = []
        outcomes.reserveCapacity(batch.count)
        let firstSeq = head.seq + 1
        var written: [PreparedEvent] = []
        if !projectors.isEmpty { written.reserveCapacity(batch.count) }
        var index = -1

        // One cursor appends every record: it stays on the last page, so LMDB does not descend
        // the tree again for each one.
        try txn.withCursor(db.events) { records in
            for chunk in 0..<batch.chunkCount {
                do {
                    let events = try batch.events(inChunk: chunk)
                    for (position, event) in events.enumerated() {
                        index += 1
                        // The next event's stream is most often not in the cache yet.
                        if position + 1 < events.count { streams.prefetch(hash: events[position + 1].streamHash) }
                        let seq = head.seq + 1
                        var id = event.id
                        if wholeBatch == nil { id.withUTF8 { ids.add(UnsafeRawBufferPointer($0), value: UInt64(index)) } }
                        // An id taken earlier (or by an earlier line of this batch) makes the event a
                        // retry or a conflict.
                        let taken = try (repeated.isEmpty ? nil : claimed[event.id])
                            ?? id.withUTF8 { try txn.get(db.ids, key: UnsafeRawBufferPointer($0)) }.flatMap(UInt64.init(bigEndianBytes:))
                        if let taken {
                            guard event.clientId else {
                                throw LedgerError(.conflict, "generated id '\(event.id)' collided with an existing one; retry", line: event.line)
                            }
                            guard let raw = try txn.get(db.events, key: taken) else {
                                throw LedgerError(.storage, "the id index names seq \(taken) for id '\(event.id)', which does not exist (run verify)")
                            }
                            let stored = try EventRecord.decode(raw)
                            guard event.sameContent(as: stored) else {
                                throw LedgerError(.conflict, "id '\(event.id)' is already used by seq \(taken) with different content", line: event.line)
                            }
                            outcomes.append(AppendOutcome(status: .existing, seq: stored.seq, id: stored.id, stream: stored.stream,
                                                          version: stored.version, hash: stored.hash, line: event.line))
                            continue
                        }
                        if !repeated.isEmpty, repeated.contains(event.id) { claimed[event.id] = seq }

                        if let reference = event.reference {
                            try checkCorrection(txn, event, reference, seq: seq) { id in
                                // An event earlier in this batch is not in the id index yet.
                                guard wholeBatch != nil else { throw NeedsWholeBatch() }
                                return Array(id.utf8).withUnsafeBytes { ids.firstValue(of: $0) }.map { seqs[Int($0)] }.flatMap { $0 == 0 ? nil : $0 }
                            }
                        }
                        let stream = event.stream
                        let position = try streams.position(of: stream, hash: event.streamHash) { try storedVersion(txn, stream) }
                        if let expected = event.expectedVersion, expected != position.version {
                            throw LedgerError(.conflict, "stream '\(stream)' is at version \(position.version), but version \(expected) was expected", line: event.line)
                        }
                        let version = position.version + 1

                        let hash = try putRecord(&records, event, prev: head.hash, recorded: recordedText, seq: seq, version: version)
                        streams.append(seq, at: position)
                        seqs[index] = seq
                        if !projectors.isEmpty { written.append(event) }
                        head = Head(seq: seq, hash: hash, recorded: recorded)
                        outcomes.append(AppendOutcome(status: .appended, seq: seq, id: event.id, stream: stream,
                                                      version: version, hash: hash, line: event.line))
                    }
                }
                // Its memory can take a later chunk's events (the array above is out of scope,
                // so the chunk's is its own). The projectors keep the events they are given, and
                // a second pass keeps the chunks it has prepared again.
                if wholeBatch == nil, projectors.isEmpty { batch.release(chunk: chunk) }
            }
        }
        if wholeBatch == nil {
            ids.sort()
            var repeats = false
            ids.forEachRepeatedKey { _ in repeats = true }
            if repeats { throw NeedsWholeBatch() }
        }
        try ids.put(into: db.ids, txn, options: .noOverwrite) { seqs[Int($0)] == 0 ? nil : seqs[Int($0)] }
        try streams.put(txn, streams: db.streams, streamEvents: db.streamEvents)
        // Projections change in the same transaction as the log, so they are never behind it.
        if !written.isEmpty {
            let (streamNames, streamIndex) = streams.written
            let batch = WrittenBatch(seqs: firstSeq...head.seq, events: written, streams: streamNames, streamIndex: streamIndex)
            for projector in projectors { try projector.apply(batch, in: txn, ledger: self) }
        }
        return outcomes
    }

    /// Writes `event`'s record under `seq`: its body assembled in the place LMDB reserves for
    /// it and hashed there, the hash in front. Returns the hash.
    /// `records` is a cursor on the events table.
    func putRecord(_ records: inout Cursor, _ event: PreparedEvent, prev: ChainHash, recorded: [UInt8], seq: UInt64,
                   version: UInt64) throws -> ChainHash {
        let bodySize = event.bodySize(recorded: recorded.count, seq: seq, version: version)
        var hash = ChainHash.genesis
        try seq.withBigEndianBytes { key in
            try records.put(key: key, reserving: EventRecord.hashSize + bodySize, options: .append) { value in
                let body = UnsafeMutableRawBufferPointer(rebasing: value[EventRecord.hashSize...])
                event.assemble(prev: prev, recorded: recorded, seq: seq, version: version, into: body)
                hash = ChainHash.of(UnsafeRawBufferPointer(body))
                withUnsafeBytes(of: hash.bytes) { value.copyMemory(from: $0) }
            }
        }
        return hash
    }

    /// A stream's version as stored (0 for a stream the ledger does not hold).
    func storedVersion(_ txn: Transaction, _ stream: String) throws -> UInt64 {
        var stream = stream
        return try stream.withUTF8 { key in
            try txn.get(databases.streams, key: UnsafeRawBufferPointer(key)).flatMap(UInt64.init(bigEndianBytes:)) ?? 0
        }
    }

    /// A correction or retraction must refer to an original event (not another correction)
    /// that the ledger holds, in the same stream; a correction's replacement data must be
    /// valid for that event's type and schema version. These depend on what is stored, so
    /// they are checked here, in the transaction.
    /// `inBatch` finds an id among the events this transaction has written so far.
    private func checkCorrection(_ txn: Transaction, _ event: PreparedEvent, _ reference: EventReference, seq: UInt64,
                                 inBatch: (String) throws -> UInt64?) throws {
        let targetSeq: UInt64?
        switch reference {
        case .seq(let number): targetSeq = number
        case .id(let id):
            targetSeq = try Array(id.utf8).withUnsafeBytes { try txn.get(databases.ids, key: $0) }.flatMap(UInt64.init(bigEndianBytes:)) ?? inBatch(id)
        }
        guard let targetSeq, targetSeq < seq, let raw = try txn.get(databases.events, key: targetSeq) else {
            throw LedgerError(.invalidInput, "\(event.type) refers to \(reference), which the ledger does not hold", line: event.line)
        }
        let target = try EventRecord.decode(raw)
        guard target.type != EventReference.correctionType, target.type != EventReference.retractionType else {
            throw LedgerError(.invalidInput, "\(event.type) refers to \(reference), a \(target.type): correct or retract the original event instead", line: event.line)
        }
        guard target.stream == event.stream else {
            throw LedgerError(.invalidInput, "\(event.type) refers to \(reference) of stream '\(target.stream)'; append it to that stream", line: event.line)
        }
        if let replacement = event.replacementData,
           let failure = EventCatalog.shared.schema(type: target.type, version: target.schemaVersion)?.validate(.object(replacement), limit: 1).first {
            throw LedgerError(.invalidInput, "data/data\(MessageText.quote(failure.instancePath, limit: 200)): \(failure.message) (\(failure.keyword)), as \(target.type) v\(target.schemaVersion) requires", line: event.line)
        }
    }

    /// The key of the stream-events index: stream ‖ 0x00 ‖ version (big-endian).
    package static func streamEventKey(_ stream: String, _ version: UInt64, into key: inout [UInt8]) {
        streamEventKey(utf8: stream.utf8, version, into: &key)
    }

    /// The same, for a stream name given as its UTF-8 bytes.
    package static func streamEventKey(utf8 stream: some Sequence<UInt8>, _ version: UInt64, into key: inout [UInt8]) {
        key.removeAll(keepingCapacity: true)
        key.append(contentsOf: stream)
        key.append(0)
        withUnsafeBytes(of: version.bigEndian) { key.append(contentsOf: $0) }
    }

    /// The last event's seq, hash and recorded time (zeros and the genesis hash when empty).
    package struct Head {
        package var seq: UInt64
        package var hash: ChainHash
        package var recorded: RecordedTime
    }

    package func readHead(_ txn: Transaction) throws -> Head {
        try txn.withCursor(databases.events) { cursor in
            guard let last = try cursor.last() else {
                return Head(seq: 0, hash: .genesis, recorded: RecordedTime(microseconds: 0))
            }
            let event = try EventRecord.decode(last.value)
            guard let recorded = RecordedTime(event.recorded) else {
                throw EventRecord.damaged("seq \(event.seq) has an unreadable recorded time '\(event.recorded)'")
            }
            return Head(seq: event.seq, hash: event.hash, recorded: recorded)
        }
    }
}
