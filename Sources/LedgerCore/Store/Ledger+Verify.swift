import LMDB

/// The outcome of `verify`: how far it got and the first thing found wrong, if any.
public struct VerificationReport: Sendable {
    /// Events checked.
    public var events: Int
    public var headSeq: UInt64
    public var headHash: ChainHash
    /// The first problem found, nil when the ledger is intact.
    public var problem: Problem?

    public struct Problem: Sendable, Error, CustomStringConvertible {
        /// The first bad seq, when the problem belongs to one.
        public var seq: UInt64?
        public var message: String

        public var description: String {
            seq.map { "seq \($0): \(message)" } ?? message
        }
    }

    public var isIntact: Bool { problem == nil }
}

/// A head a ledger must still extend: the event at `seq` must have hash `hash`.
public struct ExpectedHead: Sendable, Equatable {
    public var seq: UInt64
    public var hash: ChainHash

    public init(seq: UInt64, hash: ChainHash) {
        self.seq = seq
        self.hash = hash
    }

    /// Parses `SEQ:HASH`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let seq = UInt64(parts[0]), seq > 0, let hash = ChainHash(hex: parts[1]) else { return nil }
        self.init(seq: seq, hash: hash)
    }
}

extension Ledger {
    /// Recomputes the hash chain from the stored records and checks every index against them,
    /// in one read transaction (a consistent snapshot). Returns at the first problem.
    public func verify(expecting expectedHead: ExpectedHead? = nil) throws(LedgerError) -> VerificationReport {
        try storage("cannot verify") {
            try environment.read { txn in try verify(txn, expectedHead: expectedHead) }
        }
    }

