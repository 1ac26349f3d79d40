import Dispatch
import LMDB
import LedgerValues

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
            seq.map { "seq \($0): \(MessageText.oneLine(message))" } ?? MessageText.oneLine(message)
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
    /// Recomputes the hash chain from the stored records and checks every index against them.
    ///
    /// The seq range is split into parts checked in parallel, each in its own read
    /// transaction (events are immutable and only appended, so every snapshot agrees on the
    /// events up to the head read first); the parts are then stitched together — chain links,
    /// recorded order and stream versions across their borders — and the index tables counted.
    /// The problem reported is the one with the lowest seq.
    public func verify(expecting expectedHead: ExpectedHead? = nil) throws(LedgerError) -> VerificationReport {
        try verify(expecting: expectedHead, parts: nil)
    }

    /// `parts` overrides how many parts the range is split into (tests use it on small
    /// ledgers); `upTo` stops at that seq, as a verify does that started before later appends.
    func verify(expecting expectedHead: ExpectedHead?, parts requested: Int?, upTo limit: UInt64? = nil) throws(LedgerError) -> VerificationReport {
        try storage("cannot verify") {
            let (count, head) = try environment.read { txn in (try txn.statistics(databases.events).entries, try lastSeq(txn)) }
            let last = min(max(UInt64(count), head), limit ?? .max)
            guard last > 0 else {
                // Nothing to check but an expected head, which an empty ledger cannot hold.
                var empty = VerificationReport(events: 0, headSeq: 0, headHash: .genesis)
                if let expectedHead {
                    empty.problem = .init(seq: nil, message: "the ledger is empty, before the expected head seq \(expectedHead.seq) (truncated)")
                }
                return empty
            }
            let partCount = max(1, requested ?? (last >= 65_536 ? 8 : 1))
            let size = (last + UInt64(partCount) - 1) / UInt64(partCount)
            let ranges = (0..<partCount).map { part in
                (UInt64(part) * size + 1)...min(last, UInt64(part + 1) * size)
            }.filter { !$0.isEmpty }
            // What each event's index keys must be, by seq, for the index scans at the end.
            var fingerprints = [IndexFingerprints](repeating: IndexFingerprints(), count: Int(last))
            var parts = [Result<PartReport, any Error>](repeating: .failure(CancellationError()), count: ranges.count)
            fingerprints.withUnsafeMutableBufferPointer { prints in
                parts.withUnsafeMutableBufferPointer { slots in
                    let slots = UnsafeSendable(slots), prints = UnsafeSendable(prints)
                    DispatchQueue.concurrentPerform(iterations: ranges.count) { index in
                        slots.value[index] = Result {
                            try environment.read { txn in try verifyPart(txn, ranges[index], fingerprints: prints.value) }
                        }
                    }
                }
            }
            let report = try stitch(try parts.map { try $0.get() }, expectedHead: expectedHead)
            guard report.isIntact else { return report }
            return try checkIndexes(report, fingerprints)
        }
    }

    private func lastSeq(_ txn: Transaction) throws -> UInt64 {
        try txn.withCursor(databases.events) { cursor in try cursor.last().flatMap { UInt64(bigEndianBytes: $0.key) } ?? 0 }
    }

    /// What one part of the seq range found.
    private struct PartReport {
        var range: ClosedRange<UInt64>
        var events = 0
        var problem: VerificationReport.Problem?
        /// The `prev` of the part's first event, to stitch to the part before.
        var firstPrev = ChainHash.genesis
        var lastHash = ChainHash.genesis
        var firstRecorded = SIMD32<UInt8>()
        var lastRecorded = SIMD32<UInt8>()
        /// Per stream: the first and last version seen in this part (checked contiguous within).
        var streams: [String: (first: UInt64, last: UInt64, firstSeq: UInt64)] = [:]
    }

    private func verifyPart(_ txn: Transaction, _ range: ClosedRange<UInt64>,
                            fingerprints: UnsafeMutableBufferPointer<IndexFingerprints>) throws -> PartReport {
        let db = databases
        var part = PartReport(range: range)
        var key: [UInt8] = []
        var previousHash: ChainHash?
        part.problem = try txn.withCursor(db.events) { cursor -> VerificationReport.Problem? in
            var entry = try cursor.seek(atLeast: range.lowerBound)
            var expected = range.lowerBound
            while expected <= range.upperBound {
                guard let current = entry else {
                    return .init(seq: expected, message: "event missing: the ledger ends at seq \(expected - 1)")
                }
                guard current.key.count == 8, let seq = UInt64(bigEndianBytes: current.key) else {
                    return .init(seq: expected, message: "an event key is not an 8-byte seq")
                }
                guard seq == expected else {
                    return .init(seq: expected, message: "event missing: the next stored event is seq \(seq)")
                }
                // Canonical records are read by the fast scanner; anything else by the
                // general reader, which also says what is wrong with it.
                var header: EventRecord.ScannedHeader
                if let scanned = EventRecord.scanCanonical(current.value) {
                    header = scanned
                } else {
                    let general: EventRecord.Header
                    do throws(LedgerError) { general = try EventRecord.header(current.value) } catch {
                        return .init(seq: seq, message: error.message)
                    }
                    guard RecordedTime(general.recorded) != nil else {
                        return .init(seq: seq, message: "recorded time '\(general.recorded)' is malformed")
                    }
                    header = EventRecord.ScannedHeader(seq: general.seq, version: general.version, id: general.id,
                                                       stream: general.stream, effective: "", prev: general.prev,
                                                       recorded: Ledger.recordedBytes(general.recorded))
                }
                let hash = ChainHash(raw: current.value)
                guard ChainHash.of(UnsafeRawBufferPointer(rebasing: current.value[EventRecord.hashSize...])) == hash else {
                    return .init(seq: seq, message: "stored hash does not match the record's bytes (the record was altered)")
                }
                guard header.seq == seq else {
                    return .init(seq: seq, message: "the record stored here is seq \(header.seq) (events moved or swapped)")
                }
                if let previousHash, header.prev != previousHash {
                    return .init(seq: seq, message: "prev does not match the hash of seq \(seq - 1) (the chain is broken)")
                }
                guard !Ledger.recordedBefore(header.recorded, part.lastRecorded) else {
                    return .init(seq: seq, message: "recorded time '\(Ledger.recordedText(header.recorded))' is earlier than the event before")
                }
                if let known = part.streams[header.stream] {
                    guard header.version == known.last + 1 else {
                        return .init(seq: seq, message: "version \(header.version) in stream '\(header.stream)', expected \(known.last + 1)")
                    }
                    part.streams[header.stream]!.last = header.version
                } else {
                    part.streams[header.stream] = (header.version, header.version, seq)
                }
                // The keys this event's index entries must have, checked by the index scans.
                var id = header.id
                Ledger.streamEventKey(header.stream, header.version, into: &key)
                fingerprints[Int(seq - 1)] = IndexFingerprints(
                    id: id.withUTF8 { IndexFingerprints.of(UnsafeRawBufferPointer($0)) },
                    streamEvent: key.withUnsafeBytes(IndexFingerprints.of))
                if previousHash == nil {
                    part.firstPrev = header.prev
                    part.firstRecorded = header.recorded
                }
                previousHash = hash
                part.lastHash = hash
                part.lastRecorded = header.recorded
                part.events += 1
                expected += 1
                entry = try cursor.next()
            }
            return nil
        }
        return part
    }

    /// Joins the parts in seq order, then checks what no single part can see.
    private func stitch(_ parts: [PartReport], expectedHead: ExpectedHead?) throws -> VerificationReport {
        var report = VerificationReport(events: 0, headSeq: 0, headHash: .genesis)
        func fail(_ seq: UInt64?, _ message: String) -> VerificationReport {
            var failed = report
            failed.problem = .init(seq: seq, message: message)
            return failed
        }
        var versions: [String: UInt64] = [:]
        var lastRecorded = SIMD32<UInt8>()
        for part in parts {
            // A border problem sits at the part's first seq, before anything inside it.
            let first = part.range.lowerBound
            if part.events > 0 {
                if part.firstPrev != report.headHash {
                    return fail(first, "prev does not match the hash of seq \(first - 1) (the chain is broken)")
                }
                if Ledger.recordedBefore(part.firstRecorded, lastRecorded) {
                    return fail(first, "recorded time '\(Ledger.recordedText(part.firstRecorded))' is earlier than the event before")
                }
            }
            // The earliest stream whose first version here does not continue from before.
            let border = part.streams.filter { $0.value.first != (versions[$0.key] ?? 0) + 1 }.min { $0.value.firstSeq < $1.value.firstSeq }
            if let (stream, seen) = border, part.problem.map({ $0.seq ?? 0 > seen.firstSeq }) ?? true {
                return fail(seen.firstSeq, "version \(seen.first) in stream '\(stream)', expected \((versions[stream] ?? 0) + 1)")
            }
            if let problem = part.problem {
                report.events += part.events
                return fail(problem.seq, problem.message)
            }
            for (stream, seen) in part.streams { versions[stream] = seen.last }
            report.events += part.events
            report.headSeq = part.range.upperBound
            report.headHash = part.lastHash
            lastRecorded = part.lastRecorded
        }
        let db = databases
        return try environment.read { txn in
            if let expectedHead {
                guard expectedHead.seq <= report.headSeq else {
                    return fail(nil, "the ledger ends at seq \(report.headSeq), before the expected head seq \(expectedHead.seq) (truncated)")
                }
                let stored = try txn.get(db.events, key: expectedHead.seq).map { ChainHash(raw: $0) }
                if stored != expectedHead.hash {
                    return fail(expectedHead.seq, "hash \(stored?.hex ?? "none") differs from the expected head \(expectedHead.hash.hex): the ledger no longer extends it")
                }
            }
            if let problem = try streamTableProblem(txn, versions, last: report.headSeq) { return fail(nil, problem) }
            return report
        }
    }

    /// A recorded time's fixed-form bytes, zero-padded to 32.
    static func recordedBytes(_ text: String) -> SIMD32<UInt8> {
        var value = SIMD32<UInt8>()
        for (i, byte) in text.utf8.prefix(32).enumerated() { value[i] = byte }
        return value
    }

    static func recordedText(_ bytes: SIMD32<UInt8>) -> String {
        String(decoding: (0..<32).map { bytes[$0] }.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Byte order of the fixed form, which is time order.
    static func recordedBefore(_ a: SIMD32<UInt8>, _ b: SIMD32<UInt8>) -> Bool {
        for i in 0..<32 where a[i] != b[i] { return a[i] < b[i] }
        return false
    }

    /// The stream table must list exactly the streams of the events, each at its last version;
    /// versions and streams appended after the events were read are recognised by their
    /// stream-index entry pointing past `last`.
    private func streamTableProblem(_ txn: Transaction, _ versions: [String: UInt64], last: UInt64) throws -> String? {
        func appendedLater(_ stream: String, version: UInt64) throws -> Bool {
            var key: [UInt8] = []
            Ledger.streamEventKey(stream, version, into: &key)
            let seq = try key.withUnsafeBytes { try txn.get(databases.streamEvents, key: $0) }.flatMap(UInt64.init(bigEndianBytes:))
            return seq.map { $0 > last } ?? false
        }
        return try txn.withCursor(databases.streams) { cursor in
            var matched = 0
            var entry = try cursor.first()
            while let current = entry {
                let stream = String(decoding: current.key, as: UTF8.self)
                let stored = UInt64(bigEndianBytes: current.value) ?? 0
                let known = versions[stream] ?? 0
                let later = stored > known ? try appendedLater(stream, version: known + 1) : false
                if stored == known || later {
                    if known > 0 { matched += 1 }
                } else {
                    return "the stream table says '\(MessageText.excerpt(current.key))' is at version \(stored), its events say \(known)"
                }
                entry = try cursor.next()
            }
            return matched == versions.count ? nil : "the stream table lists \(matched) of the \(versions.count) streams the events have"
        }
    }

    /// Scans `ids` and `stream-events` in key order (far faster than a lookup per event) and
    /// checks that each holds exactly one entry per event, pointing to the event whose key it
    /// is. Keys are compared through keyed 64-bit fingerprints taken while the events were read.
    private func checkIndexes(_ report: VerificationReport, _ fingerprints: [IndexFingerprints]) throws -> VerificationReport {
        let indexes = [(databases.ids, "id index"), (databases.streamEvents, "stream index")]
        var problems = [Result<VerificationReport.Problem?, any Error>](repeating: .success(nil), count: indexes.count)
        problems.withUnsafeMutableBufferPointer { slots in
            let slots = UnsafeSendable(slots)
            DispatchQueue.concurrentPerform(iterations: indexes.count) { index in
                let (database, name) = indexes[index]
                slots.value[index] = Result { try environment.read { txn in
                    try scanIndex(txn, database, name: name, events: report.headSeq) { seq in
                        index == 0 ? fingerprints[Int(seq - 1)].id : fingerprints[Int(seq - 1)].streamEvent
                    }
                } }
            }
        }
        let found = try problems.compactMap { try $0.get() }.min { ($0.seq ?? 0) < ($1.seq ?? 0) }
        guard let found else { return report }
        var failed = report
        failed.problem = found
        return failed
    }

    private func scanIndex(_ txn: Transaction, _ database: Database, name: String, events: UInt64,
                           expected: (UInt64) -> UInt64) throws -> VerificationReport.Problem? {
        var seen = [Bool](repeating: false, count: Int(events))
        // The whole table is scanned and the problem with the lowest seq kept, so the report
        // does not depend on key order.
        var worst: VerificationReport.Problem?
        func keep(_ problem: VerificationReport.Problem) {
            if worst == nil || (problem.seq ?? 0) < (worst?.seq ?? 0) { worst = problem }
        }
        try txn.withCursor(database) { cursor in
            var entry = try cursor.first()
            while let current = entry {
                let describe = "'\(Ledger.describeIndexKey(current.key, database: database))'"
                if let seq = UInt64(bigEndianBytes: current.value), current.value.count == 8, seq >= 1 {
                    if seq > events {
                        // Appended after the events were read (verify runs beside writers),
                        // unless no such event exists.
                        if try txn.get(databases.events, key: seq) == nil {
                            keep(.init(seq: nil, message: "the \(name) maps \(describe) to seq \(seq), which the ledger does not hold"))
                        }
                    } else if IndexFingerprints.of(current.key) != expected(seq) || seen[Int(seq - 1)] {
                        keep(.init(seq: seq, message: "the \(name) entry \(describe) points to this event, which is not its event"))
                    } else {
                        seen[Int(seq - 1)] = true
                    }
                } else {
                    keep(.init(seq: nil, message: "the \(name) maps \(describe) to a value that is not a seq"))
                }
                entry = try cursor.next()
            }
        }
        if let missing = seen.firstIndex(of: false) {
            keep(.init(seq: UInt64(missing + 1), message: "the \(name) has no entry for this event"))
        }
        return worst
    }

    /// An index key for a message: ids as text, stream keys as `stream vN`.
    static func describeIndexKey(_ key: UnsafeRawBufferPointer, database: Database) -> String {
        guard database.name == "stream-events", key.count >= 9 else { return MessageText.excerpt(key) }
        let version = UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: key.suffix(8))) ?? 0
        return MessageText.excerpt(UnsafeRawBufferPointer(rebasing: key.prefix(key.count - 9))) + " v\(version)"
    }
}

/// Keyed 64-bit fingerprints of the index keys one event must have. The key is Swift's
/// per-process random hashing seed, so a forger cannot aim for a collision.
struct IndexFingerprints {
    var id: UInt64 = 0
    var streamEvent: UInt64 = 0

    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }
}
