import LMDB
import Testing
@testable import LedgerCore
import LedgerValues
import TestSupport

/// Tampering done through LMDB directly, below the ledger, must be caught by `verify`, whether
/// it checks the ledger in one part or in several stitched together (3 parts of 7, 7 and 6
/// events here, so some tampering straddles a border).
@Suite struct VerifyTests {
    let dir = TemporaryDirectory()
    let ledger: Ledger

    init() throws {
        ledger = try Ledger.open(dir.path, options: .init(create: true))
        var drafts: [EventDraft] = []
        for i in 1...20 {
            drafts.append(EventDraft(id: "ev-\(i)", type: "project.signed", stream: "project/p\(i % 4)",
                                     effective: EffectiveTime("2021-0\(1 + i % 9)-1\(i % 10)"),
                                     data: JSONObject([("investor", .object(JSONObject([("zh", .string("投资方\(i)"))]))), ("sector", .string("semiconductor")),
                                                       ("totalInvestmentCny", .number(Double(i * 1_000_000)))])))
        }
        _ = try ledger.append(drafts)
    }

    private func tamper(_ body: (Transaction, Ledger.Databases) throws -> Void) throws {
        try ledger.environment.write { txn in try body(txn, ledger.databases) }
    }

    private func stored(_ txn: Transaction, _ seq: UInt64) throws -> [UInt8] {
        try #require(try txn.get(ledger.databases.events, key: seq).map(Array.init))
    }

    @Test(arguments: [1, 3]) func anIntactLedgerVerifiesAndMeetsItsHead(parts: Int) throws {
        let report = try ledger.verify(expecting: nil, parts: parts)
        #expect(report.isIntact && report.events == 20 && report.headSeq == 20)
        #expect(try ledger.verify(expecting: ExpectedHead(seq: 7, hash: try #require(try ledger.event(seq: 7)).hash), parts: parts).isIntact)
    }

    @Test(arguments: [1, 3], [40, 100, 200])
    func aChangedByteInAnEventIsCaught(parts: Int, offset: Int) throws {
        try tamper { txn, db in
            var bytes = try stored(txn, 9)
            bytes[min(offset, bytes.count - 2)] ^= 0x01
            try UInt64(9).withBigEndianBytes { key in try bytes.withUnsafeBytes { try txn.put(db.events, key: key, value: $0) } }
        }
        let report = try ledger.verify(expecting: nil, parts: parts)
        #expect(report.problem?.seq == 9)
    }

    @Test(arguments: [1, 3], [0, 1, 31, 32])
    func aRecordCutShortIsCaught(parts: Int, length: Int) throws {
        try tamper { txn, db in
            let bytes = Array(try stored(txn, 9).prefix(length))
            try UInt64(9).withBigEndianBytes { key in try bytes.withUnsafeBytes { try txn.put(db.events, key: key, value: $0) } }
        }
        let problem = try #require(try ledger.verify(expecting: nil, parts: parts).problem)
        #expect(problem.seq == 9 && problem.message.contains("too short"), "\(problem)")
    }

    @Test(arguments: [1, 3]) func aDeletedEventIsCaught(parts: Int) throws {
        try tamper { txn, db in _ = try UInt64(5).withBigEndianBytes { try txn.delete(db.events, key: $0) } }
        let problem = try #require(try ledger.verify(expecting: nil, parts: parts).problem)
        #expect(problem.seq == 5 && problem.message.contains("missing"))
    }

    @Test(arguments: [1, 3]) func aDeletedLastEventIsCaughtByTheIndexes(parts: Int) throws {
        try tamper { txn, db in _ = try UInt64(20).withBigEndianBytes { try txn.delete(db.events, key: $0) } }
        #expect(try ledger.verify(expecting: nil, parts: parts).isIntact == false)
    }

    @Test(arguments: [1, 3], [6, 7])
    func swappedEventsAreCaught(parts: Int, first: UInt64) throws {
        try tamper { txn, db in
            let a = try stored(txn, first), b = try stored(txn, first + 1)
            try first.withBigEndianBytes { key in try b.withUnsafeBytes { try txn.put(db.events, key: key, value: $0) } }
            try (first + 1).withBigEndianBytes { key in try a.withUnsafeBytes { try txn.put(db.events, key: key, value: $0) } }
        }
        #expect(try ledger.verify(expecting: nil, parts: parts).problem?.seq == first)
    }