    private func verify(_ txn: Transaction, expectedHead: ExpectedHead?) throws -> VerificationReport {
        let db = databases
        var report = VerificationReport(events: 0, headSeq: 0, headHash: .genesis)
        func fail(_ seq: UInt64?, _ message: String) -> VerificationReport {
            var failed = report
            failed.problem = .init(seq: seq, message: message)
            return failed
        }

        var streamVersions: [String: UInt64] = [:]
        var previousRecorded = ""
        var key: [UInt8] = []
        let problem: VerificationReport.Problem? = try txn.withCursor(db.events) { cursor in
            var entry = try cursor.first()
            while let current = entry {
                let expected = report.headSeq + 1
                guard let seq = UInt64(bigEndianBytes: current.key), current.key.count == 8 else {
                    return .init(seq: expected, message: "an event key is not an 8-byte seq")
                }
                guard seq == expected else {
                    return .init(seq: expected, message: seq > expected
                        ? "event missing: the next stored event is seq \(seq)"
                        : "event keys are out of order")
                }
                let event: Event
                do throws(LedgerError) { event = try EventRecord.decode(current.value) } catch {
                    return .init(seq: seq, message: error.message)
                }
                let body = UnsafeRawBufferPointer(rebasing: current.value[EventRecord.hashSize...])
                guard ChainHash.of(body) == event.hash else {
                    return .init(seq: seq, message: "stored hash does not match the record's bytes (the record was altered)")
                }
                guard event.seq == seq else {
                    return .init(seq: seq, message: "the record stored here is seq \(event.seq) (events moved or swapped)")
                }
                guard event.prev == report.headHash else {
                    return .init(seq: seq, message: "prev does not match the hash of seq \(seq - 1) (the chain is broken)")
                }
                guard RecordedTime(event.recorded) != nil, event.recorded >= previousRecorded else {
                    return .init(seq: seq, message: "recorded time '\(event.recorded)' is malformed or earlier than the event before")
                }
                let version = (streamVersions[event.stream] ?? 0) + 1
                guard event.version == version else {
                    return .init(seq: seq, message: "version \(event.version) in stream '\(event.stream)', expected \(version)")
                }
                // Each event's index entries must point back at it.
                let idSeq = try Array(event.id.utf8).withUnsafeBytes { try txn.get(db.ids, key: $0) }.flatMap(UInt64.init(bigEndianBytes:))
                guard idSeq == seq else {
                    return .init(seq: seq, message: "the id index maps '\(event.id)' to \(idSeq.map { "seq \($0)" } ?? "nothing")")
                }
                Ledger.streamEventKey(event.stream, version, into: &key)
                let streamSeq = try key.withUnsafeBytes { try txn.get(db.streamEvents, key: $0) }.flatMap(UInt64.init(bigEndianBytes:))
                guard streamSeq == seq else {
                    return .init(seq: seq, message: "the stream index maps '\(event.stream)' v\(version) to \(streamSeq.map { "seq \($0)" } ?? "nothing")")
                }
                streamVersions[event.stream] = version
                previousRecorded = event.recorded
                report.headSeq = seq
                report.headHash = event.hash
                report.events += 1
                if let expectedHead, expectedHead.seq == seq, expectedHead.hash != event.hash {
                    return .init(seq: seq, message: "hash \(event.hash.hex) differs from the expected head \(expectedHead.hash.hex): the ledger no longer extends it")
                }
                entry = try cursor.next()
            }
            return nil
        }
        if let problem { return fail(problem.seq, problem.message) }
        if let expectedHead, expectedHead.seq > report.headSeq {
            return fail(nil, "the ledger ends at seq \(report.headSeq), before the expected head seq \(expectedHead.seq) (truncated)")
        }
        // Every event's entries were found; extra entries would show as surplus counts.
        if let extra = try surplusEntry(txn, db.ids, expected: report.events,
                                        describe: { "id '\(String(decoding: $0, as: UTF8.self))'" },
                                        matches: { key, event in key.elementsEqual(event.id.utf8) }) {
            return fail(nil, "the id index has an entry that points to the wrong event: \(extra)")
        }
        if let extra = try surplusEntry(txn, db.streamEvents, expected: report.events, describe: { key in
            "'\(String(decoding: key.prefix(max(0, key.count - 9)), as: UTF8.self))' v\(UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: key.suffix(8))) ?? 0)"
        }, matches: { key, event in
            var expected: [UInt8] = []
            Ledger.streamEventKey(event.stream, event.version, into: &expected)
            return key.elementsEqual(expected)
        }) {
            return fail(nil, "the stream index has an entry that points to the wrong event: \(extra)")
        }
        let streamProblem: String? = try txn.withCursor(db.streams) { cursor in
            var count = 0
            var entry = try cursor.first()
            while let current = entry {
                let stream = String(decoding: current.key, as: UTF8.self)
                let stored = UInt64(bigEndianBytes: current.value)
                guard stored == streamVersions[stream] else {
                    return "the stream table says '\(stream)' is at version \(stored.map(String.init) ?? "?"), its events say \(streamVersions[stream] ?? 0)"
                }
                count += 1
                entry = try cursor.next()
            }
            return count == streamVersions.count ? nil : "the stream table lists \(count) streams, the events have \(streamVersions.count)"
        }
        if let streamProblem { return fail(nil, streamProblem) }
        return report
    }

    /// When `database` holds more entries than `expected`, one entry that points to a missing
    /// event or to an event it does not belong to (described for the message); nil when the
    /// count is right.
    private func surplusEntry(_ txn: Transaction, _ database: Database, expected: Int,
                              describe: (UnsafeRawBufferPointer) -> String,
                              matches: (UnsafeRawBufferPointer, Event) -> Bool) throws -> String? {
        let count = try txn.statistics(database).entries
        guard count != expected else { return nil }
        return try txn.withCursor(database) { cursor in
            var entry = try cursor.first()
            while let current = entry {
                let seq = UInt64(bigEndianBytes: current.value) ?? 0
                guard let raw = try txn.get(databases.events, key: seq), matches(current.key, try EventRecord.decode(raw)) else {
                    return describe(current.key) + " → seq \(seq)"
                }
                entry = try cursor.next()
            }
            return "\(count) entries for \(expected) events"
        }
    }
}
