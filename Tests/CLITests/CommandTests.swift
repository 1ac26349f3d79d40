import Foundation
import Testing
import TestSupport

@Suite struct CommandTests {
    let dir = TemporaryDirectory()
    var ledger: String { dir.path + "/ledger" }

    @Test func initIsIdempotentAndTheEnvironmentVariableNamesTheLedger() throws {
        #expect(try CLI.run(["init", "--ledger", ledger]).stdout.contains("created"))
        #expect(try CLI.run(["init", "--ledger", ledger]).stdout.contains("already exists"))
        let stats = try CLI.run(["stats", "--json"], environment: ["CIVIC_LEDGER_PATH": ledger])
        #expect(stats.status == 0)
        #expect(try CLI.jsonLines(stats.stdout)[0]["events"] as? Int == 0)
    }

    @Test func singleAppendPrintsJSONForScriptsAndRetriesAreIdempotent() throws {
        let arguments = ["append", "--ledger", ledger, "--create", "--json", "--type", "road.delivered", "--stream", "road/xujiaguan",
                         "--effective", "2021-10-15", "--id", "road-xujiaguan", "--data", #"{"name":{"zh":"徐家观路"}}"#]
        let first = try CLI.jsonLines(try CLI.run(arguments).stdout)[0]
        #expect(first["status"] as? String == "appended")
        #expect(first["seq"] as? Int == 1 && first["version"] as? Int == 1 && first["stream"] as? String == "road/xujiaguan")
        #expect((first["hash"] as? String)?.count == 64)
        let again = try CLI.jsonLines(try CLI.run(arguments).stdout)[0]
        #expect(again["status"] as? String == "existing")
        #expect(again["hash"] as? String == first["hash"] as? String)
    }

    @Test func dataCanComeFromAFile() throws {
        let file = dir.path + "/data.json"
        try #"{"estate":{"zh":"相城经开区安置房"},"units":2312}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try CLI.run(["append", "--ledger", ledger, "--create", "--type", "housing.batch_handed_over",
                                  "--stream", "housing/zone-2021", "--data", "@" + file])
        #expect(result.status == 0)
        let shown = try CLI.jsonLines(try CLI.run(["show", "1", "--json", "--ledger", ledger]).stdout)[0]
        #expect((shown["data"] as? [String: Any])?["units"] as? Int == 2312)
    }

    @Test func logJSONRoundTripsThroughABatchIntoANewLedger() throws {
        let batch = """
            {"id":"p1","type":"project.signed","stream":"project/medela","effective":"2021-06-01","data":{"investor":{"zh":"美德乐"},"sector":"medical_devices"}}
            {"id":"p2","type":"project.signed","stream":"project/baweitong-hq","effective":"2022-01-14","actor":"clerk","source":"article","data":{"investor":{"zh":"八维通"},"sector":"smart_mobility","headquarters":true}}
            """
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--batch", "-"], stdin: batch).status == 0)
        let log = try CLI.run(["log", "--json", "--ledger", ledger]).stdout
        #expect(try CLI.jsonLines(log).map { $0["seq"] as? Int } == [1, 2])
        let copy = dir.path + "/copy"
        let replay = try CLI.run(["append", "--ledger", copy, "--create", "--batch", "-", "--json"], stdin: log)
        #expect(replay.status == 0, "\(replay.stderr)")
        let original = try CLI.jsonLines(log).map { $0["data"] as? [String: Any] }.map { $0.map(NSDictionary.init) }
        let copied = try CLI.jsonLines(try CLI.run(["log", "--json", "--ledger", copy]).stdout).map { $0["data"] as? [String: Any] }.map { $0.map(NSDictionary.init) }
        #expect(original == copied)
        let text = try CLI.run(["log", "--ledger", ledger, "--stream", "project/medela"]).stdout
        let columns = text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(columns == [["1", "2021-06-01", "project.signed", "project/medela", "v1", "p1"]])
    }

    @Test func verifyFailsWithExitOneWhenAByteOfTheFileChanges() throws {
        let batch = (1...50).map { #"{"id":"e\#($0)","type":"road.delivered","stream":"road/r\#($0 % 3)","data":{"name":{"zh":"MARK\#($0)X"}}}"# }
            .joined(separator: "\n")
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--batch", "-"], stdin: batch).status == 0)
        #expect(try CLI.run(["verify", "--ledger", ledger]).status == 0)
        // Change one byte of event 17's record inside data.mdb.
        let file = ledger + "/data.mdb"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        let marker = Data("MARK17X".utf8)
        let range = try #require(bytes.range(of: marker))
        bytes[range.lowerBound + 4] = UInt8(ascii: "9")
        try bytes.write(to: URL(fileURLWithPath: file))
        let result = try CLI.run(["verify", "--ledger", ledger])
        #expect(result.status == 1)
        #expect(result.stdout.contains("seq 17"))
    }

    @Test func expectHeadCatchesALedgerThatNoLongerExtendsIt() throws {
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--type", "road.delivered", "--stream", "road/a", "--data", #"{"name":{"zh":"路"}}"#]).status == 0)
        let stats = try CLI.jsonLines(try CLI.run(["stats", "--json", "--ledger", ledger]).stdout)[0]
        let head = "1:\(stats["headHash"] as! String)"
        #expect(try CLI.run(["verify", "--ledger", ledger, "--expect-head", head]).status == 0)
        let other = "1:" + String(repeating: "ab", count: 32)
        let result = try CLI.run(["verify", "--ledger", ledger, "--expect-head", other, "--json"])
        #expect(result.status == 1)
        #expect(try CLI.jsonLines(result.stdout)[0]["firstBadSeq"] as? Int == 1)
    }
}