    @Test(arguments: [1, 3])
    func aSkippedStreamVersionIsCaughtEvenWhenRehashed(parts: Int) throws {
        // Seven events of one stream; the last (alone in the third part when split in three)
        // is rewritten as version 8 with a correct hash and indexes to match: only the version
        // rule can catch it, and only by carrying versions across the part border.
        let forgedDirectory = TemporaryDirectory()
        defer { withExtendedLifetime(forgedDirectory) {} }
        let forged = try Ledger.open(forgedDirectory.path, options: .init(create: true))
        let road = JSONObject([("name", .object(JSONObject([("zh", .string("路"))])))])
        _ = try forged.append((1...7).map { EventDraft(id: "f\($0)", type: "road.delivered", stream: "road/r", data: road) })
        var event = try #require(try forged.event(seq: 7))
        event.version = 8
        let bytes = event.canonicalBytes
        let value = withUnsafeBytes(of: bytes.withUnsafeBytes(ChainHash.of).bytes, Array.init) + bytes
        try forged.environment.write { txn in
            let db = forged.databases
            try UInt64(7).withBigEndianBytes { key in
                try value.withUnsafeBytes { try txn.put(db.events, key: key, value: $0) }
                var streamKey: [UInt8] = []
                Ledger.streamEventKey("road/r", 7, into: &streamKey)
                _ = try streamKey.withUnsafeBytes { try txn.delete(db.streamEvents, key: $0) }
                Ledger.streamEventKey("road/r", 8, into: &streamKey)
                try streamKey.withUnsafeBytes { try txn.put(db.streamEvents, key: $0, value: key) }
            }
            try Array("road/r".utf8).withUnsafeBytes { key in try UInt64(8).withBigEndianBytes { try txn.put(db.streams, key: key, value: $0) } }
        }
        let problem = try #require(try forged.verify(expecting: nil, parts: parts).problem)
        #expect(problem.seq == 7)
        #expect(problem.message.contains("version 8"))
    }

    @Test(arguments: [1, 3], ["month 13", "one digit short", "last byte"])
    func aMalformedRecordedTimeInsideABatchIsCaught(parts: Int, damage: String) throws {
        // Verify parses a recorded time only when it differs from the event before's (a batch
        // shares one); seq 8 is rewritten, rehashed, with a time that is not one. The last
        // case differs from seq 7's time in its last byte only ('Z' becomes 'X').
        var event = try #require(try ledger.event(seq: 8))
        let shared = try #require(try ledger.event(seq: 7)).recorded
        event.recorded = switch damage {
        case "month 13": "2026-13-45T99:00:00.000000Z"
        case "one digit short": String(shared.dropLast(2)) + "Z"
        default: String(shared.dropLast()) + "X"
        }
        let bytes = event.canonicalBytes
        let value = withUnsafeBytes(of: bytes.withUnsafeBytes(ChainHash.of).bytes, Array.init) + bytes
        try tamper { txn, db in
            try UInt64(8).withBigEndianBytes { key in try value.withUnsafeBytes { try txn.put(db.events, key: key, value: $0) } }
        }
        let problem = try #require(try ledger.verify(expecting: nil, parts: parts).problem)
        #expect(problem.seq == 8 && problem.message.contains("malformed"), "\(problem)")
    }

    /// The parts cover 1...last once, in order; automatic parts never grow towards the end,
    /// and a seq as large as a damaged key can claim splits without overflow.
    @Test(arguments: [1, 2, 7, 65_535, 65_536, 1_000_003, UInt64.max / 3] as [UInt64], [1, 2, 8])
    func verifyPartsCoverTheRangeOnceAndShrink(last: UInt64, cores: Int) {
        for requested in [nil, 1, 3, 7] as [Int?] {
            let parts = Ledger.verifyParts(last: last, requested: requested, cores: cores)
            #expect(parts.first?.lowerBound == 1 && parts.last?.upperBound == last)
            #expect(zip(parts, parts.dropFirst()).allSatisfy { $0.upperBound + 1 == $1.lowerBound })
            if requested == nil, last >= 65_536 {
                #expect(parts.count == 6 * cores)
                #expect(zip(parts, parts.dropFirst()).allSatisfy { $0.count + 1 >= $1.count })
            }
        }
        // Tests place borders with requested parts: 20 events in 3 parts are 7, 7 and 6.
        #expect(Ledger.verifyParts(last: 20, requested: 3).map(\.count) == [7, 7, 6])
    }

