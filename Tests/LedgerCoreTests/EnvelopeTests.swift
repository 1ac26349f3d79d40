import Testing
@testable import LedgerCore
import LedgerValues
import TestSupport

/// Golden vectors pinning the record encoding: the canonical bytes the hash covers and the
/// hashes, computed independently (Python's json with sorted keys and hashlib).
@Suite struct EnvelopeTests {
    static let goldenData = #"{"investor":{"zh":"八维通","en":"Baweitong \"HQ\"\n\u0001"},"sector":"smart_mobility","totalInvestmentCny":100000000,"headquarters":true}"#
    static let goldenBytes = #"{"actor":"clerk-7","data":{"headquarters":true,"investor":{"en":"Baweitong \"HQ\"\n\u0001","zh":"八维通"},"sector":"smart_mobility","totalInvestmentCny":100000000},"effective":"2022-01-14","id":"golden-1","prev":"0000000000000000000000000000000000000000000000000000000000000000","recorded":"2022-01-14T02:00:00.000000Z","schemaVersion":2,"seq":1,"source":"article:2022 p.3","stream":"project/baweitong-hq","type":"project.signed","version":1}"#
    static let goldenHash = "7077ad0078d8a7036fe1e4f4138c3abd3ba30c67b9244bb2a7f181db63beb38f"
    static let secondBytes = #"{"data":{},"effective":"2022-01-14","id":"golden-2","prev":"7077ad0078d8a7036fe1e4f4138c3abd3ba30c67b9244bb2a7f181db63beb38f","recorded":"2022-01-14T02:00:00.000000Z","schemaVersion":1,"seq":2,"stream":"project/baweitong-hq","type":"project.construction_started","version":2}"#
    static let secondHash = "31cc0ad1c7f8620a7c8b1070b7a0dae80c72fb6ec15ef4b3cbd926958afac7d9"

    private func prepared(_ id: String, type: String = "project.signed", data: String, actor: String?, source: String?) throws -> PreparedEvent {
        let object = try #require(try JSONParser.parse(data).objectValue)
        let draft = EventDraft(id: id, type: type, stream: "project/baweitong-hq",
                               effective: EffectiveTime("2022-01-14"), actor: actor, source: source, data: object)
        return try PreparedEvent(draft, today: EffectiveTime("2030-01-01")!)
    }

    @Test func recordBytesAndHashesMatchTheGoldenVectors() throws {
        let recorded = Array("2022-01-14T02:00:00.000000Z".utf8)
        var bytes: [UInt8] = []
        try prepared("golden-1", data: Self.goldenData, actor: "clerk-7", source: "article:2022 p.3")
            .assemble(prev: .genesis, recorded: recorded, seq: 1, version: 1, into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == Self.goldenBytes)
        let first = bytes.withUnsafeBytes { ChainHash.of($0) }
        #expect(first.hex == Self.goldenHash)

        try prepared("golden-2", type: "project.construction_started", data: "{}", actor: nil, source: nil)
            .assemble(prev: first, recorded: recorded, seq: 2, version: 2, into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == Self.secondBytes)
        #expect(bytes.withUnsafeBytes { ChainHash.of($0) }.hex == Self.secondHash)
    }

    @Test func theFastEncoderAgreesWithTheGenericCanonicalForm() throws {
        // Decode the golden record and re-encode it through JSONValue: the same bytes.
        var raw = try #require(ChainHash(hex: Self.goldenHash)).bytes.indices.map { _ in UInt8(0) }
        raw += Array(Self.goldenBytes.utf8)
        let event = try raw.withUnsafeBytes { try EventRecord.decode($0) }
        #expect(event.canonicalBytes == Array(Self.goldenBytes.utf8))
        #expect(event.seq == 1 && event.version == 1 && event.actor == "clerk-7" && event.prev == .genesis && event.schemaVersion == 2)
    }

    @Test func hashHexParsesEightDigitsAtATimeLikeTheDigitByDigitDecoder() {
        var random = SeededGenerator(state: 64)
        for _ in 0..<2_000 {
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
            var text = Array(Hex.encode(bytes).utf8)
            if Bool.random(using: &random) { text = text.map { UInt8.random(in: 0...1, using: &random) == 0 ? $0 : Array(String(decoding: [$0], as: UTF8.self).uppercased().utf8)[0] } }
            // Now and then one character replaced by anything at all, hex digit or not.
            if Int.random(in: 0..<3, using: &random) == 0 { text[Int.random(in: 0..<64, using: &random)] = UInt8.random(in: 0...255, using: &random) }
            let string = String(decoding: text, as: UTF8.self)
            let expected = text.allSatisfy({ Hex.nibble($0) != nil }) ? Hex.decode(string) : nil
            #expect(ChainHash(hex: string).map { withUnsafeBytes(of: $0.bytes) { Array($0) } } == expected, "\(string)")
        }
        // Each boundary of the digit ranges, in every position.
        for bad in Array("/:@G`g".utf8) + [0x80, 0xB0, 0xE6] {
            for position in [0, 7, 8, 31, 63] {
                var text = Array(String(repeating: "a", count: 64).utf8)
                text[position] = bad
                #expect(ChainHash(hex: String(decoding: text, as: UTF8.self)) == nil)
            }
        }
    }

