import LMDB
import Testing
@_spi(Benchmark) @testable import LedgerCore
import LedgerValues
import TestSupport

@Suite struct LedgerTests {
    let dir = TemporaryDirectory()

    private func ledger() throws -> Ledger { try Ledger.open(dir.path + "/ledger", options: .init(create: true)) }

    private func draft(_ id: String?, stream: String = "project/a", data: String = #"{"investor":{"zh":"美德乐"},"sector":"medical_devices"}"#,
                       expectedVersion: UInt64? = nil, effective: String? = "2021-06-01") throws -> EventDraft {
        EventDraft(id: id, type: "project.signed", stream: stream, effective: effective.flatMap(EffectiveTime.init),
                   expectedVersion: expectedVersion, data: try #require(try JSONParser.parse(data).objectValue))
    }

    private func batch(_ text: String) throws(LedgerError) -> [PreparedEvent] {
        try Array(text.utf8).withUnsafeBufferPointer { buffer throws(LedgerError) in try EventBatch.prepare(buffer) }
    }

    @Test func missingLedgerIsNotFoundUnlessCreated() throws {
        #expect { try Ledger.open(dir.path + "/none") } throws: { ($0 as? LedgerError)?.kind == .notFound }
        _ = try ledger()
    }

    @Test func appendsAssignSeqsVersionsAndChainHashes() throws {
        let ledger = try ledger()
        let outcomes = try ledger.append([try draft("a1"), try draft("b1", stream: "project/b"), try draft("a2")])
        #expect(outcomes.map(\.seq) == [1, 2, 3])
        #expect(outcomes.map(\.version) == [1, 1, 2])
        #expect(outcomes.allSatisfy { $0.status == .appended })
        let events = try (1...3).map { try #require(try ledger.event(seq: $0)) }
        #expect(events[0].prev == .genesis)
        #expect(events[1].prev == events[0].hash)
        #expect(events[2].prev == events[1].hash)
        #expect(events.map { $0.canonicalBytes.withUnsafeBytes(ChainHash.of) } == events.map(\.hash))
        #expect(events[0].recorded <= events[1].recorded && events[1].recorded <= events[2].recorded)
        #expect(try ledger.event(id: "b1")?.seq == 2)
        #expect(try ledger.version(ofStream: "project/a") == 2)
        #expect(try ledger.verify().isIntact)
    }

    @Test func sameIdWithSameContentIsANoOpReportingTheExistingSeq() throws {
        let ledger = try ledger()
        let first = try ledger.append([try draft("x")])
        // A retry without an effective date matches whatever date was recorded.
        let again = try ledger.append([try draft("x", effective: nil)])
        #expect(again[0].status == .existing)
        #expect(again[0].seq == first[0].seq && again[0].hash == first[0].hash)
        #expect(try ledger.statistics().events == 1)
    }

    @Test func sameIdWithOtherContentIsAConflictAndWritesNothing() throws {
        let ledger = try ledger()
        _ = try ledger.append([try draft("x")])
        #expect { try ledger.append([try draft("y"), try draft("x", data: #"{"investor":{"zh":"美德乐"},"sector":"other"}"#)]) } throws: {
            ($0 as? LedgerError)?.kind == .conflict
        }
        #expect(try ledger.statistics().events == 1)
        #expect(try ledger.event(id: "y") == nil)
    }

    @Test func duplicateIdsWithinOneBatch() throws {
        let ledger = try ledger()
        let outcomes = try ledger.append(prepared: try batch("""
            {"id":"d","type":"road.delivered","stream":"road/x","effective":"2021-10-15","data":{"name":{"zh":"路"}}}
            {"id":"d","type":"road.delivered","stream":"road/x","effective":"2021-10-15","data":{"name":{"zh":"路"}}}
            """))
        #expect(outcomes.map(\.status) == [.appended, .existing])
        #expect(outcomes[1].seq == 1 && outcomes[1].line == 2)
        #expect { try ledger.append(prepared: try batch("""
            {"id":"e","type":"road.delivered","stream":"road/x","data":{"name":{"zh":"路"}}}
            {"id":"e","type":"road.delivered","stream":"road/y","data":{"name":{"zh":"路"}}}
            """)) } throws: { ($0 as? LedgerError)?.kind == .conflict && ($0 as? LedgerError)?.line == 2 }
        #expect(try ledger.statistics().events == 1)
    }

    @Test func aCorrectionMayReferToAnEarlierLineOfItsBatchById() throws {
        // The id index gets a batch's entries only at its end, so this lookup goes through
        // the batch itself.
        let ledger = try ledger()
        let outcomes = try ledger.append(prepared: try batch("""
            {"id":"road-1","type":"road.delivered","stream":"road/x","effective":"2021-10-15","data":{"name":{"zh":"路"},"lengthM":900}}
            {"id":"fix-1","type":"event.corrected","stream":"road/x","effective":"2021-10-16","data":{"target":{"id":"road-1"},"data":{"name":{"zh":"路"},"lengthM":950},"reason":"typo"}}
            """))
        #expect(outcomes.map(\.seq) == [1, 2])
        #expect(try ledger.event(id: "fix-1")?.seq == 2)
        // An id that is neither stored nor earlier in the batch is still refused.
        #expect { try ledger.append(prepared: try batch("""
            {"type":"event.corrected","stream":"road/x","data":{"target":{"id":"road-2"},"data":{"name":{"zh":"路"}},"reason":"typo"}}
            {"id":"road-2","type":"road.delivered","stream":"road/x","effective":"2021-10-15","data":{"name":{"zh":"路"}}}
            """)) } throws: { ($0 as? LedgerError)?.kind == .invalidInput && ($0 as? LedgerError)?.line == 1 }
        #expect(try ledger.verify().isIntact)
    }

    @Test func idsInAnyOrderAreIndexedUnderTheirOwnSeqs() throws {
        // Ids in descending and mixed key order, including prefixes of one another and ids
        // longer than the 8 bytes the sort compares first.
        let ids = ["zz", "z", "~", "road-000000010", "road-000000009", "road-00000001", "b", "ab", "a", "A"]
        let ledger = try ledger()
        let text = ids.map { #"{"id":"\#($0)","type":"road.delivered","stream":"road/x","effective":"2021-10-15","data":{"name":{"zh":"路"}}}"# }
        let outcomes = try ledger.append(prepared: try batch(text.joined(separator: "\n")))
        for (index, id) in ids.enumerated() {
            #expect(try ledger.event(id: id)?.seq == UInt64(index + 1))
            #expect(outcomes[index].seq == UInt64(index + 1))
        }
        #expect(try ledger.verify().isIntact)
    }

    /// A big batch is prepared in chunks while the writer takes them; whatever the writer
    /// meets first, the outcome is the one of checking the whole batch before writing.
    @Test func aBatchPreparedInChunksIsWrittenAsIfCheckedWhole() throws {
        func road(_ i: Int, id: String? = nil, expectedVersion: Int? = nil, effective: String = "2021-10-15", length: Int? = nil) -> String {
            let idField = id.map { #""id":"\#($0)","# } ?? #""id":"r-\#(i)","#
            let expected = expectedVersion.map { #""expectedVersion":\#($0),"# } ?? ""
            return #"{\#(idField)\#(expected)"type":"road.delivered","stream":"road/r\#(i % 7)","effective":"\#(effective)","data":{"name":{"zh":"路"},"lengthM":\#(length ?? i)}}"#
        }
        let count = 5_000  // several chunks
        func lines(_ change: (Int) -> String?) -> [UInt8] {
            Array((1...count).map { change($0) ?? road($0) }.joined(separator: "\n").utf8)
        }
        let ledger = try ledger()
        // A conflict on line 3 and a bad date on line 4,990: the bad line is reported.
        #expect {
            try ledger.append(EventBatch.preparing(lines { $0 == 3 ? road(3, expectedVersion: 5) : $0 == 4_990 ? road(4_990, effective: "2021-02-30") : nil }))
        } throws: { ($0 as? LedgerError)?.kind == .invalidInput && ($0 as? LedgerError)?.line == 4_990 }
        #expect(try ledger.statistics().events == 0)

        // Line 4,500 repeats line 2 (whose expected version it does not meet any more): a retry,
        // not a conflict. Line 4,800 corrects line 10 of the same batch by id.
        let outcomes = try ledger.append(EventBatch.preparing(lines { i in
            switch i {
            case 2, 4_500: return road(2, expectedVersion: 0)
            case 4_800: return #"{"id":"fix","type":"event.corrected","stream":"road/r3","data":{"target":{"id":"r-10"},"data":{"name":{"zh":"路"},"lengthM":11},"reason":"typo"}}"#
            default: return nil
            }
        }))
        #expect(outcomes.count == count)
        #expect(outcomes[4_499].status == .existing && outcomes[4_499].seq == 2 && outcomes[4_499].line == 4_500)
        #expect(outcomes.filter { $0.status == .appended }.map(\.seq) == Array(1...UInt64(count - 1)))
        #expect(try ledger.event(id: "fix")?.seq == 4_799)
        #expect(try ledger.event(id: "r-\(count)")?.seq == UInt64(count - 1))
        // Its own lines and the correction (line 4,800 would have been road/r5's).
        #expect(try ledger.version(ofStream: "road/r3") == UInt64((1...count).filter { $0 % 7 == 3 }.count + 1))
        #expect(try ledger.verify().isIntact)

        // The same id on two lines with other content is a conflict on the later line.
        let before = try ledger.statistics().events
        #expect {
            try ledger.append(EventBatch.preparing(Array((1...count).map { $0 == 4_321 ? road(7, id: "again", length: 2) : road($0, id: $0 == 5 ? "again" : "n-\($0)") }.joined(separator: "\n").utf8)))
        } throws: { ($0 as? LedgerError)?.kind == .conflict && ($0 as? LedgerError)?.line == 4_321 }
        #expect(try ledger.statistics().events == before)
    }

    /// A big batch whose transaction fills the map halfway (here a projector writes far more
    /// than the room the append makes up front) is written again from its prepared chunks
    /// once the map has grown: every event once, in order, and what the projector wrote once.
    @Test(.timeLimit(.minutes(1))) func aBatchThatFillsTheMapHalfwayIsWrittenWholeOnceTheMapHasGrown() throws {
        var options = Ledger.Options(create: true, projectors: [BulkyProjector(bytes: 24 << 20)])
        options.initialMapSize = 1 << 20
        let ledger = try Ledger.open(dir.path + "/bulky", options: options)
        let count = 5_000  // several chunks
        let lines = (1...count).map { #"{"id":"b-\#($0)","type":"road.delivered","stream":"road/r\#($0 % 9)","data":{"name":{"zh":"路"},"lengthM":\#($0)}}"# }
        let batch = try EventBatch.preparing(Array(lines.joined(separator: "\n").utf8))
        #expect(batch.chunkCount > 1)
        let outcomes = try ledger.append(batch)
        #expect(outcomes.map(\.seq) == Array(1...UInt64(count)))
        #expect(outcomes.allSatisfy { $0.status == .appended })
        #expect(ledger.environment.mapGrowths > 0)
        #expect(try ledger.statistics().mapSize > 24 << 20)
        #expect(try ledger.verify().isIntact)
        #expect(try ledger.version(ofStream: "road/r0") == UInt64(count / 9))
        // The projector's entries of the one transaction that committed, none of the others.
        let entries = try ledger.environment.read { txn in
            try txn.statistics(try #require(try txn.openDatabase(named: BulkyProjector.table, create: false))).entries
        }
        #expect(entries == (24 << 20) / BulkyProjector.valueSize)
    }

    /// A batch without projectors hands each written chunk's memory on to later chunks. When
    /// its transaction fills the map halfway, the chunks already handed on are prepared again
    /// from their lines: every event is written once, in order, with the ids of its lines.
    @Test(.timeLimit(.minutes(1))) func chunksWhoseMemoryWentOnArePreparedAgainWhenTheWriteStartsOver() throws {
        var options = Ledger.Options(create: true)
        options.initialMapSize = 1 << 20
        options.growsMapUpFront = false
        let ledger = try Ledger.open(dir.path + "/small", options: options)
        let count = 6_000
        let lines = (1...count).map { #"{"id":"s-\#($0)","type":"road.delivered","stream":"road/r\#($0 % 9)","data":{"name":{"zh":"路"},"lengthM":\#($0)}}"# }
        let bytes = Array(lines.joined(separator: "\n").utf8)
        let batch = PreparedBatch(preparing: bytes, lines: EventBatch.splitLines(bytes), today: .today(), validation: .catalog, inBackground: false)
        #expect(batch.chunkCount > 3)
        let outcomes = try ledger.append(batch)
        #expect(ledger.environment.mapGrowths > 0)
        #expect(batch.chunksPreparedInReusedMemory >= batch.chunkCount)  // more preparing than chunks: some twice
        #expect(outcomes.map(\.seq) == Array(1...UInt64(count)))
        #expect(outcomes.map(\.id) == (1...count).map { "s-\($0)" })
        #expect(try ledger.event(seq: 1)?.id == "s-1")
        #expect(try ledger.event(id: "s-\(count)")?.seq == UInt64(count))
        #expect(try ledger.version(ofStream: "road/r0") == UInt64(count / 9))
        #expect(try ledger.verify().isIntact)
    }

    /// Events of a chunk kept elsewhere keep their bytes when the chunk's memory is handed on:
    /// a chunk prepared again (here after the map filled) gets blocks of its own instead.
    @Test(.timeLimit(.minutes(1))) func eventsHeldElsewhereKeepTheirBytesWhenTheirChunkIsHandedOn() throws {
        var options = Ledger.Options(create: true)
        options.initialMapSize = 1 << 20
        options.growsMapUpFront = false
        let ledger = try Ledger.open(dir.path + "/held", options: options)
        let lines = (1...6_000).map { #"{"id":"h-\#($0)","type":"road.delivered","stream":"road/r\#($0 % 5)","data":{"name":{"zh":"路"},"lengthM":\#($0)}}"# }
        let bytes = Array(lines.joined(separator: "\n").utf8)
        let batch = PreparedBatch(preparing: bytes, lines: EventBatch.splitLines(bytes), today: .today(), validation: .catalog, inBackground: false)
        let held = try batch.allEvents()
        let copies = held.map { Array($0.parts) }
        let outcomes = try ledger.append(batch)
        #expect(ledger.environment.mapGrowths > 0)
        #expect(zip(held, copies).filter { Array($0.parts) != $1 }.count == 0)  // events whose bytes changed
        #expect(outcomes.map(\.id) == (1...6_000).map { "h-\($0)" })
        #expect(try ledger.verify().isIntact)
    }

    /// Writes `bytes` of its own in each append's transaction.
    private struct BulkyProjector: LedgerProjector {
        static let table = "bulky", valueSize = 4_000
        let bytes: Int

        func apply(_ batch: WrittenBatch, in txn: Transaction, ledger: Ledger) throws {
            let table = try #require(try txn.openDatabase(named: BulkyProjector.table, create: true))
            let value = [UInt8](repeating: 7, count: BulkyProjector.valueSize)
            for index in 0..<UInt64(bytes / BulkyProjector.valueSize) {
                try withUnsafeBytes(of: (batch.seqs.lowerBound.bigEndian, index.bigEndian)) { key in
                    try value.withUnsafeBytes { try txn.put(table, key: key, value: $0) }
                }
            }
        }
    }

    /// A chunk no background worker has started is prepared by the writer when it needs it,
    /// so an append never waits on a thread pool with no thread to spare.
    @Test(.timeLimit(.minutes(1))) func theWriterPreparesChunksNobodyStarted() throws {
        let lines = (1...5_000).map { #"{"id":"w-\#($0)","type":"road.delivered","stream":"road/r\#($0 % 3)","data":{"name":{"zh":"路"}}}"# }
        let bytes = Array(lines.joined(separator: "\n").utf8)
        let batch = PreparedBatch(preparing: bytes, lines: EventBatch.splitLines(bytes), today: .today(), validation: .catalog, inBackground: false)
        #expect(batch.chunkCount > 1)
        let outcomes = try ledger().append(batch)
        #expect(outcomes.map(\.seq) == Array(1...5_000))
        #expect(outcomes.map(\.id) == (1...5_000).map { "w-\($0)" })
        // Each chunk after the first went into the memory of the one written before it.
        #expect(batch.chunksPreparedInReusedMemory == batch.chunkCount - 1)
        let bad = Array((lines + [#"{"type":"road.delivered"}"#]).joined(separator: "\n").utf8)
        let failing = PreparedBatch(preparing: bad, lines: EventBatch.splitLines(bad), today: .today(), validation: .catalog, inBackground: false)
        #expect(failing.firstInputError()?.line == 5_001)
    }

    /// A big batch's lines are found on two cores; they must be the lines, numbers and ranges
    /// one pass over the whole input finds, wherever its middle falls.
    @Test func aBigBatchSplitsIntoTheSameNumberedLinesAsOnePass() {
        var random = SeededGenerator(state: 7)
        let endings = ["\n", "\r\n", "\n\n", "\n \t\n", "\r\n\r\n"]
        for _ in 0..<4 {
            var input: [UInt8] = []
            while input.count < 5 << 20 {
                input += Array(String(repeating: "x", count: Int.random(in: 0...300, using: &random)).utf8)
                input += Array(endings[Int.random(in: 0..<endings.count, using: &random)].utf8)
            }
            if Bool.random(using: &random) { input += Array("{\"last\":1}".utf8) }  // no line end after the last line
            // The reference: each line in turn, numbered, without "\r", blank ones left out.
            var expected: [(Int, Range<Int>)] = []
            var start = 0, number = 1
            for (index, byte) in input.enumerated() where byte == UInt8(ascii: "\n") {
                let end = index > start && input[index - 1] == UInt8(ascii: "\r") ? index - 1 : index
                if input[start..<end].contains(where: { $0 != 0x20 && $0 != 0x09 }) { expected.append((number, start..<end)) }
                start = index + 1
                number += 1
            }
            if start < input.count { expected.append((number, start..<input.count)) }
            let lines = EventBatch.splitLines(input)
            #expect(lines.count == expected.count)
            #expect(zip(lines, expected).allSatisfy { $0.number == $1.0 && $0.range == $1.1 })
        }
    }

    @Test func expectedVersionMismatchIsAConflict() throws {
        let ledger = try ledger()
        _ = try ledger.append([try draft(nil, expectedVersion: 0), try draft(nil, expectedVersion: 1)])
        #expect { try ledger.append([try draft(nil, expectedVersion: 1)]) } throws: {
            let error = $0 as? LedgerError
            return error?.kind == .conflict && error?.message.contains("at version 2") == true
        }
        #expect(try ledger.version(ofStream: "project/a") == 2)
    }

    @Test func aBadLineRejectsTheWholeBatchNamingTheLine() throws {
        let ledger = try ledger()
        let text = """
            {"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"路"}}}

            {"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"路"}},"effective":"2021-02-30"}
            """
        #expect { try ledger.append(prepared: try batch(text)) } throws: {
            let error = $0 as? LedgerError
            return error?.kind == .invalidInput && error?.line == 3 && error?.description.hasPrefix("line 3: field 'effective'") == true
        }
        #expect(try ledger.statistics().events == 0)
    }

    @Test func logOutputFeedsBackIntoABatch() throws {
        let source = try ledger()
        _ = try source.append([try draft("a1", data: #"{"investor":{"zh":"美德乐","en":"Medela"},"sector":"medical_devices","totalInvestmentCny":250000000}"#), try draft("a2")])
        var lines = ""
        try source.forEachEvent { event in
            lines += String(decoding: JSONValue.object(event.envelope(includingHash: true)).canonicalBytes, as: UTF8.self) + "\n"
        }
        let copy = try Ledger.open(dir.path + "/copy", options: .init(create: true))
        let outcomes = try copy.append(prepared: try batch(lines))
        #expect(outcomes.count == 2)
        #expect(try copy.event(id: "a1")?.data == source.event(id: "a1")?.data)
    }

    @Test func filtersByStreamAndType() throws {
        let ledger = try ledger()
        _ = try ledger.append([try draft(nil), try draft(nil, stream: "project/b"), try draft(nil)])
        var seqs: [UInt64] = []
        try ledger.forEachEvent(EventFilter(stream: "project/a")) { seqs.append($0.seq) }
        #expect(seqs == [1, 3])
        seqs = []
        try ledger.forEachEvent(EventFilter(after: 1, limit: 1)) { seqs.append($0.seq) }
        #expect(seqs == [2])
        seqs = []
        try ledger.forEachEvent(EventFilter(type: "road.delivered")) { seqs.append($0.seq) }
        #expect(seqs.isEmpty)
    }

    @Test func readOnlyLedgerRefusesAppends() throws {
        _ = try ledger().append([try draft(nil)])
        let readOnly = try Ledger.open(dir.path + "/ledger", options: .init(readOnly: true))
        #expect { try readOnly.append([try draft(nil)]) } throws: { ($0 as? LedgerError)?.kind == .readOnly }
    }
}