    @Test(arguments: [1, 3]) func anIdIndexEntryPointingToTheWrongEventIsCaught(parts: Int) throws {
        try tamper { txn, db in
            try Array("ev-3".utf8).withUnsafeBytes { key in try UInt64(4).withBigEndianBytes { try txn.put(db.ids, key: key, value: $0) } }
        }
        let problem = try #require(try ledger.verify(expecting: nil, parts: parts).problem)
        // The entry for ev-3 now points at seq 4 (whose id is ev-4), so seq 3 has none: the
        // lowest seq with a problem is reported.
        #expect(problem.seq == 3 && problem.message.contains("id index"))
    }

    @Test(arguments: [1, 3]) func aMissingIndexEntryIsCaught(parts: Int) throws {
        try tamper { txn, db in _ = try Array("ev-12".utf8).withUnsafeBytes { try txn.delete(db.ids, key: $0) } }
        let problem = try #require(try ledger.verify(expecting: nil, parts: parts).problem)
        #expect(problem.seq == 12 && problem.message.contains("no entry"))
    }

    @Test(arguments: [1, 3]) func anExtraIndexEntryIsCaught(parts: Int) throws {
        try tamper { txn, db in
            try Array("forged".utf8).withUnsafeBytes { key in try UInt64(4).withBigEndianBytes { try txn.put(db.ids, key: key, value: $0) } }
        }
        let problem = try #require(try ledger.verify(expecting: nil, parts: parts).problem)
        #expect(problem.message.contains("forged"))
    }

    @Test(arguments: [1, 3]) func aStreamIndexEntryPointingToTheWrongEventIsCaught(parts: Int) throws {
        try tamper { txn, db in
            var key: [UInt8] = []
            Ledger.streamEventKey("project/p1", 1, into: &key)
            try key.withUnsafeBytes { k in try UInt64(2).withBigEndianBytes { try txn.put(db.streamEvents, key: k, value: $0) } }
        }
        #expect(try ledger.verify(expecting: nil, parts: parts).problem?.message.contains("stream index") == true)
    }

    @Test func aRewrittenChainNoLongerExtendsTheExpectedHead() throws {
        let head = ExpectedHead(seq: 20, hash: try #require(try ledger.event(seq: 20)).hash)
        // Re-chain the whole ledger after changing event 3: internally consistent, but a fork.
        let forkDirectory = TemporaryDirectory()
        defer { withExtendedLifetime(forkDirectory) {} }
        let forked = try Ledger.open(forkDirectory.path, options: .init(create: true))
        var drafts: [EventDraft] = []
        try ledger.forEachEvent { event in
            drafts.append(EventDraft(id: event.id, type: event.type, stream: event.stream, effective: EffectiveTime(event.effective),
                                     data: event.seq == 3 ? JSONObject([("investor", .object(JSONObject([("zh", .string("改"))]))), ("sector", .string("other"))]) : event.data))
        }
        _ = try forked.append(drafts)
        #expect(try forked.verify().isIntact)
        let report = try forked.verify(expecting: head)
        #expect(report.problem?.seq == 20)
        let truncated = try forked.verify(expecting: ExpectedHead(seq: 21, hash: head.hash))
        #expect(truncated.problem?.message.contains("truncated") == true)
    }
}

@Suite struct VerifyEdgeTests {
    let dir = TemporaryDirectory()

    @Test func anEmptyLedgerVerifiesAndCannotMeetAnExpectedHead() throws {
        let ledger = try Ledger.open(dir.path, options: .init(create: true))
        #expect(try ledger.verify().isIntact)
        #expect(try ledger.verify(expecting: ExpectedHead(seq: 1, hash: .genesis)).problem?.message.contains("truncated") == true)
    }

    /// Index entries and stream versions appended after verify read the events are not
    /// tampering: simulated by verifying with the append landing between the two reads.
    @Test func entriesOfEventsAppendedDuringVerifyAreNotProblems() throws {
        let ledger = try Ledger.open(dir.path, options: .init(create: true))
        let road = JSONObject([("name", .object(JSONObject([("zh", .string("路"))])))])
        _ = try ledger.append((1...5).map { EventDraft(id: "e\($0)", type: "road.delivered", stream: "road/a", data: road) })
        // What the parts saw: 5 events; what the index scans see: 7, one in a new stream.
        _ = try ledger.append([EventDraft(id: "e6", type: "road.delivered", stream: "road/a", data: road),
                               EventDraft(id: "e7", type: "road.delivered", stream: "road/b", data: road)])
        let report = try ledger.verify(expecting: nil, parts: 2, upTo: 5)
        #expect(report.isIntact, "\(report.problem.map(String.init(describing:)) ?? "")")
        #expect(report.events == 5)
    }
}