    @Test func theCanonicalScannerSkipsStringsWithEscapesAtEveryOffset() throws {
        // Strings whose quotes and backslashes fall at every position of the eight-byte steps.
        for padding in 0..<17 {
            let text = String(repeating: "x", count: padding) + #"\"a\\"# + String(repeating: "é", count: padding % 5)
            let data = #"{"note":""# + text + #"","n":1}"#
            var record = Array(repeating: UInt8(0), count: 32)
            record += Array(#"{"data":\#(data),"effective":"2022-01-14","id":"e\#(padding)","prev":"\#(String(repeating: "0", count: 64))","recorded":"2022-01-14T02:00:00.000000Z","schemaVersion":1,"seq":\#(padding + 1),"stream":"road/r","type":"road.delivered","version":1}"#.utf8)
            // The header's slices point into the record: read them while it is in scope.
            let header = try #require(record.withUnsafeBytes { EventRecord.scanCanonical($0).map { ($0.id, $0.stream, $0.seq) } })
            #expect(header == ("e\(padding)", "road/r", UInt64(padding + 1)))
        }
    }

    @Test func theCanonicalScannerReadsPlainIdsOnlyAtEveryOffset() throws {
        // An id is read eight bytes at a time; a quote ends it, and a backslash or a byte of
        // 0x80 or more (which a plain id never has) sends the record to the general reader.
        func scan(id: String) -> String? {
            var record = Array(repeating: UInt8(0), count: 32)
            record += Array(#"{"data":{},"effective":"2022-01-14","id":"\#(id)","prev":"\#(String(repeating: "0", count: 64))","recorded":"2022-01-14T02:00:00.000000Z","schemaVersion":1,"seq":1,"stream":"road/r","type":"road.delivered","version":1}"#.utf8)
            return record.withUnsafeBytes { EventRecord.scanCanonical($0)?.id }
        }
        for length in 0..<20 {
            let plain = String(repeating: "x", count: length)
            #expect(scan(id: plain) == plain)
            #expect(scan(id: plain + "\\\\" + "yz") == nil, "backslash after \(length) bytes")
            #expect(scan(id: plain + "é" + "yz") == nil, "non-ASCII after \(length) bytes")
        }
    }

    @Test func generatedIdsAreVersion7UUIDsInTimeOrder() {
        let a = EventIdentifier.generate()
        let b = EventIdentifier.generate()
        #expect(a.count == 36 && a != b)
        #expect(Array(a)[14] == "7")
        #expect(a.prefix(8) <= b.prefix(8))
    }

    @Test(arguments: [
        ("type", "Project.Signed"), ("type", "project"), ("type", "project..signed"), ("type", "project.signed."),
        ("stream", "project"), ("stream", "Project/x"), ("stream", "project/"), ("stream", "project/a b"),
        ("stream", "project//x"), ("stream", "/x"), ("id", ""), ("id", "has space"), ("id", String(repeating: "x", count: 129)),
    ])
    func rejectsMalformedNames(field: String, value: String) {
        var draft = EventDraft(id: "ok", type: "project.signed", stream: "project/ok")
        switch field {
        case "type": draft.type = value
        case "stream": draft.stream = value
        default: draft.id = value
        }
        #expect(throws: LedgerError.self) { try draft.validate() }
    }

    @Test func acceptsTheZoneNames() throws {
        for (type, stream) in [("project.signed", "project/baweitong-hq"), ("housing.batch_handed_over", "housing/chengyang-estate"),
                               ("road.delivered", "road/xujiaguan"), ("indicator.reported", "indicator/gdp.2021")] {
            try EventDraft(type: type, stream: stream).validate()
        }
    }

    @Test func theCanonicalDecoderAgreesWithTheGeneralOne() throws {
        let dir = TemporaryDirectory()
        let ledger = try Ledger.open(dir.path, options: .init(create: true))
        let data = try #require(try JSONParser.parse(Self.goldenData).objectValue)
        _ = try ledger.append([
            EventDraft(id: "a", type: "project.signed", stream: "project/x", effective: EffectiveTime("2022-01-14T10:30:00.5+08:00"),
                       actor: "clerk \"7\"\n\u{1}", source: "文件 p.3 😀", data: data),
            EventDraft(type: "project.completed", stream: "project/x"),
        ])
        try ledger.environment.read { txn in
            for seq: UInt64 in 1...2 {
                let raw = try #require(try txn.get(ledger.databases.events, key: seq))
                let fast = try #require(EventRecord.decodeCanonical(raw))
                #expect(fast == (try EventRecord.decodeGeneral(raw)))
            }
        }
        // A body that is valid JSON but not canonical is still read, by the general path.
        let shuffled = #"{"version":1,"type":"project.completed","stream":"project/x","seq":1,"schemaVersion":1,"recorded":"2022-01-14T02:00:00.000000Z","prev":"0000000000000000000000000000000000000000000000000000000000000000","id":"x","effective":"2022-01-14","data":{}}"#
        let raw = [UInt8](repeating: 0, count: 32) + Array(shuffled.utf8)
        let (fast, general) = try raw.withUnsafeBytes { bytes in (EventRecord.decodeCanonical(bytes), try EventRecord.decode(bytes)) }
        #expect(fast == nil)
        #expect(general.id == "x")
    }
}

extension PreparedEvent {
    /// The record's canonical bytes (the hash input) in `out`, as the writer assembles them in
    /// the place LMDB reserves.
    func assemble(prev: ChainHash, recorded: [UInt8], seq: UInt64, version: UInt64, into out: inout [UInt8]) {
        let size = bodySize(recorded: recorded.count, seq: seq, version: version)
        out = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            assemble(prev: prev, recorded: recorded, seq: seq, version: version, into: UnsafeMutableRawBufferPointer(buffer))
            count = size
        }
    }
}
