import Testing
@_spi(Benchmark) @testable import LedgerCore
import LedgerSchemas
import LedgerValues
import TestSupport

/// A batch line is prepared from its tape when it can be, else from its parsed draft. Both
/// ways must give the same event: the same fields and the same canonical bytes.
@Suite struct TapePreparationTests {
    private let today = EffectiveTime("2022-01-14")!
    /// Shared from line to line as the batch shares it, and small, so that it grows: what
    /// one line leaves in it must not reach the next.
    private let output = ReusableBuffer<UInt8>(capacity: 8)
    /// Shared as a chunk shares it, in blocks smaller than some events: each event's bytes
    /// must stay as they were while later ones go in.
    private let storage = PreparedBytes(blockSize: 256)

    private func fromTape(_ line: String, catalog: EventCatalog = .shared) -> PreparedEvent? {
        var tape = JSONTape()
        return Array(line.utf8).withUnsafeBufferPointer {
            PreparedEvent.fromTape($0, number: 7, today: today, validation: .catalog, catalog: catalog, tape: &tape, output: output,
                                   storage: storage)
        }
    }

    private func fromDraft(_ line: String) -> Result<PreparedEvent, LedgerError> {
        Result { () throws(LedgerError) in
            let draft = try Array(line.utf8).withUnsafeBufferPointer { bytes throws(LedgerError) in try EventDraft(json: bytes) }
            return try PreparedEvent(draft, line: 7, today: today)
        }
    }

