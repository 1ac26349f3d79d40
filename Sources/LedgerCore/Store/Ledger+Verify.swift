import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
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
            let ranges = Ledger.verifyParts(last: last, requested: requested)
            let indexes = [(databases.ids, "id index"), (databases.streamEvents, "stream index")]
            let (parts, scanResults) = try checkInParallel(ranges, indexes: indexes, last: last, fingerprints: nil)
            var report = try stitch(parts, expectedHead: expectedHead)
            // The chain's problems come first; an index that could not be read only matters
            // (and fails the whole verify) when the chain is intact.
            guard report.isIntact else { return report }
            let scans = try scanResults.map { try $0.get() }
            // Each index must hold exactly the entries the events give it: compared first as
            // order-free digests, which needs no memory per event.
            let expected = parts.reduce(into: (id: IndexDigest(), streamEvent: IndexDigest())) {
                $0.id.merge($1.idDigest)
                $0.streamEvent.merge($1.streamDigest)
            }
            if scans.allSatisfy({ $0.problem == nil }), scans[0].digest == expected.id, scans[1].digest == expected.streamEvent {
                return report
            }
            // An index differs: read it all again, keeping each event's keys by seq, to name
            // the first event at fault (only a damaged ledger pays for this).
            var fingerprints = [IndexFingerprints](repeating: IndexFingerprints(), count: Int(last))
            let exact = try fingerprints.withUnsafeMutableBufferPointer { prints in
                try checkInParallel(ranges, indexes: indexes, last: last, fingerprints: prints).scans.map { try $0.get() }
            }
            let id = try indexProblem(exact[0], indexes[0].0, name: indexes[0].1) { fingerprints[Int($0 - 1)].id }
            let streamEvent = try indexProblem(exact[1], indexes[1].0, name: indexes[1].1) { fingerprints[Int($0 - 1)].streamEvent }
            report.problem = [id, streamEvent].compactMap { $0 }.min { ($0.seq ?? 0) < ($1.seq ?? 0) }
                ?? .init(seq: nil, message: "an index changed while it was verified; run verify again")
            return report
        }
    }

    /// Checks the parts of the seq range and scans the indexes, all at once. With
    /// `fingerprints` (a second pass, over a chain already checked), the parts note each
    /// event's index keys by seq without hashing the records again, and the scans each entry's
    /// key by seq, for `indexProblem`.
    private func checkInParallel(_ ranges: [ClosedRange<UInt64>], indexes: [(Database, String)], last: UInt64,
                                 fingerprints: UnsafeMutableBufferPointer<IndexFingerprints>?)
        throws -> (parts: [PartReport], scans: [Result<IndexScan, any Error>]) {
        var parts = [Result<PartReport, any Error>](repeating: .failure(CancellationError()), count: ranges.count)
        var scans = [Result<IndexScan, any Error>](repeating: .failure(CancellationError()), count: indexes.count)
        parts.withUnsafeMutableBufferPointer { partSlots in
            scans.withUnsafeMutableBufferPointer { scanSlots in
                let partSlots = UnsafeSendable(partSlots), scanSlots = UnsafeSendable(scanSlots), prints = UnsafeSendable(fingerprints)
                // The index scans first: they are the longest tasks.
                DispatchQueue.concurrentPerform(iterations: indexes.count + ranges.count) { task in
                    if task < indexes.count {
                        scanSlots.value[task] = Result {
                            try environment.read { txn in
                                try readIndex(txn, indexes[task].0, name: indexes[task].1, events: last, exact: prints.value != nil)
                            }
                        }
                    } else {
                        partSlots.value[task - indexes.count] = Result {
                            try environment.read { txn in try verifyPart(txn, ranges[task - indexes.count], fingerprints: prints.value) }
                        }
                    }
                }
            }
        }
        return (try parts.map { try $0.get() }, scans)
    }

    /// Splits 1...last into the parts checked in parallel. The parts shrink towards the end
    /// (each of the sizes 6, 5, …, 1 once per core: 6:6:5:5:…:1:1 on two cores), so the last
    /// ones to start are short and no core idles long while another finishes a big part; equal
    /// parts would leave a core idle for up to a whole part. `requested` gives that many parts
    /// of ⌈last / requested⌉ events, the last one shorter (tests place borders with it).
    static func verifyParts(last: UInt64, requested: Int?, cores: Int = Ledger.cores) -> [ClosedRange<UInt64>] {
        if let requested {
            let size = (last + UInt64(max(1, requested)) - 1) / UInt64(max(1, requested))
            return stride(from: 1, through: last, by: Int(max(1, size))).map { $0...min(last, $0 + size - 1) }
        }
        guard last >= 65_536 else { return [1...last] }
        let weights = (1...6).reversed().flatMap { repeatElement(UInt64($0), count: cores) }
        let total = weights.reduce(0, +)
        var ranges: [ClosedRange<UInt64>] = []
        var start: UInt64 = 1, weightSoFar: UInt64 = 0
        for weight in weights {
            weightSoFar += weight
            // last × weightSoFar / total without overflow, whatever seq a damaged key claims.
            let end = total.dividingFullWidth(last.multipliedFullWidth(by: weightSoFar)).quotient
            if end >= start { ranges.append(start...end) }
            start = end + 1
        }
        return ranges
    }

    /// Cores to spread work over (at most 8: more parts cost more stitching than they save).
    static var cores: Int { min(max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1), 8) }

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
        var streams: [StreamRun] = []
        /// The entries this part's events must have in the id and stream indexes.
        var idDigest = IndexDigest()
        var streamDigest = IndexDigest()
    }

    /// A stream's versions within one part: told apart by the stream's fingerprint, named
    /// for messages.
    fileprivate struct StreamRun {
        var name: [UInt8]
        var print: UInt64
        var first: UInt64
        var last: UInt64
        var firstSeq: UInt64
        var stream: String { String(decoding: name, as: UTF8.self) }
    }

    private func verifyPart(_ txn: Transaction, _ range: ClosedRange<UInt64>,
                            fingerprints: UnsafeMutableBufferPointer<IndexFingerprints>?) throws -> PartReport {
        var scan = PartScan(part: PartReport(range: range), fingerprints: fingerprints)
        let problem = try txn.withCursor(databases.events) { cursor -> VerificationReport.Problem? in
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
                guard current.value.count > EventRecord.hashSize else {
                    return .init(seq: seq, message: EventRecord.damaged("record is \(current.value.count) bytes, too short").message)
                }
                let hash = ChainHash(raw: current.value)
                // A second pass (with fingerprints) reads records the first one hashed.
                guard fingerprints != nil || ChainHash.of(UnsafeRawBufferPointer(rebasing: current.value[EventRecord.hashSize...])) == hash else {
                    return .init(seq: seq, message: "stored hash does not match the record's bytes (the record was altered)")
                }
                // Canonical records are read by the fast scanner; anything else by the
                // general reader, which also says what is wrong with it.
                if let header = EventRecord.scanCanonical(current.value, validRecorded: scan.part.events > 0 ? scan.part.lastRecorded : nil) {
                    if let problem = scan.check(header, seq: seq, hash: hash) { return problem }
                } else {
                    let general: EventRecord.Header
                    do throws(LedgerError) { general = try EventRecord.header(current.value) } catch {
                        return .init(seq: seq, message: error.message)
                    }
                    guard RecordedTime(general.recorded) != nil else {
                        return .init(seq: seq, message: "recorded time '\(general.recorded)' is malformed")
                    }
                    let problem = Array(general.id.utf8).withUnsafeBytes { id in
                        Array(general.stream.utf8).withUnsafeBytes { stream in
                            scan.check(EventRecord.ScannedHeader(seq: general.seq, version: general.version, idBytes: id, streamBytes: stream,
                                                                effectiveBytes: UnsafeRawBufferPointer(start: nil, count: 0),
                                                                typeBytes: UnsafeRawBufferPointer(start: nil, count: 0),
                                                                dataBytes: UnsafeBufferPointer(start: nil, count: 0), schemaVersion: 0, prev: general.prev,
                                                                recorded: Ledger.recordedBytes(general.recorded)),
                                       seq: seq, hash: hash)
                        }
                    }
                    if let problem { return problem }
                }
                expected += 1
                entry = try cursor.next()
            }
            return nil
        }
        return scan.finish(problem)
    }

    /// One part's running checks, event by event along seq.
    private struct PartScan {
        var part: PartReport
        let fingerprints: UnsafeMutableBufferPointer<IndexFingerprints>?
        var previousHash: ChainHash?
        var streams = StreamRuns()

        /// Checks one event against the one before and notes the keys its index entries must have.
        mutating func check(_ header: EventRecord.ScannedHeader, seq: UInt64, hash: ChainHash) -> VerificationReport.Problem? {
            guard header.seq == seq else {
                return .init(seq: seq, message: "the record stored here is seq \(header.seq) (events moved or swapped)")
            }
            if let previousHash, header.prev != previousHash {
                return .init(seq: seq, message: "prev does not match the hash of seq \(seq - 1) (the chain is broken)")
            }
            guard !Ledger.recordedBefore(header.recorded, part.lastRecorded) else {
                return .init(seq: seq, message: "recorded time '\(Ledger.recordedText(header.recorded))' is earlier than the event before")
            }
            let streamPrint = IndexFingerprints.of(header.streamBytes)
            if let expected = streams.note(header.streamBytes, print: streamPrint, version: header.version, seq: seq) {
                return .init(seq: seq, message: "version \(header.version) in stream '\(header.stream)', expected \(expected)")
            }
            // The keys this event's index entries must have, checked by the index scans.
            let prints = IndexFingerprints(id: IndexFingerprints.of(header.idBytes),
                                           streamEvent: IndexFingerprints.ofStreamEvent(stream: streamPrint, version: header.version))
            part.idDigest.add(prints.id, seq: seq)
            part.streamDigest.add(prints.streamEvent, seq: seq)
            fingerprints?[Int(seq - 1)] = prints
            if previousHash == nil {
                part.firstPrev = header.prev
                part.firstRecorded = header.recorded
            }
            previousHash = hash
            part.lastHash = hash
            part.lastRecorded = header.recorded
            part.events += 1
            return nil
        }

        consuming func finish(_ problem: VerificationReport.Problem?) -> PartReport {
            part.problem = problem
            part.streams = streams.runs
            return part
        }
    }

    /// Joins the parts in seq order, then checks what no single part can see.
    private func stitch(_ parts: [PartReport], expectedHead: ExpectedHead?) throws -> VerificationReport {
        var report = VerificationReport(events: 0, headSeq: 0, headHash: .genesis)
        func fail(_ seq: UInt64?, _ message: String) -> VerificationReport {
            var failed = report
            failed.problem = .init(seq: seq, message: message)
            return failed
        }
        var versions: [UInt64: UInt64] = [:]  // stream fingerprint → its last version so far
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
            let border = part.streams.filter { $0.first != (versions[$0.print] ?? 0) + 1 }.min { $0.firstSeq < $1.firstSeq }
            if let seen = border, part.problem.map({ $0.seq ?? 0 > seen.firstSeq }) ?? true {
                return fail(seen.firstSeq, "version \(seen.first) in stream '\(seen.stream)', expected \((versions[seen.print] ?? 0) + 1)")
            }
            if let problem = part.problem {
                report.events += part.events
                return fail(problem.seq, problem.message)
            }
            for seen in part.streams { versions[seen.print] = seen.last }
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

    /// Byte order of the fixed form, which is time order (compared 8 bytes at a time: the
    /// events of one batch share their recorded time, so most comparisons run to the end).
    static func recordedBefore(_ a: SIMD32<UInt8>, _ b: SIMD32<UInt8>) -> Bool {
        withUnsafeBytes(of: a) { a in
            withUnsafeBytes(of: b) { b in
                for offset in stride(from: 0, to: 32, by: 8) {
                    let x = UInt64(bigEndian: a.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                    let y = UInt64(bigEndian: b.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                    if x != y { return x < y }
                }
                return false
            }
        }
    }

    /// The stream table must list exactly the streams of the events, each at its last version;
    /// versions and streams appended after the events were read are recognised by their
    /// stream-index entry pointing past `last`.
    private func streamTableProblem(_ txn: Transaction, _ versions: [UInt64: UInt64], last: UInt64) throws -> String? {
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
                let stored = UInt64(bigEndianBytes: current.value) ?? 0
                let known = versions[IndexFingerprints.of(current.key)] ?? 0
                let later = stored > known ? try appendedLater(String(decoding: current.key, as: UTF8.self), version: known + 1) : false
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

    /// What an index holds, read in key order (far faster than a lookup per event): the digest
    /// of its entries and, when read exactly, for each seq the fingerprint of the key that
    /// points to it.
    private struct IndexScan {
        var digest = IndexDigest()
        var prints: [UInt64]
        var seen: [Bool]
        /// The lowest seq that more than one entry points to.
        var firstDuplicate: UInt64?
        /// A problem with no event's seq: an entry whose value is not a seq the ledger holds.
        var problem: VerificationReport.Problem?
    }

    private func readIndex(_ txn: Transaction, _ database: Database, name: String, events: UInt64, exact: Bool) throws -> IndexScan {
        let slots = exact ? Int(events) : 0
        var scan = IndexScan(prints: [UInt64](repeating: 0, count: slots), seen: [Bool](repeating: false, count: slots))
        try txn.withCursor(database) { cursor in
            var entry = try cursor.first()
            while let current = entry {
                if let seq = UInt64(bigEndianBytes: current.value), current.value.count == 8, seq >= 1 {
                    if seq > events {
                        // Appended after the events were read (verify runs beside writers),
                        // unless no such event exists.
                        if scan.problem == nil, try txn.get(databases.events, key: seq) == nil {
                            scan.problem = .init(seq: nil, message: "the \(name) maps \(Ledger.quoteIndexKey(current.key, database)) to seq \(seq), which the ledger does not hold")
                        }
                    } else {
                        let print = indexFingerprint(current.key, database)
                        scan.digest.add(print, seq: seq)
                        if exact {
                            if scan.seen[Int(seq - 1)] {
                                scan.firstDuplicate = min(seq, scan.firstDuplicate ?? seq)
                            } else {
                                scan.prints[Int(seq - 1)] = print
                                scan.seen[Int(seq - 1)] = true
                            }
                        }
                    }
                } else if scan.problem == nil {
                    scan.problem = .init(seq: nil, message: "the \(name) maps \(Ledger.quoteIndexKey(current.key, database)) to a value that is not a seq")
                }
                entry = try cursor.next()
            }
        }
        return scan
    }

    /// Compares an index with the keys the events must have: each event needs exactly one
    /// entry, with its own key. The problem with the lowest seq, named by the entry at fault.
    private func indexProblem(_ scan: IndexScan, _ database: Database, name: String,
                              expected: (UInt64) -> UInt64) throws -> VerificationReport.Problem? {
        if let problem = scan.problem { return problem }
        let limit = scan.firstDuplicate.map { Int($0 - 1) } ?? scan.prints.count
        guard let bad = (0..<limit).first(where: { !scan.seen[$0] || scan.prints[$0] != expected(UInt64($0 + 1)) }) ?? scan.firstDuplicate.map({ Int($0 - 1) })
        else { return nil }
        let seq = UInt64(bad + 1)
        guard scan.seen[bad] else { return .init(seq: seq, message: "the \(name) has no entry for this event") }
        // Rare, so found by reading the index again: an entry for this seq whose key is not
        // the event's (with two entries and one right, the other).
        let key = try environment.read { txn in
            try txn.withCursor(database) { cursor -> String in
                var entry = try cursor.first()
                while let current = entry {
                    if current.value.count == 8, UInt64(bigEndianBytes: current.value) == seq,
                       indexFingerprint(current.key, database) != expected(seq) {
                        return Ledger.quoteIndexKey(current.key, database)
                    }
                    entry = try cursor.next()
                }
                return "(changed while verifying)"
            }
        }
        return .init(seq: seq, message: "the \(name) entry \(key) points to this event, which is not its event")
    }

    /// The fingerprint of an entry's key, as the event it belongs to gives it; a key not laid
    /// out as a stream key gets one no event has.
    private func indexFingerprint(_ key: UnsafeRawBufferPointer, _ database: Database) -> UInt64 {
        database.name == databases.streamEvents.name
            ? IndexFingerprints.ofStreamEventKey(key) ?? ~IndexFingerprints.of(key) : IndexFingerprints.of(key)
    }

    static func quoteIndexKey(_ key: UnsafeRawBufferPointer, _ database: Database) -> String {
        "'\(describeIndexKey(key, database: database))'"
    }

    /// An index key for a message: ids as text, stream keys as `stream vN`.
    static func describeIndexKey(_ key: UnsafeRawBufferPointer, database: Database) -> String {
        guard database.name == "stream-events", key.count >= 9 else { return MessageText.excerpt(key) }
        let version = UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: key.suffix(8))) ?? 0
        return MessageText.excerpt(UnsafeRawBufferPointer(rebasing: key.prefix(key.count - 9))) + " v\(version)"
    }
}

/// Each stream's run of versions within one part of a verify, found by the stream's keyed
/// fingerprint in an open-addressing table (the fingerprint is already uniformly random, so its
/// low bits pick the slot): far cheaper per event than a dictionary keyed by String, and one
/// cache line per event. Streams are told apart by fingerprint alone, the same keyed 64-bit
/// guarantee the index checks rest on.
private struct StreamRuns {
    private struct Slot {
        var print: UInt64 = 0
        /// The version the stream's next event must have; 0 for an empty slot.
        var next: UInt64 = 0
    }

    private var slots = [Slot](repeating: Slot(), count: 1024)
    /// Per stream, in the order first seen: its name, fingerprint, first version and that
    /// event's seq.
    private var firsts: [(name: [UInt8], print: UInt64, version: UInt64, seq: UInt64)] = []

    /// Records `version` as the stream's next one; returns the version expected instead when it
    /// does not follow the stream's last in this part.
    mutating func note(_ name: UnsafeRawBufferPointer, print: UInt64, version: UInt64, seq: UInt64) -> UInt64? {
        let expected: UInt64? = slots.withUnsafeMutableBufferPointer { slots in
            var index = Int(truncatingIfNeeded: print) & (slots.count - 1)
            while slots[index].next != 0 {
                if slots[index].print == print {
                    guard version == slots[index].next else { return slots[index].next }
                    slots[index].next = version &+ 1
                    return nil
                }
                index = (index + 1) & (slots.count - 1)
            }
            // Versions stop far below UInt64.max (the scanner reads 16 digits, JSON 2^53), so
            // version + 1 never wraps to the empty slot's 0.
            slots[index] = Slot(print: print, next: version &+ 1)
            return 0
        }
        guard expected == 0 else { return expected }
        firsts.append((Array(name), print, version, seq))
        if firsts.count * 3 > slots.count * 2 { grow() }
        return nil
    }

    private func find(_ print: UInt64) -> Slot {
        var index = Int(truncatingIfNeeded: print) & (slots.count - 1)
        while slots[index].print != print { index = (index + 1) & (slots.count - 1) }
        return slots[index]
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        for slot in old where slot.next != 0 {
            var index = Int(truncatingIfNeeded: slot.print) & (slots.count - 1)
            while slots[index].next != 0 { index = (index + 1) & (slots.count - 1) }
            slots[index] = slot
        }
    }

    /// Each stream's first and last version in this part, and the seq of its first.
    var runs: [Ledger.StreamRun] {
        firsts.map { .init(name: $0.name, print: $0.print, first: $0.version, last: find($0.print).next &- 1, firstSeq: $0.seq) }
    }
}

/// An order-free digest of index entries: how many, and the sum (mod 2^64) of a mix of each
/// entry's key fingerprint with its seq. The fingerprints are keyed and the mix is not linear,
/// so entries missing, added, re-pointed or swapped change the sum except by a chance no one
/// can aim for without the key (about 2^-64 per try).
struct IndexDigest: Equatable {
    private(set) var count = 0
    private(set) var sum: UInt64 = 0

    mutating func add(_ print: UInt64, seq: UInt64) {
        count += 1
        sum &+= IndexFingerprints.combine(print, with: seq)
    }

    mutating func merge(_ other: IndexDigest) {
        count += other.count
        sum &+= other.sum
    }
}

/// Keyed 64-bit fingerprints of the index keys one event must have. The key is drawn at
/// random per process, so a forger cannot aim for a collision.
struct IndexFingerprints {
    var id: UInt64 = 0
    var streamEvent: UInt64 = 0

    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 { SipHash.fingerprint.hash(bytes) }

    /// The fingerprint of the stream-index key stream ‖ 0x00 ‖ version, from the stream's
    /// fingerprint (verify takes that anyway).
    static func ofStreamEvent(stream: UInt64, version: UInt64) -> UInt64 { combine(stream, with: version) }

    /// A fingerprint mixed with a number. The number times an odd constant is one to one, and
    /// so is the mixing after it, so two numbers never collide with one fingerprint; two
    /// fingerprints only as unpredictably as the fingerprints themselves.
    static func combine(_ print: UInt64, with number: UInt64) -> UInt64 {
        var x = print ^ (number &* 0x9E37_79B9_7F4A_7C15)
        x = (x ^ (x >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        x = (x ^ (x >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return x ^ (x >> 33)
    }

    /// The same fingerprint read back from an index key; nil when it is not laid out as one.
    static func ofStreamEventKey(_ key: UnsafeRawBufferPointer) -> UInt64? {
        guard key.count >= 9, key[key.count - 9] == 0,
              let version = UInt64(bigEndianBytes: UnsafeRawBufferPointer(rebasing: key.suffix(8))) else { return nil }
        return ofStreamEvent(stream: of(UnsafeRawBufferPointer(rebasing: key.prefix(key.count - 9))), version: version)
    }
}
