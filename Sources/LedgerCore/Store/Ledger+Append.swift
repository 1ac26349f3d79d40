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
        guard !options.readOnly else { throw LedgerError(.readOnly, "the ledger is open read-only; appending needs write access") }
        guard !events.isEmpty else { return [] }
        // Grow the map up front for a big batch, so it does not fill halfway and start over.
        let estimate = events.reduce(0) { $0 + $1.content.count + $1.tail.count + 200 } * 3 + 64 << 10
        try storage("cannot grow the ledger's map") { try environment.reserve(bytes: estimate) }
        return try storage("cannot append") {
            try environment.write { txn in try appendInTransaction(txn, events) }
        }
    }

    private func appendInTransaction(_ txn: Transaction, _ events: [PreparedEvent]) throws -> [AppendOutcome] {
        let db = databases
        var head = try readHead(txn)
        // Recorded times never go back along seq, whatever the clock does.
        let recorded = max(RecordedTime.now(), head.recorded)
        let recordedText = Array(recorded.description.utf8)

        // The batch's ids, sorted: an id on more than one line (a retried line, or a conflict)
        // shows up here, and the id index gets its entries in key order at the end.
        var ids = IndexEntries(capacity: events.count)
        for (index, event) in events.enumerated() {
            var id = event.id
            id.withUTF8 { ids.add(UnsafeRawBufferPointer($0), value: UInt64(index)) }
        }
        ids.sort()
        var repeated = Set<String>()
        ids.forEachRepeatedKey { repeated.insert(String(decoding: $0, as: UTF8.self)) }
        var claimed: [String: UInt64] = [:]  // a repeated id → the seq its first line got
        var seqs = [UInt64](repeating: 0, count: events.count)  // by line of the batch; 0 for one not written
        var streamEntries = IndexEntries(capacity: events.count)

        var outcomes: [AppendOutcome] = []
        outcomes.reserveCapacity(events.count)
        var appended: [Event] = []
        if !projectors.isEmpty { appended.reserveCapacity(events.count) }
        let recordedString = recorded.description
        var versions: [String: UInt64] = [:]  // stream → its version after this batch's events
        var record: [UInt8] = []
        record.reserveCapacity(1024)
        var streamKey: [UInt8] = []

        for (index, event) in events.enumerated() {
            let seq = head.seq + 1
            var id = event.id
            // An id taken earlier (or by an earlier line of this batch) makes the event a retry
            // or a conflict.
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
                    Array(id.utf8).withUnsafeBytes { ids.firstValue(of: $0) }.map { seqs[Int($0)] }.flatMap { $0 == 0 ? nil : $0 }
                }
            }
            let stream = event.stream
            // One lookup for a stream the batch has seen (its slot is updated in place below).
            let slot = versions.index(forKey: stream)
            let current = try slot.map { versions.values[$0] } ?? Array(stream.utf8).withUnsafeBytes { key in
                try txn.get(db.streams, key: key).flatMap(UInt64.init(bigEndianBytes:)) ?? 0
            }
            if let expected = event.expectedVersion, expected != current {
                throw LedgerError(.conflict, "stream '\(stream)' is at version \(current), but version \(expected) was expected", line: event.line)
            }
            let version = current + 1

            event.assemble(prev: head.hash, recorded: recordedText, seq: seq, version: version, into: &record)
            let hash = record.withUnsafeBytes { ChainHash.of($0) }
            try putRecord(txn, seq: seq, hash: hash, body: record)
            Ledger.streamEventKey(stream, version, into: &streamKey)
            streamKey.withUnsafeBytes { streamEntries.add($0, value: seq) }
            seqs[index] = seq
            if let slot { versions.values[slot] = version } else { versions[stream] = version }
            if !projectors.isEmpty {
                appended.append(event.event(seq: seq, version: version, recorded: recordedString, prev: head.hash, hash: hash))
            }
            head = Head(seq: seq, hash: hash, recorded: recorded)
            outcomes.append(AppendOutcome(status: .appended, seq: seq, id: event.id, stream: stream,
                                          version: version, hash: hash, line: event.line))
        }
        try ids.put(into: db.ids, txn, options: .noOverwrite) { seqs[Int($0)] == 0 ? nil : seqs[Int($0)] }
        try putStreamEntries(txn, &streamEntries)
        try putStreamVersions(txn, versions)
        // Projections change in the same transaction as the log, so they are never behind it.
        for projector in projectors where !appended.isEmpty { try projector.apply(appended, in: txn, ledger: self) }
        return outcomes
    }

    /// Writes one event's record: hash ‖ body, under its seq.
    func putRecord(_ txn: Transaction, seq: UInt64, hash: ChainHash, body: [UInt8]) throws {
        try seq.withBigEndianBytes { key in
            try txn.put(databases.events, key: key, reserving: EventRecord.hashSize + body.count, options: .append) { value in
                withUnsafeBytes(of: hash.bytes) { value.copyMemory(from: $0) }
                body.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: value[EventRecord.hashSize...]).copyMemory(from: $0) }
            }
        }
    }

    /// Puts a batch's stream-index entries (stream ‖ 0x00 ‖ version → seq), in key order.
    func putStreamEntries(_ txn: Transaction, _ entries: inout IndexEntries) throws {
        entries.sort()
        try entries.put(into: databases.streamEvents, txn)
    }

    /// Records each stream's version after a batch.
    func putStreamVersions(_ txn: Transaction, _ versions: [String: UInt64]) throws {
        for (stream, version) in versions {
            var stream = stream
            try stream.withUTF8 { key in
                try version.withBigEndianBytes { try txn.put(databases.streams, key: UnsafeRawBufferPointer(key), value: $0) }
            }
        }
    }

    /// A correction or retraction must refer to an original event (not another correction)
    /// that the ledger holds, in the same stream; a correction's replacement data must be
    /// valid for that event's type and schema version. These depend on what is stored, so
    /// they are checked here, in the transaction.
    /// `inBatch` finds an id among the events this transaction has written so far.
    private func checkCorrection(_ txn: Transaction, _ event: PreparedEvent, _ reference: EventReference, seq: UInt64,
                                 inBatch: (String) -> UInt64?) throws {
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
        key.removeAll(keepingCapacity: true)
        key.append(contentsOf: stream.utf8)
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