    private func expectSame(_ tape: PreparedEvent, _ draft: PreparedEvent, _ line: String) {
        // A generated id differs from one preparing to the next; the rest must not.
        #expect(Array(tape.parts[..<tape.effectiveStart]) == Array(draft.parts[..<draft.effectiveStart]), "\(line)")
        #expect(Array(tape.parts[tape.tailStart...]) == Array(draft.parts[draft.tailStart...]), "\(line)")
        if draft.clientId { #expect(Array(tape.parts) == Array(draft.parts), "\(line)") }
        // `actor` and `source` are in the parts compared above.
        #expect(tape.type == draft.type && tape.stream == draft.stream, "\(line)")
        #expect(tape.effective == draft.effective && tape.effectiveGiven == draft.effectiveGiven, "\(line)")
        #expect(tape.expectedVersion == draft.expectedVersion && tape.schemaVersion == draft.schemaVersion, "\(line)")
        #expect(tape.line == draft.line && tape.clientId == draft.clientId, "\(line)")
        if draft.clientId { #expect(tape.id == draft.id, "\(line)") }
    }

    @Test func preparesTheCommonLinesAsTheDraftDoes() throws {
        let lines = [
            #"{"id":"a-1","type":"project.signed","stream":"project/medela","effective":"2021-07-06","actor":"clerk-7","source":"article p.3","data":{"investor":{"zh":"美德乐","en":"Medela"},"sector":"medical_devices","origin":"CH","registeredForeignCapitalUsd":30000000}}"#,
            #"{"type":"road.delivered","stream":"road/xujiaguan","data":{"name":{"zh":"徐家观路"},"lengthM":1250.5},"expectedVersion":0,"schemaVersion":1}"#,
            #"{"data":{"estate":{"zh":"澄阳"},"units":120},"stream":"housing/chengyang","type":"housing.batch_handed_over","effective":"2022-01-01T09:30:00+08:00","seq":9,"hash":"x","prev":null,"recorded":1,"version":[]}"#,
            #" {"id":"b-2", "type":"project.signed", "stream":"project/baweitong-hq", "schemaVersion":1, "data":{"investor":{"zh":"八维通"},"sector":"smart_mobility","foreignCapitalUsd":0}} "#,
            // Escapes, as Python's json.dumps writes Chinese, quotes and new lines.
            #"{"type":"project.signed","stream":"project\/x","actor":"clerk \"7\"","source":"\u76f8\u57ce\u53d1\u5e03\np.3","data":{"investor":{"zh":"\u516b\u7ef4\u901a","en":"Ba\/Wei"},"sector":"other"}}"#,
        ]
        for line in lines {
            let tape = try #require(fromTape(line), "declined: \(line)")
            expectSame(tape, try fromDraft(line).get(), line)
        }
    }

    /// A thread preparing a big batch checks lines against a catalog of its own: it gives the
    /// same events as the program's catalog, and it is the one used (its type compiles; a type
    /// no line names does not).
    @Test func aCatalogOfItsOwnPreparesTheSameEvents() throws {
        let own = EventCatalog.embedded()
        #expect(own !== EventCatalog.shared)
        let line = #"{"id":"c-3","type":"road.delivered","stream":"road/xujiaguan","data":{"name":{"zh":"徐家观路"},"lengthM":1250.5}}"#
        #expect(try #require(own.types["road.delivered"]).isCompiled == false)
        let prepared = try #require(fromTape(line, catalog: own))
        expectSame(prepared, try #require(fromTape(line)), line)
        #expect(try #require(own.types["road.delivered"]).isCompiled)
        #expect(try #require(own.types["project.signed"]).isCompiled == false)
        // A line its schema refuses is declined with either catalog.
        let bad = #"{"id":"c-4","type":"road.delivered","stream":"road/xujiaguan","data":{"name":{"zh":"徐家观路"},"lengthM":"long"}}"#
        #expect(fromTape(bad, catalog: own) == nil && fromTape(bad) == nil)
    }

    /// Lines the tape declines (escaped keys, corrections, bad input) go the draft's way; on
    /// good and bad lines alike, a tape event is always the draft's event.
    @Test func declinesWhatTheDraftMustDecideOrWord() throws {
        let lines = [
            #"{"type":"project.signed","stream":"project/x","data":{"investor":{"z\u0068":"x"},"sector":"other"}}"#,  // an escaped key
            #"{"type":"project.signed","stream":"project/x","data":{"investor":{"zh":"\ud800"},"sector":"other"}}"#,  // a lone surrogate
            #"{"type":"project.signed","stream":"project/x","id":"a\"b","data":{"investor":{"zh":"x"},"sector":"other"}}"#,  // a quote in an id
            #"{"type":"event.retracted","stream":"project/x","data":{"target":{"seq":1},"reason":"entered twice"}}"#,
            #"{"type":"project.signed","stream":"project/x","data":{"investor":{"zh":"x"},"sector":"unknown"}}"#,  // bad data
            #"{"type":"project.signed","stream":"Project/x","data":{"investor":{"zh":"x"},"sector":"other"}}"#,  // bad stream
            #"{"type":"project.signed","stream":"project/x","data":{"investor":{"zh":"x"},"sector":"other"},"colour":"red"}"#,
            #"{"type":"project.signed","stream":"project/x","effective":"2021-02-30","data":{"investor":{"zh":"x"},"sector":"other"}}"#,
            #"{"type":"project.signed","stream":"project/x","schemaVersion":9,"data":{"investor":{"zh":"x"},"sector":"other"}}"#,
            #"{"type":"project.signed","stream":"project/x","expectedVersion":-1,"data":{"investor":{"zh":"x"},"sector":"other"}}"#,
            #"{"type":"nope.nope","stream":"project/x","data":{}}"#,
            #"{"type":"project.signed","stream":"project/x","id":"has space","data":{"investor":{"zh":"x"},"sector":"other"}}"#,
            #"{"type":"project.signed","stream":"project/x","data":{"investor":{"zh":"x"},"sector":"other"}"#,  // cut short
            #"{"type":"project.signe","stream":"project/x","data":{}}"#,  // a type name's prefix
            #"{"type":"project.signedx","stream":"project/x","data":{"investor":{"zh":"x"},"sector":"other"}}"#,
        ]
        for line in lines {
            #expect(fromTape(line) == nil, "prepared from the tape: \(line)")
        }
    }

    /// The tape tells the envelope's members apart by length and first byte before comparing
    /// them: a name that shares both with one of them is still an unknown member.
    @Test(arguments: ["actos", "dat", "datA", "effectivo", "expectedVersioN", "iD", "ix", "schemaversion", "sxurce", "strexm",
                      "tyqe", "s", ""])
    func declinesMembersThatAreNearlyTheEnvelopes(name: String) throws {
        let line = #"{"type":"project.signed","stream":"project/x","data":{"investor":{"zh":"x"},"sector":"other"},"\#(name)":"1"}"#
        #expect(fromTape(line) == nil, "prepared from the tape: \(line)")
        #expect(throws: LedgerError.self) { try fromDraft(line).get() }
    }

    /// Generated lines with random fields changed: whenever the tape prepares a line, the
    /// draft prepares the same event from it.
    @Test func neverDisagreesWithTheDraftOnRandomLines() throws {
        var random = SeededGenerator(state: 0xE7E7)
        let variants: [(String, [String])] = [
            ("type", ["\"project.signed\"", "\"road.delivered\"", "\"Project.signed\"", "7"]),
            ("stream", ["\"project/p1\"", "\"road/r-2.b\"", "\"project\"", "\"project/\""]),
            ("effective", ["\"2021-05-18\"", "\"2021-05-18T10:00:00Z\"", "\"2021-13-01\"", "20210518"]),
            ("actor", ["\"clerk-7\"", "\"\"", "null", #""clerk \"7\"\n""#, #""\u674e\u56db""#, #""\ud83d\ude00""#, #""\ud83d""#]),
            ("expectedVersion", ["0", "3", "-1", "1.5", "\"3\""]),
            ("schemaVersion", ["1", "2", "0", "1001"]),
            ("data", [#"{"investor":{"zh":"晟盈","en":"Shengying"},"sector":"semiconductor","totalInvestmentCny":1200000000}"#,
                      #"{"name":{"zh":"徐家观路"},"lengthM":800}"#, #"{"name":{"en":"only english"}}"#,
                      #"{"investor":{"zh":"x"},"sector":"other","origin":"CN","receivedForeignCapitalUsd":5}"#, "[]",
                      #"{"investor":{"zh":"\u664f\u76c8","en":"Sheng\"ying\"\t"},"sector":"semiconductor"}"#,
                      #"{"name":{"zh":"\u5f90\u5bb6\u89c2\u8def\/\b"},"lengthM":800}"#]),
        ]
        let badIds = [#""""#, #""a b""#, #""é""#, "7", "\"" + String(repeating: "x", count: 129) + "\""]
        var prepared = 0
        for round in 0..<2000 {
            let id = Int.random(in: 0..<8, using: &random) > 0 ? #""r-\#(round)""# : badIds.randomElement(using: &random)!
            var members = [#""id":"# + id]
            for (key, values) in variants where Int.random(in: 0..<5, using: &random) > 0 {
                // Mostly the first (good) value, so that many lines get through.
                let value = Int.random(in: 0..<3, using: &random) > 0 ? values[0] : values.randomElement(using: &random)!
                members.append("\"\(key)\":" + value)
            }
            let line = "{" + members.shuffled(using: &random).joined(separator: ",") + "}"
            guard let tape = fromTape(line) else { continue }
            prepared += 1
            switch fromDraft(line) {
            case .success(let draft): expectSame(tape, draft, line)
            case .failure(let error): Issue.record("the tape prepared a line the draft refuses (\(error.message)): \(line)")
            }
        }
        #expect(prepared > 200)
    }
}
