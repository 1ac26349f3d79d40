import LMDB
import Testing
@testable import LedgerCore

/// Tampering done through LMDB directly, below the ledger, must be caught by `verify`.
@Suite struct VerifyTests {
    let dir = TemporaryDirectory()
    let ledger: Ledger

    init() throws {
        ledger = try Ledger.open(dir.path, options: .init(create: true))
        var drafts: [EventDraft] = []
        for i in 1...20 {
            drafts.append(EventDraft(id: "ev-\(i)", type: "project.signed", stream: "project/p\(i % 4)",
                                     effective: EffectiveTime("2021-0\(1 + i % 9)-1\(i % 10)"),
                                     data: JSONObject([("amountCny", .number(Double(i * 1_000_000)))])))
        }
        _ = try ledger.append(drafts)
    }

    private func tamper(_ body: (Transaction, Ledger.Databases) throws -> Void) throws {
        try ledger.environment.write { txn in try body(txn, ledger.databases) }
    }

    private func stored(_ txn: Transaction, _ seq: UInt64) throws -> [UInt8] {
        try #require(try txn.get(ledger.databases.events, key: seq).map(Array.init))
    }

    @Test func anIntactLedgerVerifiesAndMeetsItsHead() throws {
        let report = try ledger.verify()
        #expect(report.isIntact && report.events == 20 && report.headSeq == 20)
        #expect(try ledger.verify(expecting: ExpectedHead(seq: 7, hash: try #require(try ledger.event(seq: 7)).hash)).isIntact)
    }

    @Test(arguments: [40, 100, 200])
    func aChangedByteInAnEventIsCaught(offset: Int) throws {
        try tamper { txn, db in
            var bytes = try stored(txn, 9)
            bytes[min(offset, bytes.count - 2)] ^= 0x01
            try UInt64(9).withBigEndianBytes { key in try bytes.withUnsafeBytes { try txn.put(db.events, key: key, value: $0) } }
        }
        let report = try ledger.verify()
        #expect(report.problem?.seq == 9)
    }

    @Test func aDeletedEventIsCaught() throws {
        try tamper { txn, db in _ = try UInt64(5).withBigEndianBytes { try txn.delete(db.events, key: $0) } }
        let problem = try #require(try ledger.verify().problem)
        #expect(problem.seq == 5 && problem.message.contains("missing"))
    }

    @Test func aDeletedLastEventIsCaughtByTheIndexes() throws {
        try tamper { txn, db in _ = try UInt64(20).withBigEndianBytes { try txn.delete(db.events, key: $0) } }
        #expect(try ledger.verify().isIntact == false)
    }

    @Test func swappedEventsAreCaught() throws {
        try tamper { txn, db in
            let six = try stored(txn, 6), seven = try stored(txn, 7)
            try UInt64(6).withBigEndianBytes { key in try seven.withUnsafeBytes { try txn.put(db.events, key: key, value: $0) } }
            try UInt64(7).withBigEndianBytes { key in try six.withUnsafeBytes { try txn.put(db.events, key: key, value: $0) } }
        }
        #expect(try ledger.verify().problem?.seq == 6)
    }

    @Test func anIdIndexEntryPointingToTheWrongEventIsCaught() throws {
        try tamper { txn, db in
            try Array("ev-3".utf8).withUnsafeBytes { key in try UInt64(4).withBigEndianBytes { try txn.put(db.ids, key: key, value: $0) } }
        }
        let problem = try #require(try ledger.verify().problem)
        #expect(problem.seq == 3 && problem.message.contains("id index"))
    }

    @Test func anExtraIndexEntryIsCaught() throws {
        try tamper { txn, db in
            try Array("forged".utf8).withUnsafeBytes { key in try UInt64(4).withBigEndianBytes { try txn.put(db.ids, key: key, value: $0) } }
        }
        let problem = try #require(try ledger.verify().problem)
        #expect(problem.message.contains("forged"))
    }

    @Test func aStreamIndexEntryPointingToTheWrongEventIsCaught() throws {
        try tamper { txn, db in
            var key: [UInt8] = []
            Ledger.streamEventKey("project/p1", 1, into: &key)
            try key.withUnsafeBytes { k in try UInt64(2).withBigEndianBytes { try txn.put(db.streamEvents, key: k, value: $0) } }
        }
        #expect(try ledger.verify().problem?.message.contains("stream index") == true)
    }

    @Test func aRewrittenChainNoLongerExtendsTheExpectedHead() throws {
        let head = ExpectedHead(seq: 20, hash: try #require(try ledger.event(seq: 20)).hash)
        // Re-chain the whole ledger after changing event 3: internally consistent, but a fork.
        let forked = try Ledger.open(dir.path + "-fork", options: .init(create: true))
        var drafts: [EventDraft] = []
        try ledger.forEachEvent { event in
            drafts.append(EventDraft(id: event.id, type: event.type, stream: event.stream, effective: EffectiveTime(event.effective),
                                     data: event.seq == 3 ? JSONObject() : event.data))
        }
        _ = try forked.append(drafts)
        #expect(try forked.verify().isIntact)
        let report = try forked.verify(expecting: head)
        #expect(report.problem?.seq == 20)
        let truncated = try forked.verify(expecting: ExpectedHead(seq: 21, hash: head.hash))
        #expect(truncated.problem?.message.contains("truncated") == true)
    }
}
