import Testing
@testable import LedgerCore
import LedgerValues

/// Golden vectors pinning the record encoding: the canonical bytes the hash covers and the
/// hashes, computed independently (Python's json with sorted keys and hashlib).
@Suite struct EnvelopeTests {
    static let goldenData = #"{"investor":{"zh":"八维通","en":"Baweitong"},"amountCny":100000000,"headquarters":true,"note":"line\nbreak \"quoted\" \u0001"}"#
    static let goldenBytes = #"{"actor":"clerk-7","data":{"amountCny":100000000,"headquarters":true,"investor":{"en":"Baweitong","zh":"八维通"},"note":"line\nbreak \"quoted\" \u0001"},"effective":"2022-01-14","id":"golden-1","prev":"0000000000000000000000000000000000000000000000000000000000000000","recorded":"2022-01-14T02:00:00.000000Z","seq":1,"source":"article:2022 p.3","stream":"project/baweitong-hq","type":"project.signed","version":1}"#
    static let goldenHash = "c0885978af123464a4a8836af4472be6e77052e85db77d3f3e69f60b8c3bb930"
    static let secondBytes = #"{"data":{},"effective":"2022-01-14","id":"golden-2","prev":"c0885978af123464a4a8836af4472be6e77052e85db77d3f3e69f60b8c3bb930","recorded":"2022-01-14T02:00:00.000000Z","seq":2,"stream":"project/baweitong-hq","type":"project.signed","version":2}"#
    static let secondHash = "02452aea8eeb83d139d85012bfc3dba6143025c80f9857d05c81ef4fb7d50e4e"

    private func prepared(_ id: String, data: String, actor: String?, source: String?) throws -> PreparedEvent {
        let object = try #require(try JSONParser.parse(data).objectValue)
        let draft = EventDraft(id: id, type: "project.signed", stream: "project/baweitong-hq",
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

        try prepared("golden-2", data: "{}", actor: nil, source: nil)
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
        #expect(event.seq == 1 && event.version == 1 && event.actor == "clerk-7" && event.prev == .genesis)
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
}
